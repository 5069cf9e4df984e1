#!/usr/bin/env bash
# Retention of a large backlog in slices while the agent keeps recording
# new dead jobs from real BullMQ: 200,000 rows older than the retention
# period (as after an upgrade or a long downtime) are trimmed in bounded
# slices inside the agent's commit window; every dead job of the live
# workload is recorded, none lost; rows inside the period are kept; the log
# has one line when the backlog starts and one when it ends; `status` shows
# retention's state; the store's file gives the freed pages back.
. "$(dirname "$0")/lib.sh"
start_redis
ini=$T_DIR/agent.ini
write_ini "$ini" # [store] retention = 30d, the default
db=$T_DIR/bw.db
q() { sqlite3 "$db" "$1"; }
# a new store, made by the agent
start_agent "$ini"
check "the agent creates the store" wait_for 20 bash -c "[ \"\$(sqlite3 '$db' 'PRAGMA user_version' 2>/dev/null)\" -ge 8 ]"
check "stop" stop_agent
check "a new store uses auto_vacuum = incremental" test "$(q "PRAGMA auto_vacuum")" = 2
now=$(($(date +%s) * 1000))
old=$((now - 40 * 86400000))
n=200000
q "PRAGMA synchronous = OFF; BEGIN;
INSERT INTO texts (id, hash, body, last_at) VALUES (1, 0, '[\"at old (x.js:1)\"]', $old + ($n - 1) * 10);
INSERT OR IGNORE INTO endpoints (name) VALUES ('default');
INSERT INTO signatures (signature, signature_text) VALUES ('abcdefabcdef', 'old failure');
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 19)
INSERT INTO queue_names (queue) SELECT 'old-' || i FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < $n - 1)
INSERT INTO failure_log (queue_id, endpoint_id, job_id, finished_at, stream_seq, reason, sig_id,
    data, stack_id, recorded_gap)
SELECT (SELECT id FROM queue_names WHERE queue = 'old-' || (i % 20)),
       (SELECT id FROM endpoints WHERE name = 'default'), i, $old + i * 10, 0, 'old failure',
       (SELECT id FROM signatures WHERE signature = 'abcdefabcdef'), hex(randomblob(80)), 1,
       $old - ($old + i * 10) FROM k;
INSERT INTO failure_hours SELECT endpoint, queue, signature, finished_at / 3600000, COUNT(*),
    MIN(finished_at), MAX(finished_at), MAX(failed_reason)
FROM failures GROUP BY queue, finished_at / 3600000, signature, endpoint;
INSERT INTO failures (endpoint, queue, job_id, event_time, finished_on, failed_reason, recorded_at)
VALUES ('default', 'kept', 'k1', $((now - 86400000)), $((now - 86400000)), 'inside the period', 1);
COMMIT;" || die "cannot write the backlog"
check "the backlog is in the store" test "$(q "SELECT COUNT(*) FROM failures")" = $((n + 1))
size_before=$(stat -c %s "$db")

start_agent "$ini"
node_js workload.js --redis "$REDIS_URL" --bullmq 6 --jobs 3000 --tag ret \
    --out "$T_DIR/live.json" >"$T_DIR/live.out" 2>&1 &
WL=$!
T_PIDS+=($WL)
check "the backlog is trimmed while the workload runs" \
    wait_for 120 grep -q "retention: backlog trimmed" "$T_DIR/agent.log"
wait "$WL" || die "workload failed: $(tail -3 "$T_DIR/live.out")"
check "the agent catches up" wait_for 60 agent_caught_up "$ini"
check "no row older than the retention period is left" \
    test "$(q "SELECT COUNT(*) FROM failures WHERE queue LIKE 'old-%'")/$(q "SELECT COUNT(*) FROM failure_hours WHERE queue LIKE 'old-%'")" = 0/0
check "the old rows' stack trace is gone with them" test "$(q "SELECT COUNT(*) FROM texts WHERE body LIKE '%at old (x.js:1)%'")" = 0
check "the row inside the period is kept" test "$(q "SELECT COUNT(*) FROM failures WHERE queue = 'kept'")" = 1
failures_json "$T_DIR/failures.json"
check "every dead job of the live workload recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/live.json" "$T_DIR/failures.json" ret-a,ret-b,ret-c
check "one log line when the backlog starts" test "$(grep -c "retention: a backlog" "$T_DIR/agent.log")" = 1
check "one when it ends, none per slice" test "$(grep -c "retention:" "$T_DIR/agent.log")" = 2
slices=$(q "SELECT trimmed || ' rows, longest slice ' || CAST(max_slice_ms AS INTEGER) || ' ms' FROM store_state")
echo "# retention: $slices ($(grep "backlog trimmed" "$T_DIR/agent.log" | sed 's/.*trimmed: //'))"
check "status shows retention's state" bash -c "'$BW' status -c '$ini' | grep -q '^retention: up to date'"
check "SIGTERM stops the agent with exit 0" stop_agent
q "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
size_after=$(stat -c %s "$db")
echo "# store file: $((size_before / 1000000)) MB -> $((size_after / 1000000)) MB"
check "the file gave the freed pages back" test "$size_after" -lt $((size_before / 2))
