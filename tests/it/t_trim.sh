#!/usr/bin/env bash
# Stream trimming: the agent is stopped, a queue with a small
# streams.events.maxLen is pushed far past it, and the agent restarted. A
# gap is recorded and every dead job is present, the lost ones reconciled
# from the failed set.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
for v in 5 6; do
    q=trim$v
    start_agent "$T_DIR/agent.ini"
    node_js trim.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --maxlen 50 --jobs 10 --check-trim false \
        --out "$T_DIR/$q-1.json" >"$T_DIR/$q-1.out" 2>&1 || die "trim.js failed: $(tail -3 "$T_DIR/$q-1.out")"
    wait_for 30 agent_caught_up "$T_DIR/agent.ini"
    check "bullmq $v: agent stopped cleanly" stop_agent
    node_js trim.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --maxlen 50 --jobs 400 \
        --append true --out "$T_DIR/$q.json" >"$T_DIR/$q.out" 2>&1 ||
        die "trim.js failed: $(tail -3 "$T_DIR/$q.out")"
    ok "bullmq $v: stream trimmed while the agent was down: $(cat "$T_DIR/$q.out")"
    start_agent "$T_DIR/agent.ini"
    gap_done() {
        "$BW" query gaps -c "$T_DIR/agent.ini" --param queue="$1" --json >"$T_DIR/gaps.json" &&
            node -e 'const g=require(process.argv[1]);process.exit(g.some(x=>x.kind==="trim"&&x.done===1)?0:1)' "$T_DIR/gaps.json"
    }
    check "bullmq $v: a gap is recorded and reconciled" wait_for 30 gap_done "$q"
    check "bullmq $v: the gap has its bounds" node -e \
        'const g=require(process.argv[1]).find(x=>x.kind==="trim");process.exit(g.after_id<g.before_id||g.after_id.length<g.before_id.length?(g.from_ms<=g.to_ms?0:1):1)' "$T_DIR/gaps.json"
    wait_for 30 agent_caught_up "$T_DIR/agent.ini"
    failures_json "$T_DIR/failures.json"
    check "bullmq $v: every dead job is present exactly once" \
        node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/$q.json" "$T_DIR/failures.json" "$q"
    check "bullmq $v: lost deaths are marked reconciled" node -e \
        'const r=require(process.argv[1]).filter(x=>x.queue===process.argv[2]);process.exit(r.some(x=>x.reconciled===1)&&r.some(x=>x.reconciled===0)?0:1)' \
        "$T_DIR/failures.json" "$q"
    check "bullmq $v: agent stopped cleanly" stop_agent
done
# a restart reconciles nothing twice
start_agent "$T_DIR/agent.ini"
wait_for 30 agent_caught_up "$T_DIR/agent.ini"
sleep 1.2 # two poll cycles: gap checks run on the poll timer
failures_json "$T_DIR/failures2.json"
check "a further restart adds no rows" node -e \
    'process.exit(require(process.argv[1]).length===require(process.argv[2]).length?0:1)' \
    "$T_DIR/failures.json" "$T_DIR/failures2.json"
check "agent stopped cleanly" stop_agent
