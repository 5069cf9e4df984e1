#!/usr/bin/env bash
# A replay into a mixed fleet mid-upgrade: 5.71 workers run the queue and
# paused it, and jobs added since wait in its `paused` list; then a 6.7
# `Queue` (a producer, a dashboard) starts and writes meta.version =
# bullmq:6.7.0. bullwatch must not read the fleet from that: the replayed
# jobs go to the legacy `paused` list too (lua/place.lua), which the 5.x
# resume() renames back to `wait` (a replay into `wait` was destroyed by
# that RENAME: 3 of 3 lost), status says they wait there, the audit rows say
# so, and after the 5.71 resume() every replayed job (and every job added
# while paused) completes exactly once. The same for originals re-added from
# a dead-letter queue.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
q=mixed
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 5 --queue "$q" --jobs 3 --out "$T_DIR/d.json" \
    >"$T_DIR/d.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d.out")"
dead=$(node -e 'console.log(require(process.argv[1]).dead.sort().join(" "))' "$T_DIR/d.json")
check "3 dead jobs from the 5.71 fleet" test "$(rcli zcard "bull:$q:failed")" = 3
# the 5.71 worker, blocked waiting; the queue paused by 5.71
node_js worker.js --redis "$REDIS_URL" --bullmq 5 --queue "$q" --count 7 --until-idle-ms 30000 \
    >"$T_DIR/w.out" 2>"$T_DIR/w.err" &
W=$!
T_PIDS+=($W)
wait_for 10 bash -c "'$BW' status -c '$T_DIR/agent.ini' --json | grep -q '\"name\":\"$q\".*\"workers\":1'" ||
    not_ok "the 5.71 worker did not connect"
ctl() { # ctl 5|6 'js using q' : a BullMQ Queue on the test queue
    (cd "$NODE_DIR" && node -e "
        const {Queue} = require('bullmq$1');
        (async () => { const q = new Queue('$q', {connection: {host: '127.0.0.1', port: $REDIS_PORT}});
          await q.waitUntilReady(); $2; await q.close(); })()")
}
ctl 5 'await q.pause()' || die "5.71 pause failed"
ctl 5 'await q.add("later", {n: 1}); await q.add("later", {n: 2})' || die "5.71 add failed"
check "the jobs added while paused wait in 'paused' (5.71)" test "$(rcli llen "bull:$q:paused")" = 2
ctl 6 'await q.getJobCounts()' || die "a 6.7 Queue could not start"
check "meta is paused and says bullmq 6.7.0 (written by the 6.7 Queue)" \
    test "$(rcli hget "bull:$q:meta" paused) $(rcli hget "bull:$q:meta" version)" = "1 bullmq:6.7.0"
"$BW" dlq replay "$q" --all --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/r.json" 2>"$T_DIR/r.err" ||
    not_ok "replay exit $?: $(cat "$T_DIR/r.err")"
check "all 3 replayed" node -e 'process.exit(require(process.argv[1]).replayed === 3 ? 0 : 1)' "$T_DIR/r.json"
check "the replayed jobs wait in the legacy 'paused' list too, none in 'wait'" \
    test "$(rcli lrange "bull:$q:paused" 0 2 | sort | tr '\n' ' ')$(rcli llen "bull:$q:paused") $(rcli llen "bull:$q:wait")" = "$dead 5 0"
# two wrappers of dead 'mixed' jobs in a dead-letter queue, re-added
ctl 5 "const d = new Queue('dead-letter', {connection: {host: '127.0.0.1', port: $REDIS_PORT}});
    for (const n of [1, 2]) await d.add('dead', {originalQueue: '$q', originalJobId: 'x' + n, jobName: 'charge',
      jobData: {n}, failedReason: 'boom'});
    await d.close()" || die "could not add the wrappers"
"$BW" dlq replay dead-letter --all --yes -c "$T_DIR/agent.ini" >"$T_DIR/rd.out" 2>&1 || not_ok "re-add exit $?: $(cat "$T_DIR/rd.out")"
check "the re-added originals wait in the legacy 'paused' list as well" \
    test "$(rcli lrange "bull:$q:paused" 0 1 | sort | tr '\n' ' ')$(rcli llen "bull:$q:paused") $(rcli llen "bull:$q:wait")" = "6 7 7 0"
"$BW" status -c "$T_DIR/agent.ini" --json >"$T_DIR/s.json"
check "status --json says 7 jobs wait in the legacy paused list" node -e '
    const q = require(process.argv[1]).queues.find(x => x.name === process.argv[2]);
    process.exit(q && q.paused_list === 7 && q.notes.length === 1 &&
        /^7 jobs wait in the legacy .paused. list; resume\(\)/.test(q.notes[0]) ? 0 : 1);' "$T_DIR/s.json" "$q"
check "status says it in words" bash -c \
    "'$BW' status -c '$T_DIR/agent.ini' | grep -q \"^note: $q: 7 jobs wait in the legacy 'paused' list\""
cat >"$T_DIR/placed.sql" <<'SQL'
SELECT j.detail, count(*) AS n FROM action_jobs j JOIN actions a ON a.id = j.action_id
WHERE a.verb = 'replay' AND j.outcome = 'replayed' GROUP BY j.detail ORDER BY j.detail;
SQL
check "the audit rows say where the jobs went: placed in paused, 3 times; the originals too" \
    test "$("$BW" query "$T_DIR/placed.sql" -c "$T_DIR/agent.ini" --csv | tail -n +2 | tr -d '\r' | tr '\n' ' ')" = \
    "placed in paused,3 \"re-added to $q as job 6, placed in paused\",1 \"re-added to $q as job 7, placed in paused\",1 "
ctl 5 'await q.resume()' || die "5.71 resume failed"
check "the 5.71 worker completes every replayed job after the 5.71 resume()" wait_for 20 bash -c \
    "[ \$(grep -c '^completed ' '$T_DIR/w.out') -ge 7 ]"
wait "$W"
check "... each exactly once, and the two added while paused, and the two re-added" \
    test "$(sed -n 's/^completed //p' "$T_DIR/w.out" | sort | tr '\n' ' ')" = "$dead 4 5 6 7 "
c=$(node_js counts.js --redis "$REDIS_URL" --bullmq 5 --queues "$q")
check "... and nothing is left anywhere: completed 7, failed 0, waiting 0" node -e '
    const c = JSON.parse(process.argv[1])[process.argv[2]];
    process.exit(c.completed === 7 && c.failed === 0 && (c.waiting || 0) === 0 && (c.paused || 0) === 0 ? 0 : 1);' "$c" "$q"
check "status has no note any more" bash -c \
    "'$BW' status -c '$T_DIR/agent.ini' --json | node -e '
        const q = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\")).queues.find(x => x.name === process.argv[1]);
        process.exit(q && q.notes.length === 0 ? 0 : 1);' '$q'"
