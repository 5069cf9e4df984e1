#!/usr/bin/env bash
# bullwatch against real Alertmanagers (Debian's prometheus-alertmanager,
# installed by scripts/deps.sh), two of them on loopback ports, each with
# resolve_timeout 15 s, and a loopback receiver for what they notify:
#  A. an alert bullwatch holds firing for 3 x resolve_timeout (45 s) stays
#     active the whole time in both Alertmanagers' /api/v2/alerts (bullwatch
#     re-pushes it every resend_interval with endsAt ahead), and neither
#     tells its receiver RESOLVED meanwhile;
#  B. once the condition clears, it leaves both within one evaluation, and
#     the receivers are told RESOLVED;
#  C. what Alertmanager shows: labels from the alert's identity, an http
#     generatorURL from generator_url, the `bullwatch dlq list` command and
#     the value in the annotations;
#  D. one Alertmanager down: the pushes for it coalesce (at most one pending
#     row per alert and Alertmanager); back up, it gets the alert again
#     within a resend interval.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh" # receiver
AM=$(command -v prometheus-alertmanager || command -v alertmanager || true)
[ -n "$AM" ] || die "prometheus-alertmanager is not installed (scripts/deps.sh installs it)"
start_redis
RESOLVE=15 # s: Alertmanager's resolve_timeout here

declare -A AM_PID AM_PORT
am_start() { # n: Alertmanager n on its port (chosen once), its own storage
    local n=$1 port=${AM_PORT[$1]:-$(free_port)}
    AM_PORT[$n]=$port
    cat >"$T_DIR/am$n.yml" <<YML
global:
  resolve_timeout: ${RESOLVE}s
route:
  receiver: hook
  group_by: ['alertname', 'queue']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$RPORT/am$n
        send_resolved: true
YML
    rm -rf "$T_DIR/am$n.data"
    "$AM" --config.file="$T_DIR/am$n.yml" --storage.path="$T_DIR/am$n.data" \
        --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
        >"$T_DIR/am$n.log" 2>&1 &
    AM_PID[$n]=$!
    T_PIDS+=($!)
    wait_for 20 curl -sf "http://127.0.0.1:$port/-/ready" || die "alertmanager $n did not start: $(tail -3 "$T_DIR/am$n.log")"
}
# active N QUEUE: Alertmanager N shows an active alert 'dead' for QUEUE
active() {
    curl -sf "http://127.0.0.1:${AM_PORT[$1]}/api/v2/alerts" -o "$T_DIR/alerts$1.json" &&
        node -e '
        const a = require(process.argv[1]).filter(x => x.labels.alertname === "dead" && x.labels.queue === process.argv[2]);
        process.exit(a.length === 1 && a[0].status.state === "active" ? 0 : 1)' "$T_DIR/alerts$1.json" "$2"
}
none() { # N QUEUE: no alert for QUEUE
    curl -sf "http://127.0.0.1:${AM_PORT[$1]}/api/v2/alerts" -o "$T_DIR/alerts$1.json" &&
        node -e '
        const a = require(process.argv[1]).filter(x => x.labels.queue === process.argv[2]);
        process.exit(a.length === 0 ? 0 : 1)' "$T_DIR/alerts$1.json" "$2"
}
both_active() { active 1 "$1" && active 2 "$1"; }
both_none() { none 1 "$1" && none 2 "$1"; }
told() { # N STATUS: Alertmanager N's receiver got a notification with that status
    node -e '
        const fs = require("fs"), [log, path, st] = process.argv.slice(1);
        const l = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map(JSON.parse) : [];
        process.exit(l.some(r => r.path === path && JSON.parse(r.body).status === st) ? 0 : 1)' \
        "$T_DIR/amr.log" "/am$1" "$2"
}

receiver amr --max-seconds 600
am_start 1
am_start 2
write_ini "$T_DIR/agent.ini" "[sink am]
type = alertmanager
mode = api
url = http://127.0.0.1:${AM_PORT[1]}, http://127.0.0.1:${AM_PORT[2]}/
resend_interval = 5s
generator_url = http://bullwatch.example/alerts
[rule dead]
queues = qam*
expr = dlq_size > 0
summary = {queue}: {value} dead jobs
runbook = https://runbooks.example/dead"
"$BW" check-config -c "$T_DIR/agent.ini" >"$T_DIR/cc.out" || die "check-config refused the config"
start_agent "$T_DIR/agent.ini" "$T_DIR/agent.log"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue qam1 --jobs 3 --out "$T_DIR/d.json" \
    >"$T_DIR/d.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d.out")"

# ---- A: held firing for 3 x resolve_timeout ----
check "the alert reaches both Alertmanagers" wait_for 20 both_active qam1
gaps=0
end=$((SECONDS + 3 * RESOLVE))
samples=0
while [ $SECONDS -lt $end ]; do
    for n in 1 2; do
        active $n qam1 || { gaps=$((gaps + 1)); echo "# $(date +%T) not active in alertmanager $n" >&2; }
    done
    samples=$((samples + 1))
    sleep 1
done
check "held for $((3 * RESOLVE)) s (3 x resolve_timeout): active in both at each of $samples samples ($gaps misses)" test "$gaps" = 0
check "... and neither Alertmanager told its receiver RESOLVED meanwhile" eval '! told 1 resolved && ! told 2 resolved'
check "... while they did tell it FIRING" eval 'told 1 firing && told 2 firing'
npush=$(sqlite3 "$T_DIR/bw.db" "SELECT COUNT(*) FROM outbox WHERE kind = 'repush' AND state = 'delivered'")
check "bullwatch re-pushed it (every 5 s, to both): $npush re-pushes delivered" test "$npush" -ge 10

# ---- C: what Alertmanager shows ----
check "labels: the alert's identity (alertname, endpoint, queue) and severity; generatorURL; annotations" node -e '
    const a = require(process.argv[1]).find(x => x.labels.queue === "qam1");
    const ok = a.labels.alertname === "dead" && a.labels.endpoint === "default" && a.labels.severity === "warning" &&
        a.generatorURL === "http://bullwatch.example/alerts?rule=dead&queue=qam1" &&
        a.annotations.dlq_command.startsWith("bullwatch dlq list '"'"'qam1'"'"' --since ") &&
        a.annotations.value === "3" && a.annotations.summary === "qam1: 3 dead jobs" &&
        a.annotations.runbook_url === "https://runbooks.example/dead" && /boom/.test(a.annotations.top_errors);
    if (!ok) console.error(JSON.stringify(a));
    process.exit(ok ? 0 : 1)' "$T_DIR/alerts1.json"

# ---- D: one Alertmanager down: coalesced, then caught up ----
{
    kill -9 "${AM_PID[2]}"
    wait "${AM_PID[2]}"
} 2>/dev/null
sleep 16 # three resend intervals and then some
pend=$(sqlite3 "$T_DIR/bw.db" "SELECT COUNT(*) FROM outbox WHERE sink = 'am' AND target = 1 AND state = 'pending'")
sup=$(sqlite3 "$T_DIR/bw.db" "SELECT COUNT(*) FROM outbox WHERE sink = 'am' AND target = 1 AND state = 'superseded'")
check "with Alertmanager 2 down, its pushes coalesce: $pend pending (<= 1), $sup superseded" test "$pend" -le 1 -a "$sup" -ge 1
check "... while Alertmanager 1 keeps it active" active 1 qam1
am_start 2 # the same port, empty storage
check "Alertmanager 2 back up: it has the alert again within a resend interval (+ retry backoff)" \
    wait_for 20 active 2 qam1

# ---- B: the condition clears ----
"$BW" dlq purge qam1 --all --yes -c "$T_DIR/agent.ini" >/dev/null || not_ok "purge exit $?"
t0=$(date +%s%3N)
check "purged: the alert leaves both Alertmanagers within one evaluation (poll 500 ms)" \
    wait_for 5 both_none qam1
echo "# left both Alertmanagers $(($(date +%s%3N) - t0)) ms after the purge"
check "... and both told their receiver RESOLVED" wait_for 10 eval 'told 1 resolved && told 2 resolved'
check "no push was refused (Alertmanager answers 4xx to a bad generatorURL or body)" \
    test "$(sqlite3 "$T_DIR/bw.db" "SELECT COUNT(*) FROM outbox WHERE state = 'gave_up'")" = 0
stop_agent || not_ok "agent exit $?"
