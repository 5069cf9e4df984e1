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
        process.exit(j.length === 8 && j.every(x => x.name === "charge" && x.original.job_id &&
            x.original.data.order >= 1000 && /payment provider down/.test(x.failed_reason)) ? 0 : 1);' \
        "$T_DIR/l$v.json" "$q"
    "$BW" dlq replay dead-letter --all --yes --comment "provider back" -c "$T_DIR/agent.ini" \
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

# Purge in DLQ-queue mode removes the wrapper jobs the way Job.remove does:
# out of the dead-letter queue's wait list, keys deleted, `removed` events.
for v in 5 6; do
    q=refunds$v
    node_js dlqwrap.js --redis "$REDIS_URL" --bullmq "$v" --queue "$q" --dlq dead-letter --jobs 5 \
        --out "$T_DIR/pw$v.json" >"$T_DIR/pw$v.out" 2>&1 || die "dlqwrap.js failed: $(tail -3 "$T_DIR/pw$v.out")"
    wid="dlq-$q-$(node -e "console.log(require('$T_DIR/pw$v.json').wrapped[0])")"
    check "bullmq $v: a wrapper waits in the dead-letter queue" test "$(rcli EXISTS "bull:dead-letter:$wid")" = 1
    "$BW" dlq purge dead-letter --all --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/pp$v.json" \
        || not_ok "bullmq $v: purge of the dead-letter queue exit $?"
    check "bullmq $v: the purge reports 5 wrappers purged" node -e \
        'process.exit(require(process.argv[1]).purged === 5 ? 0 : 1)' "$T_DIR/pp$v.json"
    check "bullmq $v: the dead-letter queue is empty" test "$(rcli llen bull:dead-letter:wait)" = 0
    check "bullmq $v: no key of a purged wrapper remains" test "$(rcli EXISTS "bull:dead-letter:$wid")" = 0
    check "bullmq $v: the original dead jobs stay in their own failed set" test "$(rcli zcard "bull:$q:failed")" = 5
done
check "each purged wrapper got a removed event" \
    test "$(redis-cli -p "$REDIS_PORT" XRANGE bull:dead-letter:events - + | grep -cx removed)" -ge 10

# The breaker in DLQ-queue mode: originals re-added to their queue and dying
# there again stop a paced replay.
node_js dlqwrap.js --redis "$REDIS_URL" --bullmq 6 --queue brk --dlq dead-letter --jobs 100 \
    --out "$T_DIR/bw.json" >"$T_DIR/bw.out" 2>&1 || die "dlqwrap.js failed: $(tail -3 "$T_DIR/bw.out")"
node_js worker.js --redis "$REDIS_URL" --bullmq 6 --queue brk --fail true --count 200 --until-idle-ms 4000 \
    >"$T_DIR/wb.out" 2>&1 &
WB=$!
T_PIDS+=($WB)
"$BW" dlq replay dead-letter --all --yes --rate 40 --stop-if-refail 50 --json -c "$T_DIR/agent.ini" \
    >"$T_DIR/br.json" 2>"$T_DIR/br.err"
check "--stop-if-refail stops a replay from a dead-letter queue whose jobs fail again (exit 3)" bash -c \
    "[ $? = 3 ] && grep -q 'failed again' '$T_DIR/br.err'"
check "... before every wrapper was replayed" node -e \
    'const j=require(process.argv[1]);process.exit(j.replayed>=20&&j.replayed<100?0:1)' "$T_DIR/br.json"
kill "$WB" 2>/dev/null

# A replay whose batch holds the originals of two queues, one call each:
# when the second queue's call fails (its meta is not a hash), the wrappers
# the first call re-added are still recorded, and only they left the
# dead-letter queue (exit 3).
node_js dlqwrap.js --redis "$REDIS_URL" --bullmq 6 --queue mixbad --dlq mix-dlq --jobs 3 \
    --out "$T_DIR/mb.json" >"$T_DIR/mb.out" 2>&1 || die "dlqwrap.js failed: $(tail -3 "$T_DIR/mb.out")"
node_js dlqwrap.js --redis "$REDIS_URL" --bullmq 6 --queue mixok --dlq mix-dlq --jobs 3 \
    --out "$T_DIR/mo.json" >"$T_DIR/mo.out" 2>&1 || die "dlqwrap.js failed: $(tail -3 "$T_DIR/mo.out")"
rcli del bull:mixbad:meta >/dev/null
rcli set bull:mixbad:meta not-a-hash >/dev/null
"$BW" dlq replay mix-dlq --all --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/mix.json" 2>"$T_DIR/mix.err"
check "a failed call for one original queue is reported (exit 3)" bash -c \
    "[ $? = 3 ] && grep -q 'WRONGTYPE' '$T_DIR/mix.err'"
"$BW" query actions -c "$T_DIR/agent.ini" --json >"$T_DIR/ma.json"
mid=$(node -e 'console.log(require(process.argv[1]).find(x => x.queue === "mix-dlq").id)' "$T_DIR/ma.json")
check "... the 3 wrappers the other queue's call re-added are recorded, and only they left" \
    test "$("$BW" query action_jobs --param action="$mid" -c "$T_DIR/agent.ini" | grep -c 're-added to mixok as job') $(rcli llen bull:mix-dlq:wait) $(rcli llen bull:mixok:wait)" = "3 3 3"
