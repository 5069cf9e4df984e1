#!/usr/bin/env bash
# DLQ-queue mode (BullMQ 5.71 and 6.7): wrapper jobs in a `dead-letter` queue
# (configured by [queues] dlq) are listed with the original job unpacked,
# and replay adds each original back to its original queue, where a real
# worker completes it; the wrappers are gone and the action is audited.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
for v in 5 6; do
    q=orders$v
    node_js dlqwrap.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --dlq dead-letter --jobs 8 \
        --out "$T_DIR/w$v.json" >"$T_DIR/w$v.out" 2>&1 || die "dlqwrap.js failed: $(tail -3 "$T_DIR/w$v.out")"
    "$BW" dlq list dead-letter --limit 0 --json -c "$T_DIR/agent.ini" >"$T_DIR/l$v.json"
    check "bullmq $v: dlq list shows the wrappers with the original unpacked" node -e '
        const j = require(process.argv[1]).jobs.filter(x => x.original.queue === process.argv[2]);
        process.exit(j.length === 8 && j.every(x => x.name === "charge" && x.original.id &&
            x.original.data.order >= 1000 && /payment provider down/.test(x.failed_reason)) ? 0 : 1);' \
        "$T_DIR/l$v.json" "$q"
    "$BW" dlq replay dead-letter --all --yes --reason "provider back" -c "$T_DIR/agent.ini" \
        >"$T_DIR/r$v.out" || not_ok "bullmq $v: replay from the dead-letter queue exit $?"
    node_js worker.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --count 8 --until-idle-ms 10000 \
        >"$T_DIR/c$v.out" 2>&1
    check "bullmq $v: the original queue's real worker completes all 8 re-added jobs" \
        test "$(grep -c '^completed ' "$T_DIR/c$v.out")" = 8
    check "bullmq $v: the wrappers are gone from the dead-letter queue" \
        test "$(rcli llen bull:dead-letter:wait)" = 0
done
"$BW" query actions -c "$T_DIR/agent.ini" --json >"$T_DIR/a.json"
id=$(node -e 'console.log(require(process.argv[1])[0].id)' "$T_DIR/a.json")
"$BW" query action_jobs --param action="$id" -c "$T_DIR/agent.ini" >"$T_DIR/aj.txt"
check "the audit says where each original went" grep -q "re-added to orders6 as job" "$T_DIR/aj.txt"
