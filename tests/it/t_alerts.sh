#!/usr/bin/env bash
# Alerts end to end, with real BullMQ (6.7) dead jobs and a local HTTP
# receiver (tests/js/receiver.js, loopback only):
#  A. a burst of dead jobs fires the rule; webhook, slack, pagerduty and
#     alertmanager each get a well-formed body; the webhook signature
#     verifies with Node's crypto; a purge (recovery) sends resolved to all;
#  B. 500, 500, then 200: delivered once, three attempts recorded;
#  C. 429 with Retry-After: 2: the next attempt no sooner than 2 s later;
#  D. receiver down across an agent restart: delivered after the restart;
#  E. a receiver that never answers does not slow ingest;
#  F. a silence holds back matching alerts only; expiring it sends them;
#  G. agent_lag as the agent measures it.
. "$(dirname "$0")/lib.sh"
start_redis
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export BW_T_PD_KEY=R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32 # 32 characters, as PagerDuty's

ca() { node "$NODE_DIR/js/check_alerts.js" "$@"; }
dead() { # queue n
    node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue "$1" --jobs "$2" --out "$T_DIR/$1.json" \
        >"$T_DIR/$1.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/$1.out")"
}
hook_ini() { # name port queues [expr [sink line [rule name]]]: one webhook sink, one rule
    write_ini "$T_DIR/$1.ini" "[sink hook]
type = webhook
url = http://127.0.0.1:$2/webhook
secret = $SECRET
${5:-}
[rule ${6:-dead_letters}]
queues = $3
expr = ${4:-dlq_size > 0}"
    sed -i "s|^path = .*|path = $T_DIR/$1.db|" "$T_DIR/$1.ini"
}
sinks() { # port: the four formats on one receiver
    cat <<INI
[sink hook]
type = webhook
url = http://127.0.0.1:$1/webhook
secret = $SECRET
timeout = 2s
[sink chat]
type = slack
url = http://127.0.0.1:$1/slack
[sink pager]
type = pagerduty
url = http://127.0.0.1:$1/pagerduty
routing_key_env = BW_T_PD_KEY
[sink am]
type = alertmanager
url = http://127.0.0.1:$1/alertmanager
[sink amapi]
type = alertmanager
mode = api
url = http://127.0.0.1:$1/
INI
}

# ---- A: formats, signature, resolved ----
receiver a --whsec "$SECRET" # verifies each webhook on arrival (standardwebhooks)
write_ini "$T_DIR/a.ini" "$(sinks "$RPORT")
[rule dead_letters]
queues = qa*
expr = dlq_size > 0
severity = critical
summary = {queue} has {value} dead jobs
runbook = https://runbooks.example/dead-letters"
sed -i "s|^path = .*|path = $T_DIR/a.db|" "$T_DIR/a.ini"
"$BW" check-config -c "$T_DIR/a.ini" >"$T_DIR/cc.out" || die "check-config refused the test config"
check "check-config prints the rule as parsed" grep -q '^#   when dlq_size > 0$' "$T_DIR/cc.out"
start_agent "$T_DIR/a.ini" "$T_DIR/a.agent.log"
dead qa1 5
check "a burst of dead jobs fires: all four sinks get a firing body" \
    wait_for 20 ca --log "$T_DIR/a.log" --check formats --kind firing --queue qa1
ca --log "$T_DIR/a.log" --check formats --kind firing --queue qa1 || true
check "the webhook signature verifies with Node's crypto" ca --log "$T_DIR/a.log" --check signature --secret "$SECRET"
check "... and with the official standardwebhooks package" ca --log "$T_DIR/a.log" --check swh --secret "$SECRET"
check "alertmanager api mode pushes to /api/v2/alerts" ca --log "$T_DIR/a.log" --check amapi --queue qa1
"$BW" dlq purge qa1 --all --yes -c "$T_DIR/a.ini" >/dev/null || not_ok "purge exit $?"
check "recovery (the dead jobs purged) sends resolved to all four" \
    wait_for 20 ca --log "$T_DIR/a.log" --check formats --kind resolved --queue qa1
check "the routing key is in what was posted, never in the store" bash -c "
    grep -q '$BW_T_PD_KEY' '$T_DIR/a.log' && ! sqlite3 '$T_DIR/a.db' 'SELECT body FROM outbox' | grep -q '$BW_T_PD_KEY'"
check "failure alerts say what died: top errors, jobs, the dlq list command" \
    ca --log "$T_DIR/a.log" --check context --queue qa1
check "one firing and one resolved per sink, no more" bash -c "
    for p in /webhook /slack /pagerduty /alertmanager; do
        node '$NODE_DIR/js/check_alerts.js' --log '$T_DIR/a.log' --check count --path \$p --kind firing --n 1 || exit 1
        node '$NODE_DIR/js/check_alerts.js' --log '$T_DIR/a.log' --check count --path \$p --kind resolved --n 1 || exit 1
    done"
"$BW" query alert_history -c "$T_DIR/a.ini" --json >"$T_DIR/ah.json"
check "alert history: firing then resolved, with value and threshold" node -e '
    const h = require(process.argv[1]).filter(x => x.queue === "qa1");
    const f = h.find(x => x.to_state === "firing"), r = h.find(x => x.to_state === "resolved");
    process.exit(f && r && f.value === 5 && f.threshold === 0 && r.at >= f.at ? 0 : 1)' "$T_DIR/ah.json"
stop_agent || not_ok "agent exit $?"

# ---- B: 500, 500, 200 ----
receiver b --script 500,500,200
hook_ini b "$RPORT" "qb*"
start_agent "$T_DIR/b.ini" "$T_DIR/b.agent.log"
dead qb1 3
check "500, 500, then 200: three attempts reach the receiver" \
    wait_for 30 ca --log "$T_DIR/b.log" --check count --path /webhook --n 3
delivered_after_three() { # the agent records the third answer a moment after the receiver logs it
    "$BW" query deliveries -c "$T_DIR/b.ini" --json >"$T_DIR/d.json" && node -e '
    const d = require(process.argv[1]);
    process.exit(d.length === 3 && d.map(x => x.http_status).join() === "500,500,200" &&
        d.every(x => x.outbox_state === "delivered") ? 0 : 1)' "$T_DIR/d.json"
}
check "... delivered once, three attempts recorded (500, 500, 200)" wait_for 10 delivered_after_three
stop_agent || not_ok "agent exit $?"

# ---- B2: any other 4xx stops and says why ----
receiver b2 --script 400
hook_ini b2 "$RPORT" "qg*"
start_agent "$T_DIR/b2.ini" "$T_DIR/b2.agent.log"
dead qg1 1
check "a 400 answer: given up after one attempt, with the reason" wait_for 20 sh -c \
    "sqlite3 '$T_DIR/b2.db' \"SELECT state, attempts, last_status, last_error LIKE 'HTTP 400%' FROM outbox\" | grep -qx 'gave_up|1|400|1'"
stop_agent || not_ok "agent exit $?"

# ---- C: 429 with Retry-After: 2 ----
receiver c --script 429,200 --retry-after 2
hook_ini c "$RPORT" "qc*"
start_agent "$T_DIR/c.ini" "$T_DIR/c.agent.log"
dead qc1 2
check "429 then 200: two attempts" wait_for 30 ca --log "$T_DIR/c.log" --check count --path /webhook --n 2
check "... the second no sooner than Retry-After (2 s)" ca --log "$T_DIR/c.log" --check spacing --path /webhook --min-gap-ms 2000
stop_agent || not_ok "agent exit $?"

# ---- D: receiver down across an agent restart ----
dport=$(free_port)
hook_ini d "$dport" "qd*"
start_agent "$T_DIR/d.ini" "$T_DIR/d.agent.log"
dead qd1 2
check "with the receiver down, the firing waits in the outbox after failed attempts" wait_for 20 sh -c \
    "sqlite3 '$T_DIR/d.db' \"SELECT state, attempts > 0 FROM outbox WHERE queue = 'qd1'\" | grep -qx 'pending|1'"
"$BW" dlq purge qd1 --all --yes -c "$T_DIR/d.ini" >/dev/null || not_ok "purge exit $?"
check "the recovery queues a resolved behind it" wait_for 20 sh -c \
    "sqlite3 '$T_DIR/d.db' \"SELECT count(*) FROM outbox WHERE queue = 'qd1' AND kind = 'resolved'\" | grep -qx 1"
stop_agent || not_ok "agent exit $?"
receiver d --port "$dport"
start_agent "$T_DIR/d.ini" "$T_DIR/d.agent.log"
check "after the restart, with the receiver up, it is delivered" \
    wait_for 30 ca --log "$T_DIR/d.log" --check count --path /webhook --kind firing --n 1
check "... and the resolved after it, never before" \
    wait_for 30 ca --log "$T_DIR/d.log" --check order --path /webhook
stop_agent || not_ok "agent exit $?"

# ---- E: a receiver that never answers does not slow ingest ----
receiver e --hang
hook_ini e "$RPORT" "qe*" "failures[5m] > 0" "timeout = 30s" any_failure
start_agent "$T_DIR/e.ini" "$T_DIR/e.agent.log"
dead qe1 5
check "the hanging receiver got the firing" wait_for 20 test -s "$T_DIR/e.log"
dead qe2 200
check "while it hangs, every failure of the next burst is recorded" wait_for 20 sh -c \
    "[ \"\$(sqlite3 '$T_DIR/e.db' \"SELECT count(*) FROM failures WHERE queue = 'qe2'\")\" = 200 ]"
stop_agent || not_ok "agent exit $?"

# ---- F: silences ----
receiver f
hook_ini f "$RPORT" "qf*"
"$BW" silence add queue=qf1 --author it --comment "known incident" --for 1h -c "$T_DIR/f.ini" \
    >"$T_DIR/sil.out" || not_ok "silence add exit $?"
sid=$(grep -o 'silence [0-9]*' "$T_DIR/sil.out" | awk '{print $2}')
"$BW" silence list -c "$T_DIR/f.ini" >"$T_DIR/sl.out"
check "silence list shows it with author and comment" grep -q "known incident" "$T_DIR/sl.out"
start_agent "$T_DIR/f.ini" "$T_DIR/f.agent.log"
dead qf1 2
dead qf2 2
check "an alert not matching the silence is sent" \
    wait_for 20 ca --log "$T_DIR/f.log" --check count --path /webhook --queue qf2 --n 1
check "the matching alert is held back" ca --log "$T_DIR/f.log" --check count --path /webhook --queue qf1 --n 0
check "its transition is still recorded, marked silenced" sh -c \
    "sqlite3 '$T_DIR/f.db' \"SELECT silenced_by FROM alert_transitions WHERE queue = 'qf1' AND to_state = 'firing'\" | grep -qx '$sid'"
"$BW" silence expire "$sid" -c "$T_DIR/f.ini" >/dev/null || not_ok "silence expire exit $?"
check "expiring the silence sends the held-back alert" \
    wait_for 20 ca --log "$T_DIR/f.log" --check count --path /webhook --queue qf1 --n 1
stop_agent || not_ok "agent exit $?"

# ---- G: agent_lag, measured by the agent itself ----
receiver g
hook_ini g "$RPORT" "qh*" "agent_lag < 5" "" caught_up
start_agent "$T_DIR/g.ini" "$T_DIR/g.agent.log"
dead qh1 2
check "agent_lag: a caught-up agent reports a lag under 5 s" \
    wait_for 20 ca --log "$T_DIR/g.log" --check count --path /webhook --queue qh1 --kind firing --n 1
check "... with its value in the notification" node -e '
    const r = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
    const b = JSON.parse(r[0].body);
    process.exit(b.data.rule === "caught_up" && b.data.value >= 0 && b.data.value < 5 ? 0 : 1)' "$T_DIR/g.log"
stop_agent || not_ok "agent exit $?"
