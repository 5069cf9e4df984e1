#!/usr/bin/env bash
# Stores made by earlier releases (schema 0001-0005, and 0009: the release
# before this one; failure rows as the agent writes them from real BullMQ
# jobs, with data, opts and stack traces) are migrated in place by the
# agent to 0010 (compact rows): every row is kept with every column
# (compared through the `failures` view), stack traces and opts are stored
# once per distinct value, the hourly summary counts every row, and the
# agent goes on recording from the stored cursors.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
db=$T_DIR/bw.db
q() { sqlite3 "$1" "$2"; }
node_js workload.js --redis "$REDIS_URL" --bullmq 6 --jobs 600 --tag mg \
    --out "$T_DIR/w1.json" >"$T_DIR/w1.out" 2>&1 || die "workload failed: $(tail -3 "$T_DIR/w1.out")"
# real rows: recorded by this agent into a scratch store, then copied into
# a store with the release's schema (the same columns the release writes)
write_ini "$T_DIR/scratch.ini"
sed -i "s|^path = .*|path = $T_DIR/scratch.db|" "$T_DIR/scratch.ini"
start_agent "$T_DIR/scratch.ini" "$T_DIR/scratch.log"
check "the scratch agent records the workload" wait_for 60 agent_caught_up "$T_DIR/scratch.ini"
stop_agent
cols="id, endpoint, queue, job_id, stream_id, event_time, name, attempts_made, attempts_allowed,
failed_reason, signature, signature_text, data, data_size, data_truncated, data_json, opts,
stacktrace, timestamp, processed_on, finished_on, processed_by, hash_missing, reconciled,
recorded_at"
{
    for f in sql/schema/000[1-5]_*.sql; do cat "$f"; done
    echo "PRAGMA user_version = 5;"
    echo "ATTACH '$T_DIR/scratch.db' AS s;"
    echo "INSERT INTO failures ($cols) SELECT $cols FROM s.failures;"
    for t in cursors minute_counts gaps queue_counters queue_depths depth_samples; do
        echo "INSERT INTO main.$t SELECT * FROM s.$t;"
    done
} | sqlite3 "$db" || die "cannot build the release's store"
# the release before this one (0009): the same store, migrated as its agent does
cp "$db" "$T_DIR/bw9.db"
{
    for f in sql/schema/000[6-9]_*.sql; do cat "$f"; done
    echo "PRAGMA user_version = 9;"
} | sqlite3 "$T_DIR/bw9.db" >/dev/null || die "cannot build the 0009 store"
digest() { # every column of every row, in id order
    sqlite3 "$1" "SELECT $cols FROM failures ORDER BY id" | md5sum | cut -d' ' -f1
}
rows=$(q "$db" "SELECT COUNT(*) FROM failures")
maxid=$(q "$db" "SELECT MAX(id) FROM failures")
before=$(digest "$db")
check "the release's store has the workload's $rows rows" test "$rows" -gt 100
check "the 0009 store has them too, every column equal" test "$(digest "$T_DIR/bw9.db")" = "$before"
check "with stack traces and opts" test "$(q "$db" "SELECT COUNT(*) FROM failures WHERE stacktrace IS NOT NULL AND opts IS NOT NULL")" -gt 0
start_agent "$T_DIR/agent.ini"
check "the agent migrates the store" wait_for 30 bash -c "[ \"\$(sqlite3 '$db' 'PRAGMA user_version')\" -ge 10 ]"
check "every row kept, every column equal (through the view)" test "$(digest "$db")" = "$before"
check "stack traces and opts stored once per distinct value" \
    test "$(q "$db" "SELECT COUNT(*) FROM texts")" = "$(q "$db" "SELECT COUNT(*) FROM (SELECT stacktrace FROM failures WHERE stacktrace IS NOT NULL UNION SELECT opts FROM failures WHERE opts IS NOT NULL)")"
check "the hourly summary counts every row" \
    test "$(q "$db" "SELECT SUM(failures) FROM failure_hours")" = "$rows"
"$BW" query top_signatures -c "$T_DIR/agent.ini" --param since=30d --param limit=1000 --json >"$T_DIR/top.json"
check "top_signatures (from the summary) agrees with the rows" \
    test "$(node -e 'console.log(require(process.argv[1]).reduce((a, r) => a + r.failures, 0))' "$T_DIR/top.json")" = "$rows"
node_js workload.js --redis "$REDIS_URL" --bullmq 6 --jobs 300 --tag mg2 \
    --out "$T_DIR/w2.json" >"$T_DIR/w2.out" 2>&1 || die "workload failed: $(tail -3 "$T_DIR/w2.out")"
check "the agent catches up" wait_for 60 agent_caught_up "$T_DIR/agent.ini"
failures_json "$T_DIR/failures.json"
check "old rows: every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/w1.json" "$T_DIR/failures.json" mg-a,mg-b,mg-c
check "new rows after the migration: every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/w2.json" "$T_DIR/failures.json" mg2-a,mg2-b,mg2-c
# the agent finds its texts by hash; the migrated ones (0008 gave them ids
# in insertion order, now their hash) are not found, so a value seen before
# and after the upgrade is stored at most twice
check "the agent's new rows share texts too: once per distinct value" \
    test "$(q "$db" "SELECT COUNT(*) FROM (SELECT body FROM texts WHERE hash > 4294967296 GROUP BY body HAVING COUNT(*) > 1)")" = 0
check "names and reasons that repeat are stored once, by id" \
    test "$(q "$db" "SELECT COUNT(*) FROM failure_log WHERE typeof(reason) = 'integer'")" -gt 0
check "and at most once more for a value the migrated rows had" \
    test "$(q "$db" "SELECT COUNT(*) FROM (SELECT body FROM texts GROUP BY body HAVING COUNT(*) > 2)")" = 0
check "integrity" test "$(q "$db" "PRAGMA integrity_check")" = ok
check "SIGTERM stops the agent with exit 0" stop_agent
# the release before this one: migrated by the agent, every row kept
sed "s|^path = .*|path = $T_DIR/bw9.db|" "$T_DIR/agent.ini" >"$T_DIR/agent9.ini"
check "before: a reader refuses the older store by name (it cannot migrate it)" \
    bash -c "! '$BW' query failures -c '$T_DIR/agent9.ini' 2>'$T_DIR/q9.err' && grep -q 'has schema version 9 and this bullwatch reads 10: start the agent once' '$T_DIR/q9.err'"
check "before: store backup copies it as it is (version 9, every row)" \
    bash -c "'$BW' store backup '$T_DIR/bk9.db' -c '$T_DIR/agent9.ini' >/dev/null && [ \"\$(sqlite3 '$T_DIR/bk9.db' 'PRAGMA user_version; SELECT COUNT(*) FROM failures')\" = \"9
$rows\" ]"
start_agent "$T_DIR/agent9.ini" "$T_DIR/agent9.log"
check "the agent migrates the 0009 store" wait_for 30 bash -c "[ \"\$(sqlite3 '$T_DIR/bw9.db' 'PRAGMA user_version')\" -ge 10 ]"
check "0009 -> 0010: every old row kept, every column equal" \
    test "$(sqlite3 "$T_DIR/bw9.db" "SELECT $cols FROM failures WHERE id <= $maxid ORDER BY id" | md5sum | cut -d' ' -f1)" = "$before"
check "0009 -> 0010: the agent catches up" wait_for 60 agent_caught_up "$T_DIR/agent9.ini"
failures_json "$T_DIR/failures9.json" "$T_DIR/agent9.ini"
check "0009 -> 0010: every dead job of both workloads recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/w2.json" "$T_DIR/failures9.json" mg2-a,mg2-b,mg2-c
check "0009 -> 0010: integrity" test "$(q "$T_DIR/bw9.db" "PRAGMA integrity_check")" = ok
check "SIGTERM stops the second agent with exit 0" stop_agent
