#!/usr/bin/env bash
# Crash safety: the agent is killed with SIGKILL at several points while it
# ingests, and restarted. Rows and cursors commit together, so afterwards
# every dead job is recorded exactly once.
. "$(dirname "$0")/lib.sh"
start_redis
# small batches so that a kill lands mid-ingest
write_ini "$T_DIR/agent.ini" "read_count = 10"

# 1) kills while a live workload runs
start_agent "$T_DIR/agent.ini"
node_js workload.js --redis "$REDIS_URL" --bullmq 6 --jobs 3000 --tag live \
    --out "$T_DIR/live.json" >"$T_DIR/live.out" 2>&1 &
WL=$!
T_PIDS+=($WL)
kills=0
for i in 1 2 3 4 5 6; do
    sleep 0.$((RANDOM % 3 + 1))
    kill -9 "$AGENT_PID" 2>/dev/null && kills=$((kills + 1))
    wait "$AGENT_PID" 2>/dev/null
    start_agent "$T_DIR/agent.ini"
done
wait "$WL" || die "workload failed: $(tail -3 "$T_DIR/live.out")"
check "agent was SIGKILLed $kills times during a live workload" test "$kills" -ge 5

# 2) kills while draining a backlog written while the agent was down
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
node_js workload.js --redis "$REDIS_URL" --bullmq 5 --jobs 6000 --tag backlog \
    --out "$T_DIR/backlog.json" >"$T_DIR/backlog.out" 2>&1 ||
    die "workload failed: $(tail -3 "$T_DIR/backlog.out")"
# one entry per XREAD: the drain takes long enough to be cut several times.
# Each round kills the agent as soon as it has committed something new, so
# the kill lands while the backlog is being read.
write_ini "$T_DIR/agent.ini" "read_count = 1"
total=$(node -e 'console.log(require(process.argv[1]).dead.length)' "$T_DIR/backlog.json")
echo "SELECT COUNT(*) AS n FROM failures WHERE queue LIKE 'backlog-%';" >"$T_DIR/count.sql"
backlog_rows() {
    "$BW" query "$T_DIR/count.sql" -c "$T_DIR/agent.ini" --csv 2>/dev/null | tail -1 | grep -E '^[0-9]+$' || echo 0
}
grew() { [ "$(backlog_rows)" -gt "$1" ]; }
mid=0
rows=$(backlog_rows)
for i in 1 2 3 4; do
    start_agent "$T_DIR/agent.ini"
    wait_for 20 grew "$rows"
    kill -9 "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null
    rows=$(backlog_rows)
    if [ "$rows" -gt 0 ] && [ "$rows" -lt "$total" ]; then mid=$((mid + 1)); fi
done
check "at least 2 of 4 kills landed before the backlog was drained ($mid)" test "$mid" -ge 2

start_agent "$T_DIR/agent.ini"
check "restarted agent catches up" wait_for 60 agent_caught_up "$T_DIR/agent.ini"
failures_json "$T_DIR/failures.json"
check "live workload: every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/live.json" "$T_DIR/failures.json" live-a,live-b,live-c
check "backlog workload: every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/backlog.json" "$T_DIR/failures.json" \
    backlog-a,backlog-b,backlog-c
check "SIGTERM stops the agent with exit 0" stop_agent
