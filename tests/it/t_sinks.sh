#!/usr/bin/env bash
# What each receiver is sent, checked against its published limits, with a
# hostile queue name (`pay <!channel> & <b>x</b>`), 4 KB multi-byte reasons
# and a 1,500-character summary (tests/js/check_sinks.js):
#  A. Slack: & < > escaped everywhere (no <!channel> ping), every text valid
#     UTF-8 and within Block Kit's limits (section text <= 3,000), the value
#     and runbook kept; PagerDuty: payload.summary <= 1,024 characters cut on
#     a character boundary, the context in custom_details; the webhook body
#     verifies with the official standardwebhooks package;
#  B. secrets: the routing key is posted but never stored; check-config
#     masks the Slack URL's path, a token in a URL, the routing key and the
#     whsec_ secret; a routing key that is not 32 characters is refused;
#  C. `bullwatch sink test NAME` sends a marked test through the real path
#     and prints the receiver's answer;
#  D. webhook-ids are unique across two agents with two stores and stable
#     per transition (and verify with standardwebhooks);
#  E. a store from before 0005 (routing keys in its outbox bodies) is
#     scrubbed by the migration.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh" # receiver
start_redis
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export BW_T_PD_KEY=R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32
HOSTILE='pay <!channel> & <b>x</b>'

cs() { node "$NODE_DIR/js/check_sinks.js" "$@"; }
ca() { node "$NODE_DIR/js/check_alerts.js" "$@"; }

# a 4 KB reason of multi-byte characters and markup, and a long summary
REASON=$(node -e 'process.stdout.write("payment <@U123> failed: password=hunter2 ünïcødé € 😀 & <b>".repeat(60).slice(0, 4096))')
LONG=$(node -e 'process.stdout.write("{queue} has {value} dead jobs; " + "é".repeat(3500))')

receiver a --whsec "$SECRET"
write_ini "$T_DIR/a.ini" "[sink hook]
type = webhook
url = http://127.0.0.1:$RPORT/webhook
secret = $SECRET
[sink chat]
type = slack
url = http://127.0.0.1:$RPORT/services/T0ABCDEF1/B0ABCDEF2/XyZ123SeCrEt456TokEn789
[sink pager]
type = pagerduty
url = http://127.0.0.1:$RPORT/pagerduty?token=abc123secret
routing_key_env = BW_T_PD_KEY
[rule dead_letters]
queues = pay*
expr = dlq_size > 0
severity = critical
summary = $LONG
runbook = https://runbooks.example/dead-letters?q=<x>&y=1"
sed -i "s|^path = .*|path = $T_DIR/a.db|" "$T_DIR/a.ini"

# ---- B (config): masking, routing keys ----
"$BW" check-config -c "$T_DIR/a.ini" >"$T_DIR/cc.out" 2>&1 || die "check-config refused: $(cat "$T_DIR/cc.out")"
check "check-config masks the Slack URL's path" bash -c "grep -q '^url = http://127.0.0.1:$RPORT/\*\*\*\*$' '$T_DIR/cc.out' && ! grep -q XyZ123SeCrEt '$T_DIR/cc.out'"
check "... a token in a URL's query" bash -c "grep -q '/pagerduty?\*\*\*\*$' '$T_DIR/cc.out' && ! grep -q abc123secret '$T_DIR/cc.out'"
check "... and the whsec_ secret; the routing key is never printed" bash -c "! grep -q 'MfKQ9r8G' '$T_DIR/cc.out' && ! grep -q '$BW_T_PD_KEY' '$T_DIR/cc.out' && grep -q '^secret = \*\*\*\*$' '$T_DIR/cc.out'"
BW_T_PD_KEY=short "$BW" check-config -c "$T_DIR/a.ini" >"$T_DIR/cc2.out" 2>&1
rc=$?
check "a 5-character routing key is refused (exit $rc), without printing it" \
    bash -c "[ $rc = 2 ] && grep -q 'routing_key: expected 32 letters and digits' '$T_DIR/cc2.out' && ! grep -q short '$T_DIR/cc2.out'"

# ---- A: bodies within the receivers' limits ----
start_agent "$T_DIR/a.ini" "$T_DIR/a.agent.log"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue "$HOSTILE" --jobs 3 --reason "$REASON" \
    --out "$T_DIR/d.json" >"$T_DIR/d.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d.out")"
got_all() { [ "$(grep -c '"path":"/webhook"' "$T_DIR/a.log")" -ge 1 ] && grep -q '"path":"/services/' "$T_DIR/a.log" && grep -q '"path":"/pagerduty' "$T_DIR/a.log"; }
check "the hostile queue's alert reaches all three receivers" wait_for 30 got_all
check "slack: & < > escaped, valid UTF-8, sections <= 3,000 characters, value and runbook kept" \
    cs --log "$T_DIR/a.log" --check slack --queue "$HOSTILE"
check "pagerduty: summary <= 1,024 characters on a character boundary, context in custom_details" \
    cs --log "$T_DIR/a.log" --check pagerduty --queue "$HOSTILE" --key "$BW_T_PD_KEY"
check "webhook: verifies with standardwebhooks; queue and reasons intact as JSON, reasons redacted and capped" \
    cs --log "$T_DIR/a.log" --check webhook --queue "$HOSTILE" --secret "$SECRET"
check "the routing key is posted, but not stored in the outbox" bash -c "
    grep -q '$BW_T_PD_KEY' '$T_DIR/a.log' && ! sqlite3 '$T_DIR/a.db' 'SELECT body FROM outbox' | grep -q '$BW_T_PD_KEY'"

# ---- C: sink test ----
for s in hook chat pager; do
    "$BW" sink test $s -c "$T_DIR/a.ini" >"$T_DIR/st-$s.out" 2>&1
    rc=$?
    check "sink test $s: exit $rc, prints the receiver's answer" bash -c "[ $rc = 0 ] && grep -q '^sink $s: HTTP 200$' '$T_DIR/st-$s.out' && grep -q '^  answer: ok$' '$T_DIR/st-$s.out'"
done
check "... the tests are marked as such" cs --log "$T_DIR/a.log" --check tests --secret "$SECRET"
check "... recorded as deliveries of 'test' rows the agent never sends again" test \
    "$(sqlite3 "$T_DIR/a.db" "SELECT COUNT(*) FROM outbox WHERE kind = 'test' AND state = 'delivered' AND attempts = 1")" = 3
stop_agent || not_ok "agent exit $?"
bad=$(free_port)
sed "s|^url = http://127.0.0.1:$RPORT/webhook|url = http://127.0.0.1:$bad/webhook|" "$T_DIR/a.ini" >"$T_DIR/bad.ini"
"$BW" sink test hook -c "$T_DIR/bad.ini" >"$T_DIR/st-bad.out" 2>&1
rc=$?
sed "s|^secret = $SECRET|secret = whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|" "$T_DIR/a.ini" >"$T_DIR/wrong.ini"
"$BW" sink test hook -c "$T_DIR/wrong.ini" >"$T_DIR/st-wrong.out" 2>&1
rc=$?
check "a wrong whsec_ secret: the receiver's standardwebhooks check refuses it (exit $rc, HTTP 401)" \
    bash -c "[ $rc = 1 ] && grep -q 'HTTP 401' '$T_DIR/st-wrong.out' && grep -q 'answer: standardwebhooks: ' '$T_DIR/st-wrong.out'"
check "sink test of an unreachable receiver: exit 1, says so" bash -c "[ $rc = 1 ] && grep -q 'no answer' '$T_DIR/st-bad.out'"

# ---- D: webhook-ids across two agents and two stores ----
receiver d --whsec "$SECRET"
for n in 1 2; do
    write_ini "$T_DIR/d$n.ini" "[sink hook]
type = webhook
url = http://127.0.0.1:$RPORT/webhook
secret = $SECRET
[rule dead]
queues = qd*
expr = dlq_size > 0"
    sed -i "s|^path = .*|path = $T_DIR/d$n.db|" "$T_DIR/d$n.ini"
done
start_agent "$T_DIR/d1.ini" "$T_DIR/d1.agent.log"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue qd1 --jobs 2 --out "$T_DIR/qd1.json" >/dev/null 2>&1
check "agent 1 (store 1) fires" wait_for 20 ca --log "$T_DIR/d.log" --check count --path /webhook --n 1
stop_agent || not_ok "agent exit $?"
start_agent "$T_DIR/d2.ini" "$T_DIR/d2.agent.log" # a second agent, a new store
check "agent 2 (store 2) fires for the same alert" wait_for 20 ca --log "$T_DIR/d.log" --check count --path /webhook --n 2
"$BW" dlq purge qd1 --all --yes -c "$T_DIR/d2.ini" >/dev/null
check "... and resolves it" wait_for 20 ca --log "$T_DIR/d.log" --check count --path /webhook --n 3
stop_agent || not_ok "agent exit $?"
check "every webhook request verifies with standardwebhooks" ca --log "$T_DIR/d.log" --check swh --secret "$SECRET"
check "webhook-ids: one per transition, unique across the two stores (msg_1 is not reused)" \
    ca --log "$T_DIR/d.log" --check ids --n 3

# ---- E: the migration scrubs routing keys already stored ----
db=$T_DIR/old.db
{
    cat sql/schema/0001_init.sql sql/schema/0002_actions.sql sql/schema/0003_alerts.sql sql/schema/0004_alert_identity.sql
    echo "PRAGMA user_version = 4;"
    echo "INSERT INTO outbox (sink, fingerprint, rule, queue, kind, body, created_at, next_at, state, labels, endpoint) VALUES ('pager', 'f', 'r', 'q', 'firing', '{\"routing_key\":\"OLDKEYOLDKEYOLDKEYOLDKEYOLDKEY12\",\"event_action\":\"trigger\",\"dedup_key\":\"f\"}', 1, 1, 'delivered', '{}', 'default');"
} | sqlite3 "$db" || die "cannot build the old store"
write_ini "$T_DIR/e.ini" ""
sed -i "s|^path = .*|path = $db|" "$T_DIR/e.ini"
"$BW" silence list -c "$T_DIR/e.ini" >/dev/null 2>&1 # opens the store read-write: migrates
latest=$(ls sql/schema/*.sql | sed -E 's|.*/0*([0-9]+)_.*|\1|' | sort -n | tail -1)
check "every migration applied (schema $latest)" test "$(sqlite3 "$db" 'PRAGMA user_version')" = "$latest"
check "the stored routing key is gone from the body, the rest kept" test \
    "$(sqlite3 "$db" 'SELECT body FROM outbox')" = '{"event_action":"trigger","dedup_key":"f"}'
check "... and from the database file's bytes" bash -c "sqlite3 '$db' 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null; ! grep -q OLDKEYOLDKEY '$db'"
check "old rows keep the message id they were sent with" test "$(sqlite3 "$db" 'SELECT msg_id FROM outbox')" = msg_1
