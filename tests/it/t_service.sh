#!/usr/bin/env bash
# The agent as a service: /metrics (accepted by promtool; bullmq_job_count
# equal to getJobCounts() of real BullMQ 5.71 and 6.7 queues; counters that
# survive a restart), scraped by a real Prometheus; /livez and /readyz
# (not ready while Redis is down, ready again when it returns); SIGHUP
# reloads a changed rule and keeps the running config when the file is
# broken; a second agent on the same store exits 2 naming the first one's
# pid; a relative store path is relative to the config file.
. "$(dirname "$0")/lib.sh"
start_redis
HPORT=$(free_port)
ini() { # the agent's config, with the rule's expression $1
    write_ini "$T_DIR/agent.ini" "http = 127.0.0.1:$HPORT
[rule many]
queues = m*
expr = $1"
}
ini "failures[1h] > 100"
get() { curl -s -o "$T_DIR/$2" -w '%{http_code}' "http://127.0.0.1:$HPORT$1"; }
ready() { [ "$(get /readyz ready.txt)" = 200 ]; }
metrics() { [ "$(get /metrics metrics.txt)" = 200 ]; }
mval() { # NAME LABELS-JSON: the value in a fresh scrape
    metrics && node "$NODE_DIR/js/check_metrics.js" value "$T_DIR/metrics.txt" "$1" "$2"
}
# no queue under the prefix yet: status says so, names the prefixes that have
# queues, and that PostgreSQL-backed fleets are not watched
rcli hset acme:jobs:meta version bullmq:6.7.0 >/dev/null
"$BW" status -c "$T_DIR/agent.ini" >"$T_DIR/none.txt" 2>&1
check "status with no queue under the prefix says so and names the other prefix" \
    grep -q "no queue found under prefix 'bull' (queues exist under: acme); BullMQ 6 fleets that keep their queues in PostgreSQL are not watched" "$T_DIR/none.txt"
"$BW" status -c "$T_DIR/agent.ini" --json >"$T_DIR/none.json" 2>&1
check "... and status --json carries the same hint" node -e \
    'const s=require(process.argv[1]);process.exit(s.queues.length===0&&/under: acme/.test(s.hint)?0:1)' "$T_DIR/none.json"
rcli del acme:jobs:meta >/dev/null
for v in 5 6; do
    node_js deadjobs.js --redis "$REDIS_URL" --bullmq "$v" --queue "m$v" --jobs 5 --prio-every 2 \
        --out "$T_DIR/m$v.json" >"$T_DIR/m$v.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/m$v.out")"
done
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 5 --queue m5p --jobs 3 --pause true \
    --out "$T_DIR/m5p.json" >"$T_DIR/m5p.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/m5p.out")"
rcli rpush bull:m6:wait w1 w2 >/dev/null
rcli rpush bull:m5p:paused p1 >/dev/null
start_agent "$T_DIR/agent.ini"
check "/readyz is 200 once Redis and the store are there" wait_for 20 ready
check "/livez answers" test "$(get /livez live.txt)" = 200
check "the agent caught up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
metrics || die "no /metrics"
promtool check metrics <"$T_DIR/metrics.txt" >"$T_DIR/promtool.out" 2>&1
prc=$?
check "promtool parses /metrics (exit $prc: no parse error)" test "$prc" != 1
check "promtool's only lint complaint is BullMQ's own name bullmq_job_count" \
    node "$NODE_DIR/js/check_metrics.js" lint "$T_DIR/promtool.out"
node_js counts.js --redis "$REDIS_URL" --bullmq 6 --queues m6 >"$T_DIR/c6.json" || die "counts.js"
node_js counts.js --redis "$REDIS_URL" --bullmq 5 --queues m5,m5p >"$T_DIR/c5.json" || die "counts.js"
metrics
check "bullmq_job_count equals getJobCounts() of the 6.7 queue" \
    node "$NODE_DIR/js/check_metrics.js" counts "$T_DIR/metrics.txt" "$T_DIR/c6.json"
check "bullmq_job_count equals getJobCounts() of the 5.71 queues (paused too)" \
    node "$NODE_DIR/js/check_metrics.js" counts "$T_DIR/metrics.txt" "$T_DIR/c5.json"
check "5 dead jobs recorded on m6" test "$(mval bullwatch_dead_jobs_recorded_total '{"queue":"m6"}')" = 5
check "one bullwatch_build_info" grep -qE '^bullwatch_build_info\{version="[0-9.]+"\} 1$' "$T_DIR/metrics.txt"
check "at most 20 series per queue" node -e '
    const l = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(x => x.includes("queue=\"m6\""));
    process.exit(l.length > 0 && l.length <= 20 ? 0 : (console.log(l.length), 1))' "$T_DIR/metrics.txt"

# a real Prometheus scrapes it
PPORT=$(free_port)
cat >"$T_DIR/prom.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: bullwatch
    static_configs: [{targets: ['127.0.0.1:$HPORT']}]
YML
prometheus --config.file="$T_DIR/prom.yml" --storage.tsdb.path="$T_DIR/prom" \
    --web.listen-address="127.0.0.1:$PPORT" >"$T_DIR/prom.log" 2>&1 &
T_PIDS+=($!)
scraped() {
    curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=bullwatch_dead_jobs_recorded_total%7Bqueue%3D%22m6%22%7D" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).data.result;process.exit(r.length===1&&r[0].value[1]==="5"?0:1)})'
}
check "a real Prometheus scrapes the agent: its query API returns the series" wait_for 40 scraped

# counters survive a restart
check "SIGTERM stops the agent with exit 0" stop_agent
start_agent "$T_DIR/agent.ini"
wait_for 20 ready
check "after a restart the counter still says 5 (it comes from the store)" \
    test "$(mval bullwatch_dead_jobs_recorded_total '{"queue":"m6"}')" = 5

# one agent per store
"$BW" agent -c "$T_DIR/agent.ini" >"$T_DIR/second.log" 2>&1
rc=$?
check "a second agent on the same store exits 2" test "$rc" = 2
check "... naming the pid that holds it" grep -q "another agent (pid $AGENT_PID) is running" "$T_DIR/second.log"

# SIGHUP: a changed rule takes effect, state kept; a broken file is refused
state() { sqlite3 "$T_DIR/bw.db" "SELECT state FROM alert_state WHERE rule = 'many' AND queue = '$1'"; }
ini "failures[1h] >= 5"
kill -HUP "$AGENT_PID"
check "SIGHUP: the changed rule fires (5 deaths on m6)" wait_for 20 bash -c "[ \"\$(sqlite3 '$T_DIR/bw.db' \"SELECT state FROM alert_state WHERE rule = 'many' AND queue = 'm6'\")\" = firing ]"
check "the reload is logged" grep -q "reload: $T_DIR/agent.ini: 1 rule(s); state kept" "$T_DIR/agent.log"
ini "failures[1h] >= "
kill -HUP "$AGENT_PID"
check "a broken file: the reason with FILE:LINE, the running config kept" \
    wait_for 10 grep -qE "reload: $T_DIR/agent.ini:[0-9]+:[0-9]+: .*keeping the running configuration" "$T_DIR/agent.log"
check "the agent runs on with its rule still firing" bash -c "kill -0 $AGENT_PID && [ \"\$(sqlite3 '$T_DIR/bw.db' \"SELECT state FROM alert_state WHERE rule = 'many' AND queue = 'm6'\")\" = firing ]"

# /readyz follows Redis
rcli shutdown nosave >/dev/null 2>&1
check "/readyz is 503 while Redis is down, saying why" \
    wait_for 10 bash -c "[ \"\$(curl -s -o '$T_DIR/nr.txt' -w '%{http_code}' http://127.0.0.1:$HPORT/readyz)\" = 503 ] && grep -q 'unreachable' '$T_DIR/nr.txt'"
check "/livez still answers" test "$(get /livez live.txt)" = 200
start_redis "$REDIS_PORT"
check "/readyz is 200 again once Redis is back" wait_for 10 ready
check "SIGTERM stops the agent with exit 0" stop_agent

# a relative store path is relative to the config file, whatever the cwd
mkdir -p "$T_DIR/rel"
printf '[redis]\nurl = %s\n[store]\npath = rel.db\n' "$REDIS_URL" >"$T_DIR/rel/agent.ini"
(cd / && exec "$BW" agent -c "$T_DIR/rel/agent.ini" >"$T_DIR/rel.log" 2>&1) &
REL=$! # the agent itself (exec): stopped below, and by the cleanup if a check dies
T_PIDS+=($REL)
check "the store is created beside the config file" wait_for 10 test -f "$T_DIR/rel/rel.db"
check "and not in the working directory" test ! -e /rel.db
kill -TERM "$REL"
wait "$REL"
check "that agent stops on SIGTERM with exit 0" test $? = 0

# log_format = json: every line one JSON object (journald, Loki); a bad value is refused
printf '[redis]\nurl = %s\n[store]\npath = %s/json.db\n[agent]\nlog_format = json\n' "$REDIS_URL" "$T_DIR" >"$T_DIR/json.ini"
start_agent "$T_DIR/json.ini" "$T_DIR/json.log"
check "log_format = json: the agent logs JSON lines" wait_for 10 grep -q '"msg":"bullwatch agent starting' "$T_DIR/json.log"
stop_agent
check "every line is an object with time, level and msg" node -e '
    const l = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
    process.exit(l.length > 2 && l.every(x => { const o = JSON.parse(x); return o.time && o.level && typeof o.msg === "string"; }) ? 0 : 1)' "$T_DIR/json.log"
printf '[agent]\nlog_format = yaml\n' >"$T_DIR/badlog.ini"
"$BW" check-config -c "$T_DIR/badlog.ini" >/dev/null 2>"$T_DIR/badlog.err"
check "log_format = yaml is refused with FILE:LINE (exit 2)" bash -c "[ $? = 2 ] && grep -q 'badlog.ini:2: \[agent\] log_format must be text or json' '$T_DIR/badlog.err'"
