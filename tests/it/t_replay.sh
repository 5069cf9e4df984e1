#!/usr/bin/env bash
# dlq replay against real BullMQ 5.71 and 6.7 workers: replayed dead jobs are
# taken by a worker that was already blocked waiting, on a paused queue only
# after resume (both versions: in the legacy `paused` list, which 5.x's
# resume renames to `wait` and 6.x's moves onto it), prioritized jobs
# keep their priority, filters touch exactly the matching jobs, jobs dying
# after a dry run's snapshot are left alone and reported, and every action
# is audited (the intent row even when the process dies right after it).
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
dead() { node_js deadjobs.js --redis "$REDIS_URL" --out "$T_DIR/d.json" "$@" >>"$T_DIR/dead.out" 2>&1 ||
    die "deadjobs.js failed: $(tail -3 "$T_DIR/dead.out")"; }
counts() { node_js counts.js --redis "$REDIS_URL" --bullmq "$1" --queues "$2"; }
field() { node -e 'const c=JSON.parse(process.argv[1]);console.log(c[process.argv[2]][process.argv[3]]||0)' "$1" "$2" "$3"; }
replay() { "$BW" dlq replay "$@" -c "$T_DIR/agent.ini"; }
for v in 5 6; do
    # 1) a worker already blocked waiting takes replayed jobs at once
    q=rp$v
    dead --bullmq "$v" --queue "$q" --jobs 30
    node_js worker.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --count 30 --until-idle-ms 20000 \
        >"$T_DIR/w$v.out" 2>"$T_DIR/w$v.err" &
    W=$!
    T_PIDS+=($W)
    wait_for 10 bash -c "'$BW' status -c '$T_DIR/agent.ini' --json | grep -q '\"name\":\"$q\".*\"workers\":1'"
    replay "$q" --all --yes --comment "it: v$v" >"$T_DIR/r$v.out" || not_ok "bullmq $v: replay exit $?"
    check "bullmq $v: a blocked worker completes all 30 replayed jobs within 2 s" \
        wait_for 2 bash -c "[ \$(grep -c '^completed ' '$T_DIR/w$v.out') = 30 ]"
    c=$(counts "$v" "$q")
    check "bullmq $v: getJobCounts().failed is 0 after the replay" test "$(field "$c" "$q" failed)" = 0
    wait "$W"

    # 2) a paused queue: nothing runs until resume, and nothing is lost on resume
    q=pz$v
    dead --bullmq "$v" --queue "$q" --jobs 12 --pause true
    replay "$q" --all --yes >/dev/null || not_ok "bullmq $v: paused replay exit $?"
    check "bullmq $v: on a paused queue the jobs wait in 'paused', none in 'wait'" \
        test "$(rcli llen "bull:$q:paused") $(rcli llen "bull:$q:wait")" = "12 0"
    (cd "$NODE_DIR" && node -e "const {Queue}=require('bullmq$v');(async()=>{const q=new Queue('$q',{connection:{host:'127.0.0.1',port:$REDIS_PORT}});await q.resume();await q.close()})()")
    node_js worker.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --count 12 --until-idle-ms 10000 \
        >"$T_DIR/p$v.out" 2>&1
    check "bullmq $v: after resume a worker completes all 12" test "$(grep -c '^completed ' "$T_DIR/p$v.out")" = 12

    # 3) priority kept; filters exact
    q=pr$v
    dead --bullmq "$v" --queue "$q" --jobs 10 --prio-every 2 --reason alpha
    dead --bullmq "$v" --queue "$q" --jobs 6 --reason "beta code"
    replay "$q" --failed-reason alpha --yes >/dev/null || not_ok "bullmq $v: filtered replay exit $?"
    check "bullmq $v: --failed-reason replays exactly the matching 10" test \
        "$(rcli zcard "bull:$q:failed")/$(rcli zcard "bull:$q:prioritized")/$(rcli llen "bull:$q:wait")" = 6/5/5
    pid=$(rcli zrange "bull:$q:prioritized" 0 0)
    check "bullmq $v: a prioritized job keeps its priority (5)" node -e \
        'process.exit(Math.floor(Number(process.argv[1])/2**32)===5?0:1)' "$(rcli zscore "bull:$q:prioritized" "$pid")"
    sig=$("$BW" dlq list "$q" --json -c "$T_DIR/agent.ini" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).jobs[0].signature))')
    replay "$q" --signature "$sig" --yes >/dev/null || not_ok "bullmq $v: signature replay exit $?"
    check "bullmq $v: --signature replays exactly its jobs" test "$(rcli zcard "bull:$q:failed")" = 0
done

# 4) jobs dying after a dry run's snapshot are left alone and reported
q=sn6
dead --bullmq 6 --queue "$q" --jobs 10
snap=$(replay "$q" --all --dry-run --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.count===10?j.snapshot_at:"bad")})')
sleep 0.01 # the next deaths must finish after the snapshot millisecond
dead --bullmq 6 --queue "$q" --jobs 5
replay "$q" --all --yes --snapshot "$snap" --json >"$T_DIR/snap.json"
check "jobs that died after the dry run are left alone and reported" node -e \
    'const j=require(process.argv[1]);process.exit(j.replayed===10&&j.left_alone===5?0:1)' "$T_DIR/snap.json"
check "... and are still in the failed set" test "$(rcli zcard "bull:$q:failed")" = 5

# 5) safety: bulk needs --yes off a terminal; read-only refuses; partial exits 3
replay "$q" --all </dev/null 2>"$T_DIR/e1" >/dev/null
check "a bulk replay without --yes off a terminal is refused (exit 2)" bash -c "[ $? = 2 ] && grep -q 'needs --yes' '$T_DIR/e1'"
replay "$q" --all --yes --read-only 2>"$T_DIR/e2" >/dev/null
check "--read-only refuses (exit 2)" bash -c "[ $? = 2 ] && grep -q 'read-only' '$T_DIR/e2'"
one=$(rcli zrange "bull:$q:failed" 0 0)
replay "$q" "$one" no-such-job --yes >"$T_DIR/part.out" 2>"$T_DIR/part.err"
check "ids with one that is not dead: the rest replayed, exit 3, skip reported" bash -c \
    "[ $? = 3 ] && grep -q 'replayed 1 of 2' '$T_DIR/part.out' && grep -q 'skipped no-such-job' '$T_DIR/part.err'"

# 6) the breaker: replayed jobs failing again stop a paced replay
dead --bullmq 6 --queue br6 --jobs 100
node_js worker.js --redis "$REDIS_URL" --bullmq 6 --queue br6 --fail true --count 200 --until-idle-ms 4000 \
    >"$T_DIR/wb.out" 2>&1 &
WB=$!
T_PIDS+=($WB)
replay br6 --all --yes --rate 40 --stop-if-refail 50 --json >"$T_DIR/br.json" 2>"$T_DIR/br.err"
check "--stop-if-refail stops a replay whose jobs fail again (exit 3, reported)" bash -c \
    "[ $? = 3 ] && grep -q 'failed again' '$T_DIR/br.err'"
check "... before the whole selection was replayed" node -e \
    'const j=require(process.argv[1]);process.exit(j.replayed>=20&&j.replayed<100?0:1)' "$T_DIR/br.json"
kill "$WB" 2>/dev/null

# 7) audit
"$BW" query actions -c "$T_DIR/agent.ini" --json >"$T_DIR/actions.json"
check "every replay is audited with user, selection, frozen count and outcome" node -e '
    const a = require(process.argv[1]);
    const first = a[a.length - 1];
    const ok = a.length >= 9 && a.some(x => x.state === "stopped") && first.verb === "replay" && first.os_user && first.reason === "it: v5" &&
        first.frozen_count === 30 && first.state === "done" && first.done === 30 &&
        a.some(x => x.state === "partial" && x.skipped === 1);
    process.exit(ok ? 0 : 1);' "$T_DIR/actions.json"
BULLWATCH_TEST_DIE_AFTER_INTENT=1 replay "$q" --all --yes >/dev/null 2>&1
check "the intent row exists when the process dies right after writing it" \
    bash -c "'$BW' query actions -c '$T_DIR/agent.ini' --json | grep -q '\"state\":\"running\"'"
check "... and Redis was not touched" test "$(rcli zcard "bull:$q:failed")" = 4
start_agent "$T_DIR/agent.ini"
check "the next start marks it interrupted" wait_for 10 bash -c \
    "'$BW' query actions -c '$T_DIR/agent.ini' --json | grep -q '\"state\":\"interrupted\"'"
check "SIGTERM stops the agent with exit 0" stop_agent
# unexpected data in one job (its parent's unsuccessful set is a string)
# skips that job with a clear reason; the other is replayed
rcli hset bull:rbd:1 name b data '{}' opts '{}' parentKey bull:rbdp:x >/dev/null
rcli hset bull:rbd:2 name b data '{}' opts '{}' >/dev/null
rcli zadd bull:rbd:failed 1 1 2 2 >/dev/null
rcli hset bull:rbdp:x name p data '{}' opts '{}' >/dev/null
rcli set bull:rbdp:x:dependencies not-a-set >/dev/null
rcli zadd bull:rbdp:x:unsuccessful 1 bull:rbd:1 >/dev/null
"$BW" dlq replay rbd --all --yes -c "$T_DIR/agent.ini" >"$T_DIR/rbd.out" 2>"$T_DIR/rbd.err"
check "a job with unexpected data is not replayed, with the reason; the other is (exit 3)" bash -c \
    "[ $? = 3 ] && grep -q 'skipped 1: unexpected data in Redis' '$T_DIR/rbd.err' && [ \"\$(redis-cli -p $REDIS_PORT zrange bull:rbd:failed 0 -1) \$(redis-cli -p $REDIS_PORT lrange bull:rbd:wait 0 -1)\" = '1 2' ]"
check "... untouched: still its parent's failed child, its fields kept" \
    test "$(rcli zscore bull:rbdp:x:unsuccessful bull:rbd:1)" = 1
