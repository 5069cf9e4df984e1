#!/usr/bin/env bash
# Real stalled jobs (a worker SIGKILLed while holding a job), BullMQ 5.71 and
# 6.7: the stall-limit death is recorded with BullMQ's reason, stalls are
# counted per minute, and the stall's waiting(prev active) is not counted as
# a retry.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
for v in 5 6; do
    node_js stall.js --redis "$REDIS_URL" --bullmq "$v" --tag "st$v" --out "$T_DIR/st$v.json" \
        >"$T_DIR/st$v.out" 2>&1 || die "stall.js failed: $(tail -3 "$T_DIR/st$v.out")"
    ok "bullmq $v: $(cat "$T_DIR/st$v.out")"
done
check "agent caught up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
failures_json "$T_DIR/failures.json"
for v in 5 6; do
    check "bullmq $v: the stall-limit death is recorded once" \
        node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/st$v.json" "$T_DIR/failures.json" "st$v-dies,st$v-recovers"
    check "bullmq $v: with BullMQ's reason" node -e \
        'const r=require(process.argv[1]).find(x=>x.queue===process.argv[2]);process.exit(r&&r.failed_reason==="job stalled more than allowable limit"?0:1)' \
        "$T_DIR/failures.json" "st$v-dies"
done
"$BW" query minute_counts -c "$T_DIR/agent.ini" --param since=1h --json >"$T_DIR/min.json"
check "one stall per queue counted, and no stall counted as a retry" node -e '
    const r = require(process.argv[1]);
    const by = {};
    for (const x of r) { by[x.queue] = by[x.queue] || {stalled: 0, retries: 0, completed: 0, failed: 0};
        for (const k of ["stalled", "retries", "completed", "failed"]) by[x.queue][k] += x[k]; }
    const ok = ["st5", "st6"].every(t => by[t + "-dies"].stalled === 1 && by[t + "-dies"].retries === 0 &&
        by[t + "-dies"].failed === 1 && by[t + "-recovers"].stalled === 1 &&
        by[t + "-recovers"].retries === 0 && by[t + "-recovers"].completed === 1);
    if (!ok) console.log(JSON.stringify(by));
    process.exit(ok ? 0 : 1);' "$T_DIR/min.json"
check "SIGTERM stops the agent with exit 0" stop_agent
