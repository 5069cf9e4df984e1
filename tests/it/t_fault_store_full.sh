#!/usr/bin/env bash
# The audit store's disk fills up while jobs die, then space returns.
#
# The store lives on its own 4 MB tmpfs. Once the agent runs, a filler file
# takes every free block, so SQLite cannot grow the WAL: every commit fails
# (SQLITE_FULL). The two queues are known to the agent before that (a
# warm-up run: 2 dead jobs each, recorded while there is space, so the agent
# is reading their streams, not waiting to record their initial gap). With
# the disk full a real BullMQ 6 workload (faultload.js) makes 46 more jobs
# die on each queue (92, over ~3 s), with retries and completions around
# them. Then the filler is removed. N = 48 dead jobs per queue in all.
#
# What must hold once space is back (the agent's promise: memory follows
# the store; a failed window is rolled back and read again, counted once):
#  - the agent never exited;
#  - every dead job is recorded exactly once (check_ingest.js);
#  - minute_counts SUM(added/completed/failed/retries) per queue equal the
#    workload's truth (failed = the jobs it made die);
#  - rule `failures[30m] >= 48` fired on each queue (one firing transition)
#    and rule `failures[30m] > 48` never did: the engine's windows counted
#    each death once, not once per failed attempt to commit it;
#  - each firing transition reached the receiver exactly once (and nothing
#    from the `> 48` rule did);
#  - the log says little about the store: one line when writes start
#    failing, one when they recover, at most a summary a minute; asserted
#    as fewer than 10 warning/error lines mentioning the store.
# The tmpfs needs mount(2) (CI runs as root); without it the test is
# skipped with the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

SD=$T_DIR/store
mkdir -p "$SD"
if ! merr=$(mount -t tmpfs -o size=4m tmpfs "$SD" 2>&1); then
    echo "ok - $T_NAME: SKIP: cannot mount a tmpfs here (${merr//$'\n'/ })"
    exit 0
fi
fs_cleanup() {
    [ -n "${AGENT_PID:-}" ] && kill -9 "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
    if [ "$T_FAILED" != 0 ] || [ "${KEEP:-0}" = 1 ]; then # the kept scratch dir keeps the store too
        mkdir -p "$T_DIR/store-copy" && cp "$SD"/bw.db* "$T_DIR/store-copy/" 2>/dev/null
    fi
    umount "$SD" 2>/dev/null || umount -l "$SD" 2>/dev/null
    cleanup
}
trap fs_cleanup EXIT

N=48 # dead jobs per queue, warm-up (2) + under the fault (46): the plan of faultload.js, checked against BullMQ's record below
start_redis
receiver r
fault_ini 10 'sf-*' "$N"
sed -i "s|^path = .*|path = $SD/bw.db|" "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
faultload "$T_DIR/warm.json" --bullmq 6 --queues sf-a,sf-b --jobs 6 --dead 2 --flaky 1 --waves 1
check "warm-up recorded while there is space" wait_for 20 agent_caught_up "$T_DIR/agent.ini"

# fill every free block of the tmpfs (dd stops at ENOSPC)
dd if=/dev/zero of="$SD/filler" bs=4k >/dev/null 2>&1
avail=$(df -k --output=avail "$SD" | tail -1 | tr -d ' ')
check "the store's disk is full (${avail} kB free)" test "$avail" -le 4
faultload "$T_DIR/sf.json" --bullmq 6 --queues sf-a,sf-b --jobs 80 --dead $((N - 2)) --removed 6 --flaky 10 \
    --waves 6 --wave-ms 500
check "the workload's truth: $N dead jobs per queue" node -e '
    const t = [1, 2].map(i => require(process.argv[i]).queues);
    const n = q => t[0][q].dead + t[1][q].dead;
    process.exit(n("sf-a") === +process.argv[3] && n("sf-b") === +process.argv[3] ? 0 : 1)' \
    "$T_DIR/warm.json" "$T_DIR/sf.json" "$N"
cf merge "$T_DIR/truth.json" "$T_DIR/warm.json" "$T_DIR/sf.json"
# the fault really happened: SQLite said so
check "writes failed while the disk was full" \
    wait_for 10 grep -qiE 'disk is full|SQLITE_FULL|database or disk' "$T_DIR/agent.log"
sleep 1 # a fault of fixed length: the disk stays full 1 s past the last death (retries fail too)
check "the agent keeps running while the disk is full" kill -0 "$AGENT_PID"
rm -f "$SD/filler"

check "after space returns the agent catches up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
# firing notifications are sent right after the committing window; give the
# outbox a moment to drain (bounded) before counting
wait_for 10 test "$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")" = 0
check "the agent kept running" kill -0 "$AGENT_PID"

failures_json "$T_DIR/failures.json"
check "every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/truth.json" "$T_DIR/failures.json" sf-a,sf-b
sqlq "$T_DIR/agent.ini" "$T_DIR/mc.json" "$MC_SQL"
check "minute_counts (added, completed, failed, retries) equal the workload's truth" \
    cf counts "$T_DIR/mc.json" "$T_DIR/warm.json" "$T_DIR/sf.json"
for q in sf-a sf-b; do
    reached_beyond "$q"
    rb=$(n_requests "$T_DIR/r.log" beyond $q alert.firing)
    check "the receiver got nothing of 'beyond' on $q ($rb)" test "$rb" = 0
done
sqlq "$T_DIR/agent.ini" "$T_DIR/tr.json" "$TR_SQL"
check "each firing transition delivered once, one webhook-id each" \
    cf deliveries "$T_DIR/r.log" "$T_DIR/tr.json" once
nlog=$(grep -cE '^[^ ]+ [WE] .*store' "$T_DIR/agent.log")
check "few log lines about the failing store: $nlog (< 10)" test "$nlog" -lt 10
check "SIGTERM stops the agent with exit 0" stop_agent
echo "# agent log: $(wc -l <"$T_DIR/agent.log") lines, $nlog about the store"
