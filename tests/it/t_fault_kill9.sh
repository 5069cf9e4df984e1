#!/usr/bin/env bash
# kill -9 of the agent at random moments (at least 20 times, restarted each
# time) while a real workload makes jobs die, alerts fire and resolve, and
# notifications go out to a loopback receiver.
#
# Why: rows, cursors and counts commit together, so a crash repeats at most
# the last window; a notification is an outbox row committed before it is
# sent, and a resend after a crash must carry the same message id (the
# Standard Webhooks `webhook-id`), so receivers can deduplicate.
#
# Workload: 5 rounds; each makes 6 jobs die on each of two queues (k9-a on
# BullMQ 6, k9-b on BullMQ 5; faultload.js, with completions and retries
# around them), then purges both queues' failed sets with `bullwatch dlq
# purge --all --yes`. Rules: `dlq_size > 0` (fires each round, resolves on
# the purge), `failures[30m] >= 30` (the total per queue) and
# `failures[30m] > 30` (must never fire). Meanwhile the main shell kills
# the agent every 0.15-0.6 s (random) and restarts it.
#
# Afterwards, against the workload's truth:
#  - 0 lost or duplicated failure rows (check_ingest.js);
#  - minute_counts SUM(added/completed/failed/retries) exact per queue;
#  - `failures[30m] > 30` never fired, `>= 30` did;
#  - every firing transition in alert_transitions reached the receiver at
#    least once, and one webhook-id per transition: all deliveries of one
#    transition (resends after a kill) carry the same id, different
#    transitions different ids. A request is mapped to its transition by
#    its body (tests/js/check_faults.js): data.rule, data.queue, the type,
#    and data.starts_at (firing) or data.ends_at (resolved), which equal
#    the transition's `at`. A request that maps to no transition (e.g. a
#    second notification of an episode with another start) is a failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
start_redis
receiver r
ROUNDS=5
D=6               # dead jobs per queue per round
N=$((ROUNDS * D)) # dead jobs per queue in all (checked against the truth below)
fault_ini 10 'k9-*' "$N" "[rule dead]
queues = k9-*
expr = dlq_size > 0
repeat_interval = 24h"

# the workload, in the background: rounds of deaths then purges. Each round
# waits (bounded, 6 s) for the agent to store the round's firing before the
# purge and its resolved after it, so that most rounds make a transition
# pair; whether it does is the agent's business, the checks below do not
# depend on it.
driver() {
    local r q pa pb
    for r in $(seq 1 $ROUNDS); do
        node_js faultload.js --redis "$REDIS_URL" --bullmq 6 --queues k9-a --jobs 15 --dead $D --flaky 3 \
            --waves 2 --wave-ms 200 --out "$T_DIR/a$r.json" >"$T_DIR/a$r.log" 2>&1 &
        pa=$!
        node_js faultload.js --redis "$REDIS_URL" --bullmq 5 --queues k9-b --jobs 15 --dead $D --flaky 3 \
            --waves 2 --wave-ms 200 --out "$T_DIR/b$r.json" >"$T_DIR/b$r.log" 2>&1 &
        pb=$!
        wait $pa && wait $pb || { echo "round $r: faultload failed" >"$T_DIR/driver.err"; return 1; }
        for q in k9-a k9-b; do
            wait_for 6 test "$(n_transitions "$T_DIR/agent.ini" dead $q firing)" -ge "$r"
        done
        for q in k9-a k9-b; do
            "$BW" dlq purge $q --all --yes --comment "round $r" -c "$T_DIR/agent.ini" >>"$T_DIR/purge.out" 2>&1 ||
                echo "round $r: purge $q exit $?" >>"$T_DIR/driver.err"
        done
        for q in k9-a k9-b; do
            wait_for 6 test "$(n_transitions "$T_DIR/agent.ini" dead $q resolved)" -ge "$r"
        done
    done
    touch "$T_DIR/driver.done"
}
start_agent "$T_DIR/agent.ini"
driver &
DRV=$!
T_PIDS+=($DRV)

kills=0
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ] && { kill -0 "$DRV" 2>/dev/null || [ "$kills" -lt 20 ]; }; do
    sleep "0.$((RANDOM % 46 + 15))" # a random moment, 0.15-0.60 s into the agent's life
    kill -9 "$AGENT_PID" 2>/dev/null && kills=$((kills + 1))
    wait "$AGENT_PID" 2>/dev/null
    start_agent "$T_DIR/agent.ini"
done
wait "$DRV"
drc=$?
check "the workload ran its $ROUNDS rounds (driver exit $drc)" test "$drc" = 0 -a ! -s "$T_DIR/driver.err"
check "the agent was killed with SIGKILL at least 20 times ($kills)" test "$kills" -ge 20
check "the last agent catches up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
check "the outbox drains" wait_for 30 \
    test "$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")" = 0

truths=()
for r in $(seq 1 $ROUNDS); do truths+=("$T_DIR/a$r.json" "$T_DIR/b$r.json"); done
check "the workload's truth: $N dead jobs per queue" node -e '
    const n = {};
    for (const f of process.argv.slice(2))
        for (const [q, v] of Object.entries(require(f).queues)) n[q] = (n[q] || 0) + v.dead;
    process.exit(n["k9-a"] === +process.argv[1] && n["k9-b"] === +process.argv[1] ? 0 : 1)' "$N" "${truths[@]}"
cf merge "$T_DIR/truth.json" "${truths[@]}"
failures_json "$T_DIR/failures.json"
check "0 lost or duplicated failure rows" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/truth.json" "$T_DIR/failures.json" k9-a,k9-b
sqlq "$T_DIR/agent.ini" "$T_DIR/mc.json" "$MC_SQL"
check "minute_counts (added, completed, failed, retries) equal the workload's truth" \
    cf counts "$T_DIR/mc.json" "${truths[@]}"
for q in k9-a k9-b; do
    nf=$(n_transitions "$T_DIR/agent.ini" reached $q firing)
    check "rule failures[30m] >= $N fired once on $q ($nf)" test "$nf" = 1
    nb=$(n_transitions "$T_DIR/agent.ini" beyond $q firing)
    check "rule failures[30m] > $N never fired on $q ($nb)" test "$nb" = 0
    nd=$(n_transitions "$T_DIR/agent.ini" dead $q firing)
    echo "# $q: rule dlq_size > 0 fired $nd time(s), resolved $(n_transitions "$T_DIR/agent.ini" dead $q resolved)"
done
nfire=$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM alert_transitions WHERE to_state = 'firing'")
check "alerts fired and resolved several times ($nfire firing transitions)" test "$nfire" -ge 6
sqlq "$T_DIR/agent.ini" "$T_DIR/tr.json" "$TR_SQL"
check "every firing transition delivered at least once; one webhook-id per transition" \
    cf deliveries "$T_DIR/r.log" "$T_DIR/tr.json" at-least-once
check "SIGTERM stops the agent with exit 0" stop_agent
