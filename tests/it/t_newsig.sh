#!/usr/bin/env bash
# New error signatures end to end (issue 19), real BullMQ (6.x) dead jobs
# and a loopback receiver (tests/js/receiver.js): payments fails with one
# error for a while (its signature is new once: one notice), then a second,
# never-seen error starts: within one evaluation (the rule is evaluated as
# the failures are read) a notice arrives naming the new error's text, a
# job id and the dlq list --signature command; the first error does not
# fire again, not even across a restart of the agent.
. "$(dirname "$0")/lib.sh"
start_redis
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

cn() { node "$NODE_DIR/js/check_newsig.js" --log "$T_DIR/r.log" "$@"; }
dead() { # queue n reason tag
    node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue "$1" --jobs "$2" --reason "$3" \
        --out "$T_DIR/$4.json" >"$T_DIR/$4.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/$4.out")"
}

receiver r --whsec "$SECRET"
write_ini "$T_DIR/agent.ini" "[sink hook]
type = webhook
url = http://127.0.0.1:$RPORT/webhook
secret = $SECRET
[rule new_error_signature]
queues = pay*
expr = new_signatures[10m] > 0
summary = {queue}: a new kind of error started
max_new_signatures = 5"
"$BW" check-config -c "$T_DIR/agent.ini" >"$T_DIR/cc.out" || die "check-config refused the config"
check "check-config says the rule is one alert per new signature" \
    grep -q 'one alert per new error signature (first seen within 10m), at most 5' "$T_DIR/cc.out"
start_agent "$T_DIR/agent.ini" "$T_DIR/agent.log"
wait_for 10 grep -q "watching" "$T_DIR/agent.log" || true

# the first error, in three bursts (a while): new once
dead payments 5 "upstream timeout after 3000 ms" a1
check "the first error's signature is new: one notice" wait_for 20 cn --check count --text "upstream timeout" --n 1
dead payments 5 "upstream timeout after 4000 ms" a2
dead payments 5 "upstream timeout after 5000 ms" a3
check "the store has counted 15 deaths of it" wait_for 10 sh -c \
    "sqlite3 '$T_DIR/bw.db' \"SELECT count FROM queue_signatures WHERE queue = 'payments'\" | grep -qx 15"

# a restart: the first error is not new to the next agent either
stop_agent || not_ok "agent exit $?"
start_agent "$T_DIR/agent.ini" "$T_DIR/agent.log"
dead payments 3 "upstream timeout after 6000 ms" a4

# the second, never-seen error
dead payments 4 "ledger constraint violated for account 42" b1
t_b=$SECONDS
check "the new error arrives: a notice naming its text" wait_for 10 cn --check count --text "ledger constraint" --n 1
check "... within one evaluation of its deaths being read (< 5 s)" test $((SECONDS - t_b)) -lt 5
check "... with one of its dead jobs, its reason and the dlq list --signature command" \
    cn --check names --text "ledger constraint" --dead "$T_DIR/b1.json"
sleep_settle() { # two timer evaluations (poll_every 500ms) after the last read
    wait_for 10 sh -c "sqlite3 '$T_DIR/bw.db' \"SELECT count FROM queue_signatures WHERE queue = 'payments' AND count = 4\" | grep -qx 4"
}
check "the store has the second signature's 4 deaths" sleep_settle
check "the first error did not fire again (one notice in all)" cn --check count --text "upstream timeout" --n 1
check "two firing transitions in all, one per signature" sh -c \
    "sqlite3 '$T_DIR/bw.db' \"SELECT COUNT(DISTINCT json_extract(labels, '\$.signature')), COUNT(*) FROM alert_transitions WHERE to_state = 'firing'\" | grep -qx '2|2'"
sig_b=$(sqlite3 "$T_DIR/bw.db" "SELECT signature FROM queue_signatures q JOIN signatures s USING (signature) WHERE s.signature_text LIKE 'ledger%'")
check "dlq list --signature lists exactly the second error's 4 jobs" sh -c \
    "'$BW' dlq list payments --signature $sig_b -c '$T_DIR/agent.ini' --json | node -e 'let s=\"\";process.stdin.on(\"data\",d=>s+=d).on(\"end\",()=>{const j=JSON.parse(s);const a=Array.isArray(j)?j:(j.jobs||j.rows||[]);process.exit(a.length===4?0:1)})'"
stop_agent || not_ok "agent exit $?"
