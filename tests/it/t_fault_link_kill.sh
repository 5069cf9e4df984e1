#!/usr/bin/env bash
# The agent's stream link is killed by Redis (CLIENT KILL ID) in the middle
# of a commit window, again and again, while a real workload runs.
#
# Why: the agent reads a window of XREAD batches (read_count = 1 here, so
# a window is many batches and a backlog of a few thousand entries takes
# long enough to read that the kills land inside windows; with 10 the
# backlog is read and committed before the first kill) and commits it at once; when the link dies the
# window is rolled back and read again from the committed cursor. Whatever
# was counted from the lost window (minute counts, the alert engine's
# windows) must not stay counted, or the re-read counts it twice.
#
# How: two queues (lk-a on BullMQ 6, lk-b on BullMQ 5) get a burst of jobs
# before the agent starts, so it starts behind (a backlog is read in full
# batches, so a window is open whenever it reads), and more jobs while it
# runs. Every time the agent's `bullwatch:stream` link (re)appears in CLIENT
# LIST, it is killed 5-40 ms later, 8 times (tests/js/linkkill.js); each
# time the killer notes whether the agent's committed cursor was behind the
# stream's end (the kill landed while a backlog was read: mid-window). The
# agent commits a window after 100 ms of full batches, so a link killed
# 5-40 ms into its life dies inside its first window while a backlog lasts.
#
# Afterwards, against the workloads' own truth (faultload.js):
#  - every dead job recorded exactly once;
#  - minute_counts SUM(added/completed/failed/retries) per queue exact;
#  - rule `failures[30m] >= N` (N = dead jobs per queue) fired on both
#    queues and `failures[30m] > N` never did (stored, in alert_state, or
#    in the engine's memory as its log tells), and the firing reached the
#    receiver once per queue; the same for `completed[30m] >= C` / `> C`
#    (C = completed jobs per queue).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
start_redis
receiver r
# dead jobs per queue: burst (40) + while the agent runs (20), as planned
# for faultload.js below and checked against BullMQ's own record
N=60
BURST=${BURST:-600} # jobs per queue in the burst
C=$((BURST - 40 + 80)) # completed jobs per queue: burst + live, as planned (checked below)
fault_ini "${READ_COUNT:-1}" 'lk-*' "$N" "[rule done]
queues = lk-*
expr = completed[30m] >= $C
repeat_interval = 24h
[rule overdone]
queues = lk-*
expr = completed[30m] > $C
repeat_interval = 24h"

# the burst, before the agent runs: a backlog of a few thousand entries
faultload "$T_DIR/b6.json" --bullmq 6 --queues lk-a --jobs $BURST --dead 40 --removed 5 --flaky 40 \
    --waves 1 --concurrency 50 &
B6=$!
faultload "$T_DIR/b5.json" --bullmq 5 --queues lk-b --jobs $BURST --dead 40 --removed 5 --flaky 40 \
    --waves 1 --concurrency 50 &
B5=$!
T_PIDS+=($B6 $B5)
wait $B6 || die "burst (bullmq 6) failed"
wait $B5 || die "burst (bullmq 5) failed"

# and more while it runs, started right after the first kill (node's start-up
# would otherwise delay the first kill past the backlog)
live() {
    faultload "$T_DIR/l6.json" --bullmq 6 --queues lk-a --jobs 100 --dead 20 --flaky 10 --waves 5 --wave-ms 400 &
    L6=$!
    faultload "$T_DIR/l5.json" --bullmq 5 --queues lk-b --jobs 100 --dead 20 --flaky 10 --waves 5 --wave-ms 400 &
    L5=$!
    T_PIDS+=($L6 $L5)
}

# the killer (tests/js/linkkill.js): 8 kills, each 5-40 ms into a new
# link's life; it runs before the agent starts, so the first kill lands
# while the burst is read
node "$NODE_DIR/js/linkkill.js" --redis "$REDIS_URL" --db "$T_DIR/bw.db" --queues lk-a,lk-b \
    --log "$T_DIR/kills.log" --kills 8 --min-ms 5 --max-ms 40 --timeout 40 --ready "$T_DIR/kill.ready" \
    >"$T_DIR/kill.out" 2>&1 &
KPID=$!
T_PIDS+=($KPID)
wait_for 10 test -s "$T_DIR/kill.ready" || die "linkkill.js did not start: $(tail -3 "$T_DIR/kill.out")"
start_agent "$T_DIR/agent.ini"
wait_for 20 test -s "$T_DIR/kills.log" # the first kill, then the live workload
live
wait $KPID || not_ok "linkkill.js failed: $(tail -3 "$T_DIR/kill.out")"
cat "$T_DIR/kill.out"
kills=$(cat "$T_DIR/kills.log" 2>/dev/null | grep -c .)
mid=$(cat "$T_DIR/kills.log" 2>/dev/null | grep -c "\"behind\":true")
check "the stream link was killed 8 times ($kills)" test "$kills" = 8
check "at least 4 kills landed while the agent was behind, mid-window ($mid)" test "$mid" -ge 4
wait $L6 || die "workload (bullmq 6) failed"
wait $L5 || die "workload (bullmq 5) failed"
check "the agent is still running" kill -0 "$AGENT_PID"
check "the agent catches up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
wait_for 10 test "$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")" = 0

check "the workloads' truth: $N dead and $C completed jobs per queue" node -e '
    const n = {}, c = {};
    for (const f of process.argv.slice(1, 5))
        for (const [q, v] of Object.entries(require(f).queues)) {
            n[q] = (n[q] || 0) + v.dead;
            c[q] = (c[q] || 0) + v.completed;
        }
    process.exit(["lk-a", "lk-b"].every(q => n[q] === +process.argv[5] && c[q] === +process.argv[6]) ? 0 : 1)' \
    "$T_DIR/b6.json" "$T_DIR/b5.json" "$T_DIR/l6.json" "$T_DIR/l5.json" "$N" "$C"
cf merge "$T_DIR/truth.json" "$T_DIR/b6.json" "$T_DIR/b5.json" "$T_DIR/l6.json" "$T_DIR/l5.json"
failures_json "$T_DIR/failures.json"
check "every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/truth.json" "$T_DIR/failures.json" lk-a,lk-b
sqlq "$T_DIR/agent.ini" "$T_DIR/mc.json" "$MC_SQL"
check "minute_counts (added, completed, failed, retries) equal the workloads' truth: nothing counted twice" \
    cf counts "$T_DIR/mc.json" "$T_DIR/b6.json" "$T_DIR/b5.json" "$T_DIR/l6.json" "$T_DIR/l5.json"
for q in lk-a lk-b; do
    reached_beyond "$q"
    # the same for completions, the most frequent event: a rolled-back
    # window nearly always holds some
    nf=$(n_transitions "$T_DIR/agent.ini" done $q firing)
    check "rule completed[30m] >= $C fired once on $q (firing transitions: $nf)" test "$nf" = 1
    nb=$(n_transitions "$T_DIR/agent.ini" overdone $q firing)
    check "rule completed[30m] > $C never fired on $q (firing transitions: $nb)" test "$nb" = 0
    lb=$(grep -c "alert overdone on '$q'" "$T_DIR/agent.log")
    check "... nor did the engine move it in memory (log lines 'alert overdone on': $lb)" test "$lb" = 0
done
sqlq "$T_DIR/agent.ini" "$T_DIR/tr.json" "$TR_SQL"
check "each firing transition delivered once, one webhook-id each" \
    cf deliveries "$T_DIR/r.log" "$T_DIR/tr.json" once
check "SIGTERM stops the agent with exit 0" stop_agent
