#!/usr/bin/env bash
# Replay lineage: with the agent running, the outcome of every replayed job
# (completed, or failed again) is linked to its action, and the canned query
# replay_outcomes answers "did the replay work?".
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue ln --jobs 10 --out "$T_DIR/d1.json" >/dev/null 2>&1 ||
    die "deadjobs.js failed"
check "agent caught up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
# first replay: a healthy worker completes everything
"$BW" dlq replay ln --all --yes --comment fixed -c "$T_DIR/agent.ini" >/dev/null || not_ok "replay 1 exit $?"
node_js worker.js --redis "$REDIS_URL" --bullmq 6 --queue ln --count 10 --until-idle-ms 10000 >"$T_DIR/w1" 2>&1
# second: more jobs die, are replayed (attempts reset: 2 each), and die again
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue ln --jobs 6 --out "$T_DIR/d2.json" >/dev/null 2>&1 ||
    die "deadjobs.js failed"
"$BW" dlq replay ln --all --yes --comment "not yet" -c "$T_DIR/agent.ini" >/dev/null || not_ok "replay 2 exit $?"
node_js worker.js --redis "$REDIS_URL" --bullmq 6 --queue ln --count 12 --fail true --until-idle-ms 10000 \
    >"$T_DIR/w2" 2>&1
outcomes_done() {
    "$BW" query replay_outcomes -c "$T_DIR/agent.ini" --json >"$T_DIR/o.json" &&
        node -e 'const o=require(process.argv[1]);process.exit(o.length===2&&o.every(x=>x.pending===0)?0:1)' "$T_DIR/o.json"
}
check "every replayed job's outcome is linked to its action" wait_for 30 outcomes_done
check "replay_outcomes: the first replay worked (10 completed), the second did not (6 failed again)" node -e '
    const o = require(process.argv[1]);
    const [second, first] = o;
    process.exit(first.replayed === 10 && first.completed === 10 && first.failed_again === 0 &&
        second.replayed === 6 && second.completed === 0 && second.failed_again === 6 ? 0 : 1);' "$T_DIR/o.json"
check "SIGTERM stops the agent with exit 0" stop_agent
