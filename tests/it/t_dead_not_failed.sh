#!/usr/bin/env bash
# Dead jobs that have not reached `failed`, on queues with no live worker,
# BullMQ 5.71 and 6.7: a job the stall limit sent back to wait with its
# failure deferred (`defa`), and a job left in active whose lock expired.
# status --json and the table say so, the dead_not_failed indicator fires
# (and resolves once they fail); nothing is in the store until a worker
# comes back and fails them, then each is recorded exactly once.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini" "[rule dead_not_failed]
expr = dead_not_failed > 0"
start_agent "$T_DIR/agent.ini"
dnf() { # tag deferred orphaned: status --json says so for the two queues
    "$BW" status -c "$T_DIR/agent.ini" --json >"$T_DIR/st.json" 2>/dev/null && node -e '
        const s = require(process.argv[1]), t = process.argv[2];
        const q = (n) => s.queues.find((x) => x.name === n) || {};
        const d = q(t + "-defer").dead_not_failed || {}, o = q(t + "-orphan").dead_not_failed || {};
        process.exit(d.deferred === +process.argv[3] && d.orphaned === 0 && o.orphaned === +process.argv[4] &&
            o.deferred === 0 ? 0 : 1);' "$T_DIR/st.json" "$1" "$2" "$3"
}
rows() { # queue -> failure rows of that queue
    echo "SELECT COUNT(*) FROM failures WHERE queue = '$1';" >"$T_DIR/c.sql"
    "$BW" query "$T_DIR/c.sql" -c "$T_DIR/agent.ini" --csv 2>/dev/null | tail -1
}
both() { # tag state: the dead_not_failed alert's state on both queues
    [ "$(sqlite3 "$T_DIR/bw.db" "SELECT group_concat(state) FROM (SELECT state FROM alert_state
        WHERE rule = 'dead_not_failed' AND queue IN ('$1-defer', '$1-orphan') ORDER BY queue)")" = "$2,$2" ]
}
for v in 5 6; do
    t=d$v
    node_js deferred.js --redis "$REDIS_URL" --bullmq "$v" --tag "$t" --out "$T_DIR/$t.json" \
        >"$T_DIR/$t.out" 2>&1 || die "deferred.js failed: $(tail -3 "$T_DIR/$t.out")"
    ok "bullmq $v: $(cat "$T_DIR/$t.out")"
    check "bullmq $v: status --json shows 1 deferred failure and 1 orphaned active job" wait_for 10 dnf "$t" 1 1
    "$BW" status -c "$T_DIR/agent.ini" >"$T_DIR/st.txt" 2>&1
    check "bullmq $v: the status table says they are dead but not failed yet" \
        grep -q "dead, not failed yet (no worker will fail them): 1 in wait past the stall limit, 0 in active" "$T_DIR/st.txt"
    check "bullmq $v: the dead_not_failed rule fires on both queues" \
        wait_for 10 both "$t" firing
    check "bullmq $v: nothing recorded as dead yet" test "$(rows "$t-defer")/$(rows "$t-orphan")" = 0/0
    node_js deferred.js --redis "$REDIS_URL" --bullmq "$v" --tag "$t" --out "$T_DIR/$t-dead.json" --settle \
        >"$T_DIR/$t-s.out" 2>&1 || die "deferred.js --settle failed: $(tail -3 "$T_DIR/$t-s.out")"
    check "bullmq $v: a worker back: status shows none left" wait_for 10 dnf "$t" 0 0
    check "bullmq $v: the agent catches up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
    failures_json "$T_DIR/failures.json"
    check "bullmq $v: each is recorded exactly once when the worker fails it" \
        node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/$t-dead.json" "$T_DIR/failures.json" "$t-defer,$t-orphan"
    check "bullmq $v: and the rule resolves" \
        wait_for 10 both "$t" inactive
done
check "SIGTERM stops the agent with exit 0" stop_agent
