#!/usr/bin/env bash
# SQLite busy: another process holds the audit store's write lock for longer
# than busy_timeout while jobs die. The agent logs it, keeps running, and
# records every dead job once the lock is gone; nothing is lost or doubled.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
node_js trim.js --redis "$REDIS_URL" --bullmq 6 --queue busy --jobs 10 --check-trim false \
    --out "$T_DIR/b1.json" >"$T_DIR/b1.out" 2>&1 || die "trim.js failed: $(tail -3 "$T_DIR/b1.out")"
check "agent caught up before the lock" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
# hold the write lock for 7 s (busy_timeout is 5 s)
(echo "BEGIN IMMEDIATE;"; sleep 7; echo "COMMIT;") | sqlite3 "$T_DIR/bw.db" &
LOCKER=$!
T_PIDS+=($LOCKER)
sleep 0.3 # let sqlite3 take the lock before the jobs die
node_js trim.js --redis "$REDIS_URL" --bullmq 6 --queue busy --jobs 200 --append true --check-trim false \
    --out "$T_DIR/b2.json" >"$T_DIR/b2.out" 2>&1 || die "trim.js failed: $(tail -3 "$T_DIR/b2.out")"
check "the agent reports the busy store" wait_for 20 grep -q "database is locked" "$T_DIR/agent.log"
check "the agent keeps running while the store is locked" kill -0 "$AGENT_PID"
wait "$LOCKER"
check "agent catches up once the lock is gone" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
failures_json "$T_DIR/failures.json"
check "every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/b2.json" "$T_DIR/failures.json" busy
check "SIGTERM stops the agent with exit 0" stop_agent
