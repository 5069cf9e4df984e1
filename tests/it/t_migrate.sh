#!/usr/bin/env bash
# A store made by the release before alert identities (schema 3: rows name
# the endpoint by host:port/db, alert_state keyed by rule and queue) is
# migrated in place by the agent: every row kept, now under the endpoint's
# stable name "default"; the alert's state and history carry its label set;
# queue_signatures is backfilled from the rows (0009); the agent goes on
# from the stored cursor (nothing read twice) and keeps
# the firing alert firing without a new transition.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini" "[rule dead]
expr = failed > 0"
old="127.0.0.1:$REDIS_PORT/0"
db=$T_DIR/bw.db
node_js trim.js --redis "$REDIS_URL" --bullmq 6 --queue mig --jobs 10 --check-trim false \
    --out "$T_DIR/m1.json" >"$T_DIR/m1.out" 2>&1 || die "trim.js failed: $(tail -3 "$T_DIR/m1.out")"
last=$(rcli XREVRANGE bull:mig:events + - COUNT 1 | head -1)
now=$(($(date +%s) * 1000))
{
    cat sql/schema/0001_init.sql sql/schema/0002_actions.sql sql/schema/0003_alerts.sql
    echo "PRAGMA user_version = 3;"
    echo "INSERT INTO cursors VALUES ('$old', 'mig', '$last', $now);"
    rcli ZRANGE bull:mig:failed 0 -1 WITHSCORES | paste - - | while read -r id fin; do
        echo "INSERT INTO failures (endpoint, queue, job_id, event_time, finished_on, failed_reason, signature, signature_text, recorded_at) VALUES ('$old', 'mig', '$id', $fin, $fin, 'old row', 'a1b2c3d4e5f6', 'old row', 1);"
    done
    echo "INSERT INTO minute_counts (endpoint, queue, minute, failed) VALUES ('$old', 'mig', $((now / 60000)), 8);"
    echo "INSERT INTO gaps (endpoint, queue, kind, after_id, before_id, from_ms, to_ms, detected_at, done) VALUES ('$old', 'mig', 'initial', '0-0', '', 0, $now, $now, 1);"
    echo "INSERT INTO alert_state VALUES ('dead', 'mig', 'firing', $now, $now, $now, 8, 0);"
    echo "INSERT INTO alert_transitions (rule, queue, fingerprint, from_state, to_state, at) VALUES ('dead', 'mig', 'x', 'pending', 'firing', $now);"
} | sqlite3 "$db" || die "cannot build the old store"
dead=$(rcli ZCARD bull:mig:failed)
q() { sqlite3 "$db" "$1"; }
check "the old store has $dead failure rows under $old" test "$(q "SELECT COUNT(*) FROM failures WHERE endpoint = '$old'")" = "$dead"
start_agent "$T_DIR/agent.ini"
check "the agent migrates and polls" wait_for 20 bash -c "[ \"\$(sqlite3 '$db' 'SELECT COUNT(*) FROM queue_depths WHERE endpoint = \"default\"')\" = 1 ]"
latest=$(ls sql/schema/*.sql | sed -E 's|.*/0*([0-9]+)_.*|\1|' | sort -n | tail -1)
check "every migration applied (schema version $latest)" test "$(q "PRAGMA user_version")" = "$latest"
check "every failure row kept, under the name 'default'" \
    test "$(q "SELECT COUNT(*) FROM failures WHERE endpoint = 'default' AND failed_reason = 'old row'")/$(q "SELECT COUNT(*) FROM failures")" = "$dead/$dead"
check "no row is left under the address" \
    test "$(q "SELECT (SELECT COUNT(*) FROM cursors WHERE endpoint = '$old') + (SELECT COUNT(*) FROM minute_counts WHERE endpoint = '$old') + (SELECT COUNT(*) FROM gaps WHERE endpoint = '$old')")" = 0
check "the stored cursor was kept (nothing read twice)" \
    test "$(q "SELECT stream_id FROM cursors WHERE endpoint = 'default' AND queue = 'mig'")" = "$last"
check "the minute counts kept" test "$(q "SELECT SUM(failed) FROM minute_counts WHERE queue = 'mig'")" = 8
check "the queue's running totals start from them (/metrics counters)" \
    test "$(q "SELECT failed || ' ' || dead FROM queue_counters WHERE endpoint = 'default' AND queue = 'mig'")" = "8 8"
check "the alert's state carries its label set" \
    test "$(q "SELECT labels || ' ' || state FROM alert_state WHERE rule = 'dead'")" = '{"endpoint":"default","queue":"mig"} firing'
check "its history too" \
    test "$(q "SELECT labels FROM alert_transitions WHERE rule = 'dead'")" = '{"endpoint":"default","queue":"mig"}'
check "0009 backfilled the queue's signature from the rows (first, last seen, count)" \
    test "$(q "SELECT endpoint || ' ' || count || ' ' || (first_seen = (SELECT MIN(finished_at) FROM failures)) || (last_seen = (SELECT MAX(finished_at) FROM failures)) FROM queue_signatures WHERE queue = 'mig' AND signature = 'a1b2c3d4e5f6'")" = "default $dead 11"
check "the rename is logged" grep -q "rows of $old now name it by its endpoint name 'default'" "$T_DIR/agent.log"
check "the firing alert stays firing: no new transition" \
    test "$(q "SELECT COUNT(*) FROM alert_transitions")" = 1
check "SIGTERM stops the agent with exit 0" stop_agent
