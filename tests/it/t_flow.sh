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
