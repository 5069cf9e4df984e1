#!/usr/bin/env bash
# dlq purge on real BullMQ 5.71 and 6.7 failed sets: afterwards
# getJobCounts().failed is 0 and no key of a purged job remains; a locked
# (active) job is never touched; every purge is confirmed and audited.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
for v in 5 6; do
    q=pg$v
    node_js deadjobs.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --jobs 25 --out "$T_DIR/d$v.json" \
        >"$T_DIR/d$v.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d$v.out")"
    # give some jobs logs, as job.log() would
    for id in $(rcli zrange "bull:$q:failed" 0 4); do rcli rpush "bull:$q:$id:logs" "line" >/dev/null; done
    "$BW" dlq purge "$q" --all -c "$T_DIR/agent.ini" </dev/null >/dev/null 2>"$T_DIR/e$v"
    check "bullmq $v: purge without --yes off a terminal is refused (exit 2)" \
        bash -c "[ $? = 2 ] && grep -q 'needs --yes' '$T_DIR/e$v'"
    "$BW" dlq purge "$q" --all --yes --comment "it purge" -c "$T_DIR/agent.ini" >"$T_DIR/p$v.out" ||
        not_ok "bullmq $v: purge exit $?"
    c=$(node_js counts.js --redis "$REDIS_URL" --bullmq "$v" --queues "$q")
    check "bullmq $v: getJobCounts().failed is 0" node -e \
        'process.exit(JSON.parse(process.argv[1])[process.argv[2]].failed===0?0:1)' "$c" "$q"
    left=$(node -e 'console.log(require(process.argv[1]).dead.join(" "))' "$T_DIR/d$v.json" |
        tr ' ' '\n' | while read -r id; do rcli --scan --pattern "bull:$q:$id*"; done | grep -c . )
    check "bullmq $v: no key of a purged job remains (hash, logs)" test "$left" = 0
    check "bullmq $v: a removed event per job, prev failed" \
        test "$(rcli xrange "bull:$q:events" - + | grep -c '^removed$')" = 25
done
# a locked job is never touched, even when its id sits in the failed set
rcli hset bull:pg6:held name x data '{}' >/dev/null
rcli set bull:pg6:held:lock "some-worker-token" >/dev/null
rcli zadd bull:pg6:failed 1 held >/dev/null
"$BW" dlq purge pg6 held --yes -c "$T_DIR/agent.ini" >/dev/null 2>"$T_DIR/held.err"
check "a locked job is skipped (exit 3) and left intact" bash -c \
    "[ $? = 3 ] && grep -q 'locked by a worker' '$T_DIR/held.err' && [ \$(redis-cli -p $REDIS_PORT exists bull:pg6:held) = 1 ]"
# a job scheduler's current job is never purged (BullMQ refuses it too: -8)
(cd "$NODE_DIR" && node -e "
const {Queue}=require('bullmq6');
(async()=>{const q=new Queue('sch',{connection:{host:'127.0.0.1',port:$REDIS_PORT}});
 await q.upsertJobScheduler('every-minute',{every:60000},{name:'tick',data:{}});
 const d=[...await q.getWaiting(),...await q.getDelayed()];console.log(d[0].id);await q.close()})()") >"$T_DIR/sched.id" ||
    die "could not create a job scheduler"
sid=$(cat "$T_DIR/sched.id")
rcli zadd bull:sch:failed 1 "$sid" >/dev/null # as if its current job had died
"$BW" dlq purge sch "$sid" --yes -c "$T_DIR/agent.ini" >/dev/null 2>"$T_DIR/sched.err"
check "a job scheduler's current job is skipped and kept" bash -c \
    "[ $? = 3 ] && grep -q 'current job of a job scheduler' '$T_DIR/sched.err' && [ \$(redis-cli -p $REDIS_PORT exists 'bull:sch:$sid') = 1 ]"
"$BW" query actions -c "$T_DIR/agent.ini" --json >"$T_DIR/a.json"
check "purges are audited with their outcome" node -e '
    const a = require(process.argv[1]);
    process.exit(a.filter(x => x.verb === "purge" && x.state === "done" && x.done === 25).length === 2 &&
        a.filter(x => x.verb === "purge" && x.state === "partial" && x.skipped === 1).length === 2 ? 0 : 1);' "$T_DIR/a.json"
# --all and time windows are taken by the script from the failed set itself,
# batch by batch: locked jobs left in place must not stop or repeat it.
base=1700000000000
# dead_jobs Q N [SKIP]: jobs 1..N (but SKIP) in Q's failed set, finished at base+i
dead_jobs() {
    for i in $(seq 1 "$2"); do
        [ "$i" = "${3:-}" ] && continue
        printf "HSET bull:%s:%d name d data {} opts '{\"attempts\":1}' finishedOn %d\nZADD bull:%s:failed %d %d\n" \
            "$1" "$i" "$((base + i))" "$1" "$((base + i))" "$i"
    done | rcli >/dev/null
}
dead_jobs win 250
test "$(rcli hget bull:win:7 opts)" = '{"attempts":1}' || die "could not write the window's jobs"
rcli set bull:win:5:lock tok >/dev/null
rcli set bull:win:120:lock tok >/dev/null
"$BW" dlq purge win --until "$((base + 201))" --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/win.json" 2>"$T_DIR/win.err"
check "a window purge acts on exactly the window, skipping locked jobs (exit 3)" bash -c "[ $? = 3 ] && node -e '
    const j = require(process.argv[1]);
    process.exit(j.frozen === 200 && j.purged === 198 && j.skipped === 2 ? 0 : 1)' '$T_DIR/win.json'"
check "... the locked jobs and the jobs after the window stay" \
    test "$(rcli zcard bull:win:failed) $(rcli exists bull:win:5 bull:win:120 bull:win:201 bull:win:250)" = "52 4"
check "... and the jobs before it are gone" test "$(rcli exists bull:win:1 bull:win:119 bull:win:200)" = 0
# on a terminal a long purge draws a progress bar (paced here: 300 jobs at
# 150 a second take two seconds)
if command -v tmux >/dev/null; then
    dead_jobs slow 300
    TS="$T_DIR/tmux.sock"
    trap 'tmux -S "$TS" kill-server 2>/dev/null; cleanup' EXIT
    tmux -S "$TS" new-session -d -s pb -x 100 -y 10 \
        "'$BW' dlq purge slow --all --yes --rate 150 -c '$T_DIR/agent.ini'; echo exit=\$?; sleep 30"
    check "a purge on a terminal shows a progress bar while it runs" wait_for 10 bash -c \
        "tmux -S '$TS' capture-pane -p -t pb | grep -Eq '^purging \[#*-+\] +[0-9]+% [0-9]+/300 ' && ! tmux -S '$TS' capture-pane -p -t pb | grep -q exit="
    check "... and ends with the summary" wait_for 10 bash -c \
        "tmux -S '$TS' capture-pane -p -t pb | grep -q 'purged 300 of 300' && tmux -S '$TS' capture-pane -p -t pb | grep -q 'exit=0'"
    tmux -S "$TS" kill-server 2>/dev/null
else
    not_ok "tmux is needed (scripts/deps.sh installs it)"
fi
# a parent whose pending child a worker holds is not purged (nor the child);
# once the lock is gone, both go
rcli hset bull:lp:par name p data '{}' opts '{}' >/dev/null
rcli zadd bull:lp:failed 1 par >/dev/null
rcli sadd bull:lp:par:dependencies bull:lc:kid >/dev/null
rcli hset bull:lc:kid name k data '{}' opts '{}' parentKey bull:lp:par >/dev/null
rcli lpush bull:lc:active kid >/dev/null
rcli set bull:lc:kid:lock tok >/dev/null
"$BW" dlq purge lp par --yes -c "$T_DIR/agent.ini" >/dev/null 2>"$T_DIR/lp.err"
check "a parent with a locked pending child is skipped (exit 3), both kept" bash -c \
    "[ $? = 3 ] && grep -q 'locked by a worker' '$T_DIR/lp.err' && [ \$(redis-cli -p $REDIS_PORT exists bull:lp:par bull:lc:kid) = 2 ]"
rcli del bull:lc:kid:lock >/dev/null
"$BW" dlq purge lp par --yes -c "$T_DIR/agent.ini" >/dev/null 2>&1
check "... and purged with its child once the lock is gone" \
    test "$? $(rcli exists bull:lp:par bull:lp:par:dependencies bull:lc:kid) $(rcli llen bull:lc:active)" = "0 0 0"
# a pending tree too large to check in one call (150 children waiting for a
# grandchild each; one grandchild locked): checked child by child as it is
# removed, so part of the tree may go, but never the locked grandchild, its
# parent or the purged job; the parent's pending set stays true to what is left
rcli hset bull:bp:par name p data '{}' opts '{}' >/dev/null
rcli zadd bull:bp:failed 1 par >/dev/null
for i in $(seq 1 150); do
    printf "HSET bull:bc:%d name k data {} opts {} parentKey bull:bp:par\nSADD bull:bp:par:dependencies bull:bc:%d\nZADD bull:bc:waiting-children 1 %d\n" "$i" "$i" "$i"
    printf "HSET bull:bg:%d name g data {} opts {} parentKey bull:bc:%d\nSADD bull:bc:%d:dependencies bull:bg:%d\nLPUSH bull:bg:wait %d\n" "$i" "$i" "$i" "$i" "$i"
done | rcli >/dev/null
rcli set bull:bg:150:lock tok >/dev/null
timeout 60 "$BW" dlq purge bp --all --yes -c "$T_DIR/agent.ini" >/dev/null 2>"$T_DIR/bp.err"
check "a parent with a locked grandchild among 300 descendants is skipped (exit 3), told once" bash -c \
    "[ $? = 3 ] && [ \$(grep -c '^skipped par: .*locked by a worker' '$T_DIR/bp.err') = 1 ]"
check "... the parent, the locked grandchild and its parent stay, in their sets" \
    test "$(rcli exists bull:bp:par bull:bc:150 bull:bg:150) $(rcli sismember bull:bp:par:dependencies bull:bc:150) $(rcli sismember bull:bc:150:dependencies bull:bg:150) $(rcli zscore bull:bp:failed par)" = "3 1 1 1"
check "... and the parent's pending set lists exactly the children still there" bash -c \
    "[ \$(redis-cli -p $REDIS_PORT scard bull:bp:par:dependencies) = \$(redis-cli -p $REDIS_PORT --scan --pattern 'bull:bc:[0-9]*' | grep -vc ':dependencies') ]"
# a parent with 130 children that failed it (its unsuccessful set) and
# nothing else: its children are read a part at a time (100), and every one
# of them goes, none left orphaned
rcli hset bull:wd:par name p data '{}' opts '{}' >/dev/null
rcli zadd bull:wd:failed 1 par >/dev/null
for i in $(seq 1 130); do
    printf "HSET bull:wdc:%d name k data {} opts {} parentKey bull:wd:par\nZADD bull:wd:par:unsuccessful %d bull:wdc:%d\nZADD bull:wdc:failed %d %d\n" "$i" "$i" "$i" "$i" "$i"
done | rcli >/dev/null
timeout 60 "$BW" dlq purge wd --all --yes -c "$T_DIR/agent.ini" >"$T_DIR/wd.out" 2>&1
check "a parent with 130 failed children is purged with all of them" \
    test "$? $(rcli exists bull:wd:par bull:wd:par:unsuccessful) $(rcli zcard bull:wdc:failed) $(rcli --scan --pattern 'bull:wdc:[0-9]*' | wc -l) $(rcli xrange bull:wdc:events - + | grep -c '^removed$')" = "0 0 0 0 130"
# a parent whose tree takes several calls, followed in the window by a job
# that stays (a job scheduler's current job): the walk steps over both, the
# parent is finished by id, and the run ends
rcli hset bull:nl:P name p data '{}' opts '{}' >/dev/null
rcli zadd bull:nl:failed 1 P >/dev/null
for i in $(seq 1 250); do
    printf "HSET bull:nlc:%d name c data {} opts {} parentKey bull:nl:P\nHSET bull:nl:P:processed bull:nlc:%d ok\nZADD bull:nlc:completed 1 %d\n" "$i" "$i" "$i"
done | rcli >/dev/null
rcli hset bull:nl:repeat:s:9 name tick data '{}' opts '{}' rjk s >/dev/null
rcli zadd bull:nl:failed 2 repeat:s:9 >/dev/null
rcli zadd bull:nl:repeat 9 s >/dev/null
timeout 60 "$BW" dlq purge nl --all --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/nl.json" 2>"$T_DIR/nl.err"
check "a parent purged over several calls before a job that stays: done (exit 3)" bash -c "[ $? = 3 ] && node -e '
    const j = require(process.argv[1]);
    process.exit(j.frozen === 2 && j.purged === 1 && j.skipped === 1 ? 0 : 1)' '$T_DIR/nl.json'"
check "... the parent and its 250 children gone, the scheduler's job kept" \
    test "$(rcli exists bull:nl:P bull:nl:repeat:s:9) $(rcli zcard bull:nlc:completed) $(rcli --scan --pattern 'bull:nlc:[0-9]*' | wc -l)" = "1 0 0"
# an id given twice is one job, purged once
rcli hset bull:dup:7 name d data '{}' opts '{}' >/dev/null
rcli zadd bull:dup:failed 1 7 >/dev/null
"$BW" dlq purge dup 7 7 --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/dup.json" 2>&1
check "an id given twice is purged once, with one removed event" bash -c "node -e '
    const j = require(process.argv[1]);
    process.exit(j.frozen === 1 && j.purged === 1 ? 0 : 1)' '$T_DIR/dup.json' && [ \$(redis-cli -p $REDIS_PORT xlen bull:dup:events) = 1 ]"
# The window walk steps over jobs left in place by counting them; should one
# leave the set meanwhile, the count would step over a job never seen. Here
# the job left in place (a job scheduler's current job, 5th oldest) is taken
# by the purge of a parent listing it as a failed child (150th): the walk
# must still reach every job of the window (a sweep at the end). The
# scheduler's job stays recorded as skipped by its own check; it went as
# job 150's child (Job.remove with removeChildren does not ask children
# about job schedulers either).
dead_jobs sw 250 5
rcli hset bull:sw:repeat:s:77 name tick data '{}' opts '{}' rjk s >/dev/null
rcli zadd bull:sw:failed "$((base + 5))" repeat:s:77 >/dev/null
rcli zadd bull:sw:repeat 77 s >/dev/null
rcli hset bull:sw:150:failed bull:sw:repeat:s:77 "child failed" >/dev/null
"$BW" dlq purge sw --all --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/sw.json" 2>"$T_DIR/sw.err"
check "a job left in place that leaves the window meanwhile does not hide another (exit 3)" bash -c "[ $? = 3 ] && node -e '
    const j = require(process.argv[1]);
    process.exit(j.frozen === 250 && j.purged === 249 && j.skipped === 1 ? 0 : 1)' '$T_DIR/sw.json'"
check "... and the failed set is empty" test "$(rcli zcard bull:sw:failed)" = 0
# the removed events respect the queue's events limit (opts.maxLenEvents,
# trimmed approximately, in whole nodes of 100 entries, like BullMQ's MAXLEN ~)
rcli hset bull:tr:meta opts.maxLenEvents 100 >/dev/null
dead_jobs tr 300
"$BW" dlq purge tr --all --yes -c "$T_DIR/agent.ini" >/dev/null 2>&1
check "300 removed events leave at most 200 in a stream limited to 100" \
    test "$(rcli zcard bull:tr:failed) $(rcli xlen bull:tr:events | awk '{print ($1 >= 100 && $1 <= 200)}')" = "0 1"
# unexpected data in one job (its parent's pending set is a string) skips
# that job with a clear reason; the rest of the batch is purged
for i in 1 2 3; do
    rcli hset "bull:bd:$i" name b data '{}' opts '{}' >/dev/null
    rcli zadd bull:bd:failed "$i" "$i" >/dev/null
done
rcli hset bull:bd:2 parentKey bull:bdp:x >/dev/null
rcli hset bull:bdp:x name p data '{}' opts '{}' >/dev/null # (a parent whose hash is gone is left alone)
rcli set bull:bdp:x:dependencies not-a-set >/dev/null
"$BW" dlq purge bd --all --yes -c "$T_DIR/agent.ini" >"$T_DIR/bd.out" 2>"$T_DIR/bd.err"
check "a job with unexpected data is skipped with the reason, the others purged (exit 3)" bash -c \
    "[ $? = 3 ] && grep -q 'skipped 2: unexpected data in Redis' '$T_DIR/bd.err' && grep -q 'purged 2 of 3' '$T_DIR/bd.out'"
check "... it stays whole, with no removed event" test "$(rcli zrange bull:bd:failed 0 -1) $(rcli exists bull:bd:2 bull:bd:1 bull:bd:3) $(rcli xrange bull:bd:events - + | grep -c '^removed$')" = "2 1 2"
# a call that fails while the next one is on its way (the queue's meta is
# not a hash): both replies are read, so the connection stays in step and
# the count of newer dead jobs left alone is still read correctly
dead_jobs em 150
rcli set bull:em:meta not-a-hash >/dev/null
"$BW" dlq purge em --all --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/em.json" 2>"$T_DIR/em.err"
check "failed calls are reported (exit 3), the connection stays in step" bash -c "[ $? = 3 ] && grep -q 'WRONGTYPE' '$T_DIR/em.err' && node -e '
    const j = require(process.argv[1]);
    process.exit(j.purged === 0 && j.left_alone === 0 ? 0 : 1)' '$T_DIR/em.json'"
check "... and nothing was purged" test "$(rcli zcard bull:em:failed)" = 150
# Ctrl-C (SIGINT) during a purge: the calls on their way are finished and
# recorded, the action ends "stopped" (exit 3), and what it says it purged
# is exactly what left the failed set
dead_jobs ci 300
"$BW" dlq purge ci --all --yes --rate 100 --json -c "$T_DIR/agent.ini" >"$T_DIR/ci.json" 2>"$T_DIR/ci.err" &
cipid=$!
wait_for 10 bash -c "[ \$(redis-cli -p $REDIS_PORT zcard bull:ci:failed) -lt 300 ]" || not_ok "the paced purge did not start"
kill -INT "$cipid"
wait "$cipid"
circ=$?
check "SIGINT stops a purge: exit 3, told, recorded as stopped" bash -c "[ $circ = 3 ] && grep -q 'interrupted' '$T_DIR/ci.err' && '$BW' query actions -c '$T_DIR/agent.ini' --json | node -e '
    const a = JSON.parse(require(\"fs\").readFileSync(0, \"utf8\")).filter(x => x.queue === \"ci\");
    process.exit(a.length === 1 && a[0].state === \"stopped\" ? 0 : 1)'"
check "... what it purged is what left the failed set, and some stayed" node -e '
    const j = require(process.argv[1]);
    process.exit(j.purged + Number(process.argv[2]) === 300 && j.purged < 300 && j.purged > 0 ? 0 : 1)' \
    "$T_DIR/ci.json" "$(rcli zcard bull:ci:failed)"
