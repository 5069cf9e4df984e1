#!/usr/bin/env bash
# Purge parity with BullMQ's own Job.remove, on 5.71 and 6.7: every kind of
# dead job (plain, prioritized, with logs, deduplicated, lost hash, lost-hash
# parent, flow parent, one in the middle of a tree, parent failed by its
# child with a sibling waiting for a child of its own, children of each failure
# policy, released parents: plain, prioritized, delayed, at the concurrency
# limit, of a paused queue; a scheduler's iteration; dead-letter-queue
# wrappers) is built twice, in databases 1 and 2; bullwatch purges the
# first copy, BullMQ's Job.remove the second. The keyspaces (keys, types,
# contents, minus timestamps) and the events must then be equal, and the
# released parent runs before its queue's backlog in both.
# Kept different on purpose (lua/place.lua): on a paused 6.x queue the
# released parent goes to the legacy `paused` list (6.x: `wait`); both
# reach a worker after resume().
. "$(dirname "$0")/lib.sh"
start_redis
A="redis://127.0.0.1:$REDIS_PORT/1"
B="redis://127.0.0.1:$REDIS_PORT/2"
REDIS_URL=$A write_ini "$T_DIR/a.ini"
for v in 5 6; do
    rcli -n 1 flushdb >/dev/null
    rcli -n 2 flushdb >/dev/null
    for db in 1 2; do
        node_js parity.js --redis "redis://127.0.0.1:$REDIS_PORT/$db" --bullmq "$v" --phase build \
            --out "$T_DIR/plan$v.$db.json" >"$T_DIR/build$v.$db.out" 2>&1 ||
            die "bullmq $v: parity.js build (db $db) failed: $(tail -5 "$T_DIR/build$v.$db.out")"
    done
    check "bullmq $v: 17 fixtures built twice" \
        test "$(node -e 'console.log(require(process.argv[1]).length)' "$T_DIR/plan$v.1.json")" = 17
    # bullwatch, purge by purge in the plan's order; a lost hash is reported
    # as such (exit 3), still purged
    : >"$T_DIR/bw$v.out"
    node -e '
        for (const s of require(process.argv[1]))
            console.log([s.queue, s.all ? "--all" : s.ids.join(" ")].join("\t"));' "$T_DIR/plan$v.1.json" |
        while IFS=$'\t' read -r q sel; do
            # shellcheck disable=SC2086
            "$BW" dlq purge "$q" $sel --yes --json -c "$T_DIR/a.ini" >>"$T_DIR/bw$v.out" 2>>"$T_DIR/bw$v.err"
            echo "exit $?" >>"$T_DIR/bw$v.out"
        done
    check "bullmq $v: every bullwatch purge ran (exit 0, or 3 for the two lost-hash fixtures)" bash -c \
        "[ \$(grep -c '^exit 0' '$T_DIR/bw$v.out') = 15 ] && [ \$(grep -c '^exit 3' '$T_DIR/bw$v.out') = 2 ] &&
         [ \$(grep -c '\"purged\":0,\"skipped\":[12],' '$T_DIR/bw$v.out') = 2 ]"
    node_js parity.js --redis "$B" --bullmq "$v" --phase remove --plan "$T_DIR/plan$v.2.json" \
        >"$T_DIR/rm$v.out" 2>&1 || not_ok "bullmq $v: Job.remove failed: $(tail -5 "$T_DIR/rm$v.out")"
    # 6.x: the paused queue's parent differs on purpose (compared below)
    except=
    [ "$v" = 6 ] && except=relz
    node_js parity.js --redis "$A" --other "$B" --bullmq "$v" --phase compare --except "$except" \
        --out "$T_DIR/diff$v.txt" >"$T_DIR/cmp$v.out" 2>&1
    check "bullmq $v: the keyspace after bullwatch's purge equals the one after Job.remove" \
        grep -q '^equal ' "$T_DIR/cmp$v.out"
    [ "$T_FAILED" = 0 ] || sed 's/^/# /' "$T_DIR/cmp$v.out" | head -60
    check "bullmq $v: ... with the same removed events, 31 of them" \
        grep -q '^equal [0-9]* keys, 31 removed events' "$T_DIR/cmp$v.out"
    check "bullmq $v: the pending sibling of PF, released as its own pending child went, then removed" \
        test "$(rcli -n 1 xrange bull:idle:events - + | grep -vE '^[0-9]+-[0-9]+$|^(event|jobId|prev)$' | tr '\n' ' ')" = \
        "waiting PFC2 waiting-children removed PFG wait removed PFC2 wait "
    check "bullmq $v: the middle job's events in Job.remove's order: its parent released, its child, itself" \
        test "$(rcli -n 1 xrange bull:mid:events - + | grep -vE '^[0-9]+-[0-9]+$|^(event|jobId|prev)$' | tr '\n' ' ')" = \
        "waiting MT waiting-children removed MG completed removed MM failed "
    # what the comparison stands on, said outright
    for db in 1 2; do
        n="-n $db"
        # shellcheck disable=SC2086
        check "bullmq $v db $db: the released parent R is at the tail of wait, behind its backlog" \
            test "$(rcli $n lrange bull:rel:wait 0 -1 | tr '\n' ' ')" = "4 3 2 R "
        # shellcheck disable=SC2086
        check "bullmq $v db $db: the policy parents keep their records of the purged children" \
            test "$(rcli $n zcard bull:pol:PA:unsuccessful) $(rcli $n hexists bull:pol:PB:failed bull:kids:CB) $(rcli $n hexists bull:pol:PC:failed bull:kids:CC)" = "1 1 1"
        # shellcheck disable=SC2086
        check "bullmq $v db $db: no marker on the queue at its concurrency limit, the parent in wait" \
            test "$(rcli $n exists bull:relc:marker) $(rcli $n lrange bull:relc:wait 0 -1)" = "0 RC"
        # shellcheck disable=SC2086
        check "bullmq $v db $db: the deduplication key went with its job" test "$(rcli $n exists bull:dedup:de:d1)" = 0
        # shellcheck disable=SC2086
        check "bullmq $v db $db: the lost hash's logs are gone, and the lost parent's children" \
            test "$(rcli $n exists bull:lost:1:logs bull:lostp:LP:processed bull:kids:LC1 bull:kids:LC2)" = 0
    done
    if [ "$v" = 5 ]; then
        check "bullmq 5: on the paused queue both put the released parent in 'paused'" \
            test "$(rcli -n 1 lrange bull:relz:paused 0 -1) $(rcli -n 2 lrange bull:relz:paused 0 -1)" = "RZ RZ"
    else
        check "bullmq 6: on the paused queue bullwatch puts the released parent in the legacy 'paused' list, BullMQ in 'wait'" \
            test "$(rcli -n 1 lrange bull:relz:paused 0 -1) $(rcli -n 1 llen bull:relz:wait) $(rcli -n 2 lrange bull:relz:wait 0 -1) $(rcli -n 2 llen bull:relz:paused)" = "RZ 0 RZ 0"
    fi
    # the released parent runs first, before the backlog, in both; on the
    # paused queue after resume()
    for db in 1 2; do
        u="redis://127.0.0.1:$REDIS_PORT/$db"
        node_js parity.js --redis "$u" --bullmq "$v" --phase run --queue rel --count 4 \
            --out "$T_DIR/run$v.$db.json" >"$T_DIR/run$v.$db.out" 2>&1
        check "bullmq $v db $db: a worker takes the released parent first, then the backlog" \
            test "$(node -e 'console.log(require(process.argv[1]).join(" "))' "$T_DIR/run$v.$db.json" 2>/dev/null)" = "R 2 3 4"
        (cd "$NODE_DIR" && node -e "
            const {Queue} = require('bullmq$v');
            (async () => { const q = new Queue('relz', {connection: {host: '127.0.0.1', port: $REDIS_PORT, db: $db}});
              await q.resume(); await q.close(); })()") || not_ok "bullmq $v db $db: resume failed"
        node_js parity.js --redis "$u" --bullmq "$v" --phase run --queue relz --count 1 \
            --out "$T_DIR/runz$v.$db.json" >"$T_DIR/runz$v.$db.out" 2>&1
        check "bullmq $v db $db: after resume() a worker runs the paused queue's released parent" \
            test "$(node -e 'console.log(require(process.argv[1]).join(" "))' "$T_DIR/runz$v.$db.json" 2>/dev/null)" = "RZ"
    done
done
check "the audit rows say that the hashes of 3 jobs a version were gone" test "$("$BW" query actions -c "$T_DIR/a.ini" --json |
    node -e 'let n = 0; for (const a of JSON.parse(require("fs").readFileSync(0, "utf8"))) n += a.skipped; console.log(n)')" = 6
# the audit rows say where each released parent went
cat >"$T_DIR/placed.sql" <<'SQL'
SELECT j.job_id, j.detail FROM action_jobs j JOIN actions a ON a.id = j.action_id
WHERE a.verb = 'purge' AND j.detail LIKE 'released its parent to %' ORDER BY j.action_id, j.job_id;
SQL
"$BW" query "$T_DIR/placed.sql" -c "$T_DIR/a.ini" --csv | tr -d '\r' >"$T_DIR/placed.csv"
check "the audit rows say where each released parent went (per version: 5 to wait, 1 to paused)" \
    test "$(grep -c ',released its parent to wait$' "$T_DIR/placed.csv") $(grep -c '^RZK1,released its parent to paused$' "$T_DIR/placed.csv") $(wc -l <"$T_DIR/placed.csv")" = "10 2 13"
