#!/usr/bin/env bash
# A real flow on BullMQ 5.71 and 6.7: the child dies, the parent waits in
# waiting-children; replaying the child lets it complete and releases the
# parent, which its worker then completes.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
for v in 5 6; do
    node_js flow.js --redis "$REDIS_URL" --bullmq "$v" --parent-queue "fp$v" --child-queue "fc$v" \
        --phase break --out "$T_DIR/f$v.json" >"$T_DIR/b$v.out" 2>&1 || die "flow.js break failed: $(tail -3 "$T_DIR/b$v.out")"
    check "bullmq $v: the child died and the parent waits for it" grep -q 'parent is waiting-children' "$T_DIR/b$v.out"
    "$BW" dlq replay "fc$v" --all --yes -c "$T_DIR/agent.ini" >/dev/null || not_ok "bullmq $v: replay exit $?"
    check "bullmq $v: the replayed child completes and the parent completes after it" \
        node_js flow.js --redis "$REDIS_URL" --bullmq "$v" --parent-queue "fp$v" --child-queue "fc$v" \
        --phase check --out "$T_DIR/f$v.json"
done

# Purging a dead child removes it from its parent's dependencies: the parent
# waits for nothing more and its worker completes it (Job.remove semantics).
for v in 5 6; do
    node_js flow.js --redis "$REDIS_URL" --bullmq "$v" --parent-queue "pp$v" --child-queue "pc$v" \
        --phase break --out "$T_DIR/p$v.json" >"$T_DIR/pb$v.out" 2>&1 || die "flow.js break failed: $(tail -3 "$T_DIR/pb$v.out")"
    child=$(node -e "console.log(require('$T_DIR/p$v.json').child)")
    "$BW" dlq purge "pc$v" --all --yes -c "$T_DIR/agent.ini" >/dev/null || not_ok "bullmq $v: purge exit $?"
    check "bullmq $v: the purged child's hash is gone" test "$(rcli EXISTS "bull:pc$v:$child")" = 0
    check "bullmq $v: the parent, released by the purge, is completed by its worker" \
        node_js flow.js --redis "$REDIS_URL" --bullmq "$v" --parent-queue "pp$v" --child-queue "pc$v" \
        --phase check --out "$T_DIR/p$v.json"
done

# Purging a dead parent removes its children too (removeChildren, BullMQ's
# default): no key of the completed child remains, and its queue says so.
for v in 5 6; do
    node_js flow.js --redis "$REDIS_URL" --bullmq "$v" --parent-queue "xp$v" --child-queue "xc$v" \
        --phase break-parent --out "$T_DIR/x$v.json" >"$T_DIR/xb$v.out" 2>&1 || die "flow.js break-parent failed: $(tail -3 "$T_DIR/xb$v.out")"
    check "bullmq $v: the parent died with a completed child" grep -q 'child is completed' "$T_DIR/xb$v.out"
    parent=$(node -e "console.log(require('$T_DIR/x$v.json').parent)")
    child=$(node -e "console.log(require('$T_DIR/x$v.json').child)")
    "$BW" dlq purge "xp$v" "$parent" --yes -c "$T_DIR/agent.ini" >/dev/null || not_ok "bullmq $v: purge exit $?"
    check "bullmq $v: no key of the purged parent remains" \
        test "$(rcli EXISTS "bull:xp$v:$parent" "bull:xp$v:$parent:processed" "bull:xp$v:$parent:dependencies")" = 0
    check "bullmq $v: no key of its child remains" \
        test "$(rcli EXISTS "bull:xc$v:$child" "bull:xc$v:$child:logs")" = 0
    check "bullmq $v: the child left the completed set" test -z "$(rcli ZSCORE "bull:xc$v:completed" "$child")"
    check "bullmq $v: the child's queue got a removed event" \
        sh -c "redis-cli -p $REDIS_PORT XRANGE bull:xc$v:events - + | grep -A3 '^removed$' | grep -qx '$child'"
done

# A parent with a large tree (150 children, each with a child of its own) is
# purged over several calls, 100 descendants a call, so that no call holds
# Redis for long: every job of the tree goes, each with its removed event.
# 6.7 through --all (the window), 5.71 by its id.
for v in 5 6; do
    node_js flow.js --redis "$REDIS_URL" --bullmq "$v" --parent-queue "wp$v" --child-queue "wc$v" \
        --children 150 --grandchildren 1 --phase break-parent --out "$T_DIR/w$v.json" >"$T_DIR/wb$v.out" 2>&1 ||
        die "flow.js break-parent (wide) failed: $(tail -3 "$T_DIR/wb$v.out")"
    check "bullmq $v: a dead parent with 300 completed descendants" \
        node -e 'process.exit(require(process.argv[1]).completed_children === 300 ? 0 : 1)' "$T_DIR/w$v.json"
    parent=$(node -e "console.log(require('$T_DIR/w$v.json').parent)")
    sel=--all
    [ "$v" = 5 ] && sel=$parent
    rcli config resetstat >/dev/null
    "$BW" dlq purge "wp$v" $sel --yes --json -c "$T_DIR/agent.ini" >"$T_DIR/wp$v.json" || not_ok "bullmq $v: wide purge exit $?"
    check "bullmq $v: the parent is purged, once" node -e \
        'const j = require(process.argv[1]); process.exit(j.purged === 1 && j.skipped === 0 ? 0 : 1)' "$T_DIR/wp$v.json"
    check "bullmq $v: ... over at least three script calls" bash -c \
        "[ \$(redis-cli -p $REDIS_PORT info commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p') -ge 3 ]"
    check "bullmq $v: ... taking every descendant with it" \
        test "$(rcli zcard "bull:wc$v:completed") $(rcli --scan --pattern "bull:wc$v:[0-9]*" | wc -l) $(rcli exists "bull:wp$v:$parent")" = "0 0 0"
    check "bullmq $v: ... each with a removed event in its queue" \
        test "$(rcli xrange "bull:wc$v:events" - + | grep -c '^removed$')" = 300
done
