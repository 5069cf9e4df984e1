#!/usr/bin/env bash
# The CLI never surprises (issue 18, items 5 and 6), on a real redis-server
# with real BullMQ 6.7 dead jobs: one meaning per flag (--failed-reason
# filters, --comment is the audit text, --reason is refused in replay and
# purge); an unknown queue is exit 1 with the closest names; a missing
# ./agent.ini names the file and the real errno; query tables print ISO
# times while JSON keeps epoch ms; one JSON vocabulary; --json errors are a
# JSON object on stderr; status --json with Redis down says so on stdout;
# a queue name of 600 bytes is listed and readable; a failed delivery's log
# line names the sink and the rule.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
INI=$T_DIR/agent.ini
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue payments --jobs 4 --reason "timeout" \
    --out "$T_DIR/p1.json" >"$T_DIR/d1.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d1.out")"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue payments --jobs 3 --reason "card declined" \
    --out "$T_DIR/p2.json" >"$T_DIR/d2.out" 2>&1 || die "deadjobs.js failed"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue emails --jobs 2 \
    --out "$T_DIR/e.json" >"$T_DIR/d3.out" 2>&1 || die "deadjobs.js failed"
run() { # run CODE command...: exit code must be CODE; stdout in out, stderr in err
    local want=$1 rc
    shift
    "$@" >"$T_DIR/out" 2>"$T_DIR/err"
    rc=$?
    [ "$rc" = "$want" ] || { echo "# exit $rc, wanted $want: $(head -c 300 "$T_DIR/err")" >&2; return 1; }
}
count_dead() { rcli zcard bull:payments:failed; }

# --- item 5: one meaning per flag
check "dlq list --reason filters (4 of 7)" bash -c "
    '$BW' dlq list payments --reason timeout --json -c '$INI' | node -e '
    let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>{const j=JSON.parse(s);process.exit(j.jobs.length===4&&j.dead_total===7?0:1)})'"
check "dlq list --failed-reason filters the same 4" bash -c "
    '$BW' dlq list payments --failed-reason timeout --json -c '$INI' | node -e '
    let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>{const j=JSON.parse(s);process.exit(j.jobs.length===4&&j.jobs.every(x=>/^timeout/.test(x.failed_reason))?0:1)})'"
for verb in replay purge; do
    check "dlq $verb --reason is refused (exit 2) naming --failed-reason and --comment, nothing touched" bash -c "
        '$BW' dlq $verb payments --reason timeout --since 2h --yes -c '$INI' >/dev/null 2>'$T_DIR/rr.err'; rc=\$?
        [ \$rc = 2 ] && grep -q -- '--failed-reason' '$T_DIR/rr.err' && grep -q -- '--comment' '$T_DIR/rr.err' &&
        [ \$(redis-cli -p $REDIS_PORT zcard bull:payments:failed) = 7 ]"
done
check "dlq replay --failed-reason X --comment Y replays exactly the 4 matching" \
    run 0 "$BW" dlq replay payments --failed-reason timeout --since 2h --comment "gateway fixed" --yes -c "$INI"
check "... 3 dead remain, and the audit row carries the comment" bash -c "
    [ \$(redis-cli -p $REDIS_PORT zcard bull:payments:failed) = 3 ] &&
    '$BW' query actions --json -c '$INI' | node -e '
    let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>{const a=JSON.parse(s);process.exit(a.length===1&&a[0].reason===\"gateway fixed\"&&a[0].done===4?0:1)})'"

# --- item 6: an unknown queue is an error with the closest names
for verb in list replay purge; do
    extra=; [ $verb != list ] && extra="--all --yes"
    check "dlq $verb of an unknown queue: exit 1 with the closest names" bash -c "
        '$BW' dlq $verb paymnets $extra -c '$INI' >'$T_DIR/u.out' 2>'$T_DIR/u.err'; rc=\$?
        [ \$rc = 1 ] && grep -q \"no queue 'paymnets'\" '$T_DIR/u.err' && grep -q \"closest: 'payments'\" '$T_DIR/u.err' &&
        ! grep -q '0 dead' '$T_DIR/u.out'"
done

# --- errors name the file and the real errno
mkdir -p "$T_DIR/empty"
check "no ./agent.ini: exit 2 naming agent.ini and 'No such file or directory'" bash -c "
    cd '$T_DIR/empty' && env -u BULLWATCH_CONFIG '$BW' status 2>'$T_DIR/n.err'; [ \$? = 2 ] &&
    grep -q 'agent.ini: cannot open config file: No such file or directory' '$T_DIR/n.err' && ! grep -q Success '$T_DIR/n.err'"
check "a directory as the config: the real errno (Is a directory)" bash -c "
    '$BW' status -c '$T_DIR/empty' 2>'$T_DIR/n.err'; [ \$? = 2 ] && grep -q \"$T_DIR/empty.*Is a directory\" '$T_DIR/n.err'"

# --- query tables print ISO-8601 UTC, JSON keeps epoch ms
"$BW" agent -c "$INI" --drain >"$T_DIR/drain.out" 2>&1 || die "agent --drain failed"
run 0 "$BW" query failures --param queue=emails -c "$INI"
check "query table: finished_at as ISO-8601 UTC" grep -Eq '20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z' "$T_DIR/out"
check "... and no epoch ms in it (stream ids aside)" bash -c "! grep -Eq '(^| )1[0-9]{12}( |\$)' '$T_DIR/out'"
run 0 "$BW" query failures --param queue=emails --json -c "$INI"
check "query --json: finished_at stays epoch ms" node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(r.length === 2 && r.every(x => Number.isInteger(x.finished_at) && x.finished_at > 1e12) ? 0 : 1)' "$T_DIR/out"

# --- one JSON vocabulary
"$BW" dlq list emails --json -c "$INI" >"$T_DIR/l.json"
"$BW" status --json -c "$INI" >"$T_DIR/s.json"
"$BW" query failures --param queue=emails --json -c "$INI" >"$T_DIR/q.json"
check "job_id, finished_at, failed_reason in dlq list and query alike; waiting_children in status" node -e '
    const [l, s, q] = process.argv.slice(1).map(f => require(f));
    const keys = o => Object.keys(o);
    const same = ["job_id", "finished_at", "failed_reason", "signature", "attempts_made", "name"];
    const ok = same.every(k => keys(l.jobs[0]).includes(k) && keys(q[0]).includes(k)) &&
        !keys(l.jobs[0]).includes("id") && !keys(l.jobs[0]).includes("finished_on") &&
        s.queues.every(x => "waiting_children" in x.counts && !("waiting-children" in x.counts)) &&
        new Set(l.jobs.map(x => x.job_id)).size === 2 &&
        l.jobs.map(x => x.job_id).sort().join() === q.map(x => x.job_id).sort().join();
    process.exit(ok ? 0 : 1)' "$T_DIR/l.json" "$T_DIR/s.json" "$T_DIR/q.json"

# --- machine-readable errors with --json
"$BW" dlq list nosuch --json -c "$INI" >"$T_DIR/j.out" 2>"$T_DIR/j.err"
rc=$?
check "--json error: exit 1, stdout empty, stderr one JSON object with command, exit_code, message" node -e '
    const fs = require("fs"); const e = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
    const o = JSON.parse(e[0]);
    process.exit(+process.argv[3] === 1 && e.length === 1 && fs.readFileSync(process.argv[2], "utf8") === "" &&
        o.error.command === "dlq list" && o.error.exit_code === 1 && /no queue .nosuch./.test(o.error.message) ? 0 : 1)' \
    "$T_DIR/j.err" "$T_DIR/j.out" "$rc"
"$BW" dlq replay payments --reason x --json -c "$INI" >/dev/null 2>"$T_DIR/j.err"
check "--json usage error: exit_code 2 as JSON" node -e '
    const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(o.error.exit_code === 2 && /--comment/.test(o.error.message) ? 0 : 1)' "$T_DIR/j.err"

# --- status --json with Redis down
port=$(free_port)
printf '[redis]\nurl = redis://127.0.0.1:%s/0\nconnect_timeout = 1s\n[store]\npath = %s\n' "$port" "$T_DIR/down.db" >"$T_DIR/down.ini"
"$BW" status --json -c "$T_DIR/down.ini" >"$T_DIR/d.out" 2>"$T_DIR/d.err"
rc=$?
check "status --json, Redis down: exit 1 and a JSON object on stdout saying unreachable" node -e '
    const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.exit(+process.argv[2] === 1 && o.reachable === false && /refused/i.test(o.error) &&
        Array.isArray(o.queues) && o.queues.length === 0 && o.address.endsWith(process.argv[3] + "/0") ? 0 : 1)' \
    "$T_DIR/d.out" "$rc" "$port"

# --- a queue name of 600 bytes
LONG=$(printf 'L%.0s' $(seq 1 600))
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue "$LONG" --jobs 2 \
    --out "$T_DIR/long.json" >"$T_DIR/d4.out" 2>&1 || die "deadjobs.js (long name) failed"
"$BW" status --json -c "$INI" >"$T_DIR/s2.json"
check "status lists the 600-byte queue with its 2 failed" node -e '
    const s = require(process.argv[1]); const q = s.queues.find(x => x.name.length === 600);
    process.exit(q && q.counts.failed === 2 ? 0 : 1)' "$T_DIR/s2.json"
check "dlq list of the 600-byte queue shows its 2 dead" bash -c "
    '$BW' dlq list '$LONG' --json -c '$INI' | node -e '
    let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>process.exit(JSON.parse(s).jobs.length===2?0:1))'"

# --- a failed delivery's log line names the sink and the rule
rport=$(free_port)
write_ini "$T_DIR/alert.ini" "[sink ops-hook]
type = webhook
url = http://127.0.0.1:$rport/hook
secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
[rule emails_dead]
queues = emails
expr = dlq_size > 0"
start_agent "$T_DIR/alert.ini" "$T_DIR/alert.log"
check "the delivery failure names sink 'ops-hook' and rule 'emails_dead'" \
    wait_for 20 grep -q "alert notification [0-9]* (sink 'ops-hook' rule 'emails_dead' queue 'emails')" "$T_DIR/alert.log"
stop_agent || not_ok "agent exit on SIGTERM"
exit $T_FAILED
