#!/usr/bin/env bash
# Interop with real BullMQ 5.71.0 and 6.7.0: a 2,000-job workload of three
# queues (successes, retries with and without backoff, UnrecoverableError,
# removeOnFail, custom ids with colons, priorities, a paused queue) runs
# while the agent watches. Every dead job is recorded exactly once and
# `status --json` counts equal getJobCounts() once quiet.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
for v in 5 6; do
    node_js workload.js --redis "$REDIS_URL" --bullmq "$v" --jobs 2000 --tag "wl$v" \
        --out "$T_DIR/wl$v.json" >"$T_DIR/wl$v.out" 2>&1 ||
        die "bullmq $v workload failed: $(tail -3 "$T_DIR/wl$v.out")"
    ok "bullmq $v workload ran: $(cat "$T_DIR/wl$v.out")"
done
check "agent caught up with every stream" wait_for 60 agent_caught_up "$T_DIR/agent.ini"
failures_json "$T_DIR/failures.json"
for v in 5 6; do
    check "bullmq $v: recorded dead jobs equal the workload's dead jobs, no duplicates" \
        node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/wl$v.json" "$T_DIR/failures.json" \
        "wl$v-a,wl$v-b,wl$v-c"
    node_js counts.js --redis "$REDIS_URL" --bullmq "$v" --queues "wl$v-a,wl$v-b,wl$v-c" \
        >"$T_DIR/counts$v.json" || die "counts.js failed"
    "$BW" status -c "$T_DIR/agent.ini" --json >"$T_DIR/status$v.json" || die "status failed"
    check "bullmq $v: status --json counts equal getJobCounts()" \
        node "$NODE_DIR/js/check_ingest.js" counts "$T_DIR/status$v.json" "$T_DIR/counts$v.json" "$v"
    check "bullmq $v: dead jobs of the last hour per queue equal the workload's" node -e \
        'const s=require(process.argv[1]),w=require(process.argv[2]);process.exit(w.queues.every(n=>s.queues.find(q=>q.name===n).dead_last_hour===w.dead.filter(d=>d.queue===n).length)?0:1)' \
        "$T_DIR/status$v.json" "$T_DIR/wl$v.json"
    check "bullmq $v: paused queue reported paused" \
        node -e 'const s=require(process.argv[1]);const q=s.queues.find(q=>q.name===process.argv[2]);process.exit(q&&q.paused&&q.counts.waiting===40&&q.counts.prioritized===20?0:1)' \
        "$T_DIR/status$v.json" "wl$v-c"
done
# rows carry what the issue asks for
cat >"$T_DIR/shape.sql" <<'SQL'
SELECT
  SUM(signature IS NULL OR signature_text IS NULL) AS no_sig,
  SUM(hash_missing = 0 AND (name IS NULL OR attempts_made IS NULL OR attempts_allowed IS NULL
      OR finished_on IS NULL OR opts IS NULL OR data IS NULL OR stacktrace IS NULL)) AS incomplete,
  SUM(hash_missing) AS removed,
  COUNT(DISTINCT signature) AS signatures,
  SUM(failed_reason LIKE 'timeout after %ms') AS timeouts,
  COUNT(DISTINCT CASE WHEN failed_reason LIKE 'timeout after %ms' THEN signature END) AS timeout_sigs,
  SUM(job_id LIKE 'ord:%:x') AS colon_ids
FROM failures;
SQL
"$BW" query "$T_DIR/shape.sql" -c "$T_DIR/agent.ini" --json >"$T_DIR/shape.json"
check "every row has a signature; rows with a hash have name, attempts, data, opts, stack, finishedOn" \
    node -e 'const r=require(process.argv[1])[0];process.exit(r.no_sig===0&&r.incomplete===0?0:1)' "$T_DIR/shape.json"
check "removeOnFail deaths are recorded with hash_missing (240 of them)" \
    node -e 'const r=require(process.argv[1])[0];process.exit(r.removed===240?0:1)' "$T_DIR/shape.json"
check "'timeout after Nms' messages share one signature per run; custom ids with colons recorded" \
    node -e 'const r=require(process.argv[1])[0];process.exit(r.timeouts>0&&r.timeout_sigs===1&&r.colon_ids>0?0:1)' "$T_DIR/shape.json"
"$BW" query minute_counts -c "$T_DIR/agent.ini" --param since=1h --json >"$T_DIR/minutes.json"
check "retries and completions are counted per minute" \
    node -e 'const r=require(process.argv[1]);const s=k=>r.reduce((a,x)=>a+x[k],0);process.exit(s("retries")>0&&s("completed")===2534&&s("failed")===1466?0:1)' "$T_DIR/minutes.json"
"$BW" query top_signatures -c "$T_DIR/agent.ini" --param queue=wl6-a >"$T_DIR/top.txt"
check "top_signatures groups by normalised reason" grep -q 'timeout after <n>ms' "$T_DIR/top.txt"
check "SIGTERM stops the agent with exit 0" stop_agent
check "the agent logged no error" bash -c "! grep -E ' E ' '$T_DIR/agent.log'"
