#!/usr/bin/env bash
# bench/store.sh: the audit store after a month (BENCH_STORE=1 make bench,
# or alone: bash bench/store.sh). Builds a store of BENCH_STORE_ROWS failure
# rows (default 1,000,000; the issue's size is 10,000,000: about 4 minutes to
# build here, set it explicitly) with a generator that writes the rows the
# agent's insert path writes (50 queues, 4 signatures each = 200, 30 days,
# job data of ~200 bytes, one ~300-byte stack trace per signature, opts
# per queue), straight into the schema under test, then prints:
#   - each canned query's and each TUI store read's median of 5 runs,
#     process start included (`bullwatch query`, sqlite3 for the TUI reads);
#   - bytes per row and the file size;
#   - retention of the oldest 25%: the longest write-lock hold (one
#     transaction: the agent's slice, or the old single DELETE script) and
#     the file size after;
#   - with schema 0009: queue_signatures and a month of minute_counts
#     generated from the rows, and the engine's evaluation of
#     new_signatures[10m] and baseline(failures[15m], 7d) over the 50
#     queues (bench/evalbench.c). BENCH_STORE_ONLY=eval stops after it.
# BENCH_STORE_BASE=DIR runs the same against the tree in DIR (a build of the
# release before, schema 0001-0005) for the "before" numbers. The store is
# kept under /tmp and deleted at the end.
set -u
{ # the whole script is read before it runs: editing it meanwhile cannot break a run
cd "$(dirname "$0")/.."
TREE=${BENCH_STORE_BASE:-$PWD}
BW=${BW:-$TREE/${BUILD:-build}/bullwatch}
N=${BENCH_STORE_ROWS:-1000000}
DIR=$(mktemp -d /tmp/bullwatch-store-bench.XXXXXX)
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM
DB=$DIR/bw.db
say() { echo "bench-store: $*" >&2; }
need=$((N / 1000 * 1200 / 1000)) # MB, generously (the old schema: ~700 bytes a row on disk)
avail=$(df -Pm /tmp | awk 'NR == 2 {print $4}')
[ "$avail" -gt $((need * 2)) ] || { say "need ~$((need * 2)) MB free in /tmp, have $avail"; exit 1; }

new_schema=0 compact=0
ls "$TREE"/sql/schema/0008_*.sql >/dev/null 2>&1 && new_schema=1
ls "$TREE"/sql/schema/0010_*.sql >/dev/null 2>&1 && compact=1 # failure_log
now=$(($(date +%s) * 1000))
span=$((30 * 86400 * 1000))
t0=$((now - span))

# ---- the store ----
{
    echo "PRAGMA page_size = ${BENCH_STORE_PAGE:-4096};"
    [ $new_schema = 1 ] && echo "PRAGMA auto_vacuum = INCREMENTAL;" # what store_open does for a new file
    echo "PRAGMA journal_mode = WAL;"
    for f in "$TREE"/sql/schema/*.sql; do cat "$f"; done
    echo "PRAGMA user_version = $(ls "$TREE"/sql/schema/*.sql | sed -E 's|.*/0*([0-9]+)_.*|\1|' | sort -n | tail -1);"
} | sqlite3 "$DB" >/dev/null || { say "cannot create the schema"; exit 1; }

# row i: queue i % 50, signature 4 * queue + (i / 50) % 4, finishing at an even
# spread over 30 days; data ~200 bytes of JSON (unique), stack ~300 bytes per
# signature, opts per queue
rows_cte="WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1),
g AS (SELECT i, i % 50 AS q, (i % 50) * 4 + (i / 50) % 4 AS s, $t0 + i * ($span / $N) AS t FROM n)"
stack="'[\"Error: upstream timeout\\n    at Client.call (/srv/app/node_modules/rpc/lib/client.js:' || (100 + s) || ':17)\\n    at async Worker.processJob (/srv/app/dist/workers/handler-' || s || '.js:42:9)\\n    at async Worker.run (/srv/app/node_modules/bullmq/dist/cjs/classes/worker.js:' || (500 + s) || ':28)\\n    at async processTicksAndRejections (node:internal/process/task_queues:95:5)\"]'"
opts="'{\"attempts\":3,\"backoff\":{\"type\":\"exponential\",\"delay\":' || (1000 + q) || '},\"removeOnComplete\":1000}'"
data="'{\"orderId\":' || i || ',\"customer\":\"cus_' || hex(randomblob(12)) || '\",\"items\":[{\"sku\":\"SKU-' || (i % 977) || '\",\"qty\":' || (1 + i % 5) || '}],\"note\":\"' || hex(randomblob(36)) || '\"}'"
reason="'upstream timeout calling service-' || s || ' after 30000ms'"
sigid="printf('%012x', 1000000 + s)"
# bulk load: the tables' time-growing indexes are dropped and built after
# the rows (a sort instead of 10M random inserts), without a journal
if [ $compact = 1 ]; then idx="failure_log_job failure_log_at failure_log_queue_at failure_hours_hour"
elif [ $new_schema = 1 ]; then idx="failure_rows_death failure_rows_at failure_rows_queue_at failure_hours_hour"
else idx="failures_death failures_time failures_sig"; fi
drop_idx=$(for i in $idx; do echo "DROP INDEX $i;"; done)
make_idx=$(for i in $idx; do grep -h "^CREATE .*INDEX $i " "$TREE"/sql/schema/*.sql; done)
load_begin="PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -400000;
BEGIN;
$drop_idx"
t_build=$(date +%s.%N)
say "building $N rows (schema $(ls "$TREE"/sql/schema/*.sql | sed -E 's|.*/([0-9]+)_.*|\1|' | sort | tail -1))"
if [ $compact = 1 ]; then
    # what the agent writes (agent/failrec.c): ids for queue, endpoint,
    # signature; stack, opts, and the name and reason (they repeat) in texts;
    # data_size NULL: the data is stored whole (its length is the size)
    sqlite3 "$DB" >/dev/null <<EOF || { say "generator failed"; exit 1; }
$load_begin
INSERT INTO endpoints (id, name) VALUES (1, 'default');
WITH RECURSIVE k(q) AS (SELECT 0 UNION ALL SELECT q + 1 FROM k WHERE q < 49)
INSERT INTO queue_names (id, queue) SELECT 1 + q, 'queue-' || q FROM k;
WITH RECURSIVE k(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM k WHERE s < 199)
INSERT INTO texts (id, hash, body, last_at) SELECT 1 + s, s, $stack, $now FROM k;
WITH RECURSIVE k(q) AS (SELECT 0 UNION ALL SELECT q + 1 FROM k WHERE q < 49)
INSERT INTO texts (id, hash, body, last_at) SELECT 201 + q, 1000 + q, $opts, $now FROM k;
WITH RECURSIVE k(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM k WHERE s < 199)
INSERT INTO texts (id, hash, body, last_at) SELECT 251 + s, 2000 + s, $reason, $now FROM k;
WITH RECURSIVE k(q) AS (SELECT 0 UNION ALL SELECT q + 1 FROM k WHERE q < 4)
INSERT INTO texts (id, hash, body, last_at) SELECT 451 + q, 3000 + q, 'job-' || q, $now FROM k;
WITH RECURSIVE k(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM k WHERE s < 199)
INSERT INTO signatures (id, signature, signature_text)
SELECT 1 + s, $sigid, 'upstream timeout calling service-<n> after <n>ms' FROM k;
$rows_cte
INSERT INTO failure_log (queue_id, endpoint_id, job_id, finished_at, event_gap, stream_seq, name,
    attempts_made, attempts_allowed, reason, sig_id, data, data_size, flags, opts_id, stack_id,
    created_gap, processed_gap, processed_by, recorded_gap)
SELECT 1 + q, 1, i, t, 0, 0, 451 + q % 5, 3, 3, 251 + s, 1 + s, $data, NULL, 0, 201 + q, 1 + s,
       2000, 500, NULL, 5 FROM g;
INSERT INTO failure_hours SELECT 'default', 'queue-' || (h.queue_id - 1), s.signature, h.hour,
    h.n, h.first, h.last, (SELECT body FROM texts WHERE id = h.reason)
FROM (SELECT queue_id, finished_at / 3600000 AS hour, sig_id, COUNT(*) AS n,
             MIN(finished_at) AS first, MAX(finished_at) AS last, MAX(reason) AS reason
      FROM failure_log GROUP BY queue_id, finished_at / 3600000, sig_id) h
JOIN signatures s ON s.id = h.sig_id;
$make_idx
COMMIT;
PRAGMA journal_mode = WAL;
EOF
elif [ $new_schema = 1 ]; then
    sqlite3 "$DB" >/dev/null <<EOF || { say "generator failed"; exit 1; }
$load_begin
WITH RECURSIVE k(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM k WHERE s < 199)
INSERT INTO texts (body, last_at) SELECT $stack, $now FROM k;
WITH RECURSIVE k(q) AS (SELECT 0 UNION ALL SELECT q + 1 FROM k WHERE q < 49)
INSERT INTO texts (body, last_at) SELECT $opts, $now FROM k;
WITH RECURSIVE k(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM k WHERE s < 199)
INSERT INTO signatures SELECT $sigid, 'upstream timeout calling service-<n> after <n>ms' FROM k;
$rows_cte
INSERT INTO failure_rows (endpoint, queue, job_id, stream_id, event_time, finished_at, name,
    attempts_made, attempts_allowed, failed_reason, signature, data, data_size, data_truncated,
    data_json, opts_id, stack_id, timestamp, processed_on, finished_on, processed_by,
    hash_missing, reconciled, recorded_at)
SELECT 'default', 'queue-' || q, i, t || '-0', t, t, 'job-' || (q % 5), 3, 3, $reason, $sigid,
       $data, 200, 0, 1, 201 + q, 1 + s, t - 2000, t - 500, t, NULL, 0, 0, t + 5 FROM g;
INSERT INTO failure_hours SELECT endpoint, queue, COALESCE(signature, ''), finished_at / 3600000,
    COUNT(*), MIN(finished_at), MAX(finished_at), MAX(failed_reason)
FROM failure_rows GROUP BY queue, finished_at / 3600000, COALESCE(signature, ''), endpoint;
$make_idx
COMMIT;
PRAGMA journal_mode = WAL;
EOF
else
    sqlite3 "$DB" >/dev/null <<EOF || { say "generator failed"; exit 1; }
$load_begin
$rows_cte
INSERT INTO failures (endpoint, queue, job_id, stream_id, event_time, name, attempts_made,
    attempts_allowed, failed_reason, signature, signature_text, data, data_size, data_truncated,
    data_json, opts, stacktrace, timestamp, processed_on, finished_on, processed_by,
    hash_missing, reconciled, recorded_at)
SELECT 'default', 'queue-' || q, i, t || '-0', t, 'job-' || (q % 5), 3, 3, $reason, $sigid,
       'upstream timeout calling service-<n> after <n>ms', $data, 200, 0, 1, $opts, $stack,
       t - 2000, t - 500, t, NULL, 0, 0, t + 5 FROM g;
$make_idx
COMMIT;
PRAGMA journal_mode = WAL;
EOF
fi
if [ -f "$TREE"/sql/schema/0009_signatures_seen.sql ]; then
    rows=failure_rows
    minutes="INSERT INTO minute_counts (endpoint, queue, minute, added, completed, failed, retries)
SELECT endpoint, queue, finished_at / 60000, 4 * COUNT(*), 3 * COUNT(*), COUNT(*), 2 * COUNT(*)
FROM failure_rows GROUP BY endpoint, queue, finished_at / 60000;"
    if [ $compact = 1 ]; then # 0010: the table under the view, by ids
        rows=failures
        minutes="INSERT INTO minute_log (queue_id, endpoint_id, minute, added, completed, failed, retries)
SELECT queue_id, endpoint_id, finished_at / 60000, 4 * COUNT(*), 3 * COUNT(*), COUNT(*), 2 * COUNT(*)
FROM failure_log GROUP BY queue_id, endpoint_id, finished_at / 60000;"
    fi
    # what the agent's window keeps beside the rows: per queue and
    # signature (0009), per queue and minute (30 days of counts)
    sqlite3 "$DB" >/dev/null <<EOF || { say "generator (0009) failed"; exit 1; }
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -400000;
BEGIN;
INSERT INTO queue_signatures SELECT endpoint, queue, signature, MIN(finished_at), MAX(finished_at),
    COUNT(*), MAX(failed_reason), MAX(job_id)
FROM $rows WHERE signature IS NOT NULL GROUP BY queue, signature, endpoint;
$minutes
COMMIT;
PRAGMA journal_mode = WAL;
EOF
fi
t_built=$(date +%s.%N)
size_before=$(stat -c %s "$DB")
say "built in $(echo "$t_built - $t_build" | bc) s"
printf '[redis]\nurl = redis://127.0.0.1:1/0\n[store]\npath = %s\n' "$DB" >"$DIR/a.ini"
if [ -f "$TREE"/sql/schema/0009_signatures_seen.sql ]; then
    make --no-print-directory -s "${BUILD:-build}/bench/evalbench" >&2 || exit 1
    r=$("${BUILD:-build}/bench/evalbench" store "$DB" 50) || exit 1
    jv() { echo "$r" | sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
    printf '%-58s %8s\n' "evaluation of 50 queues ($N rows)" "median us"
    printf '%-58s %8s\n' "new_signatures[10m] > 0 (10 new signatures)" "$(jv new_signatures_eval_us)"
    printf '%-58s %8s\n' "+ baseline(failures[15m], 7d): first of a minute" "$(jv with_baseline_first_eval_us)"
    printf '%-58s %8s\n' "+ baseline(failures[15m], 7d): cached in the minute" "$(jv with_baseline_cached_eval_us)"
    [ "${BENCH_STORE_ONLY:-}" = eval ] && exit 0
fi

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ms() { # ms COMMAND... : median wall time of 5 runs, ms
    for r in 1 2 3 4 5; do
        local a b
        a=$(date +%s%N)
        "$@" >/dev/null 2>&1
        b=$(date +%s%N)
        echo $(((b - a) / 1000000))
    done | median
}
q() { "$BW" query "$1" -c "$DIR/a.ini" "${@:2}"; }
mid=$((N / 2))
printf '%-58s %8s\n' "read ($N rows)" "median ms"
row() { printf '%-58s %8s\n' "$1" "$(ms "${@:2}")"; }
row "query failures --param since=2h" q failures --param since=2h
row "query failures --param queue=queue-7 --param limit=50" q failures --param queue=queue-7 --param limit=50
row "query failures --param since=7d --param limit=100" q failures --param since=7d --param limit=100
row "query failures --param queue=queue-7 --param since=7d --param until=6d" q failures --param queue=queue-7 --param since=7d --param until=6d
row "query top_signatures (last 24 h)" q top_signatures
row "query top_signatures --param queue=queue-7" q top_signatures --param queue=queue-7
row "query job_history (one job)" q job_history --param queue=queue-$((mid % 50)) --param job_id=$mid
row "query minute_counts" q minute_counts
row "query gaps" q gaps
row "query actions" q actions
row "query alert_history" q alert_history
row "query deliveries" q deliveries
row "query replay_outcomes" q replay_outcomes
# the TUI's reads, through sqlite3 (the SQL of the tree under test)
tui_sql() { # name -> SQL with the TUI's parameters inlined
    local qn="'queue-$((mid % 50))'" ep="'default'"
    [ "$1" = minute ] && qn=$((now / 60000 - 1)) # tui_minute: ?2 is the last full minute
    if [ -f "$TREE/sql/stmt/tui_$1.sql" ]; then
        grep -v '^--' "$TREE/sql/stmt/tui_$1.sql"
    else # the release before kept them in tui/data.c
        case $1 in
        minute) echo "SELECT queue, completed, failed FROM minute_counts WHERE endpoint = ?1 AND minute = ?2;" ;;
        timeline) echo "SELECT event_time, COALESCE(failed_reason, '') FROM failures WHERE endpoint = ?1 AND queue = ?2 AND job_id = ?3 UNION ALL SELECT j.at, j.outcome FROM action_jobs j JOIN actions a ON a.id = j.action_id WHERE a.endpoint = ?1 AND a.queue = ?2 AND j.job_id = ?3 ORDER BY 1 LIMIT 200;" ;;
        signatures) echo "SELECT COUNT(*), signature, MIN(event_time), MAX(event_time), MAX(failed_reason) FROM failures WHERE endpoint = ?1 AND queue = ?2 GROUP BY signature ORDER BY COUNT(*) DESC, MAX(event_time) DESC LIMIT 200;" ;;
        alerts) echo "SELECT a.state, (SELECT severity FROM alert_transitions t WHERE t.rule = a.rule AND t.queue = a.queue ORDER BY t.id DESC LIMIT 1) FROM alert_state a WHERE a.state != 'inactive';" ;;
        audit) echo "SELECT id FROM actions ORDER BY id DESC LIMIT 500;" ;;
        deliveries) echo "SELECT id FROM outbox ORDER BY id DESC LIMIT 500;" ;;
        silences) echo "SELECT matchers FROM silences WHERE expires_at > ?1;" ;;
        firing) echo "SELECT DISTINCT queue FROM alert_state WHERE state = 'firing';" ;;
        esac
    fi | sed -e "s/?1/$ep/g; s/?2/$qn/g; s/?3/'$mid'/g" -e "s/minute = $qn/minute = $((now / 60000 - 1))/; s/expires_at > $qn/expires_at > $now/"
}
for t in minute firing timeline signatures alerts audit deliveries silences; do
    tui_sql $t >"$DIR/tui_$t.sql"
    row "tui: $t" sh -c "sqlite3 '$DB' <'$DIR/tui_$t.sql'"
done
rows=$(sqlite3 "$DB" "SELECT COUNT(*) FROM $([ $compact = 1 ] && echo failure_log || echo failures)")
printf '%-58s %8s\n' "rows" "$rows"
printf '%-58s %8s\n' "file size (MB)" "$((size_before / 1000000))"
printf '%-58s %8s\n' "bytes per row (file size / rows)" "$((size_before / rows))"

# ---- retention of the oldest 25% ----
cutoff=$((t0 + span / 4))
[ -n "${BENCH_STORE_COPY:-}" ] && cp "$DB" "$BENCH_STORE_COPY"
if [ $new_schema = 1 ]; then
    # the agent's own slices (storeadmin.c), one transaction each
    make --no-print-directory -s "${BUILD:-build}/bench/retbench" >&2 || exit 1
    r=$("${BUILD:-build}/bench/retbench" "$DB" "$cutoff" 2>"$DIR/ret.log") || { cat "$DIR/ret.log" >&2; exit 1; }
    jv() { echo "$r" | sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
    printf '%-58s %8s\n' "retention of the oldest 25%: transactions (slices)" "$(jv slices)"
    printf '%-58s %8s\n' "retention: longest write-lock hold (ms)" "$(jv longest_ms)"
    printf '%-58s %8s\n' "retention: total (s)" "$(echo "scale=1; $(jv wall_ms) / 1000" | bc)"
    printf '%-58s %8s\n' "retention: WAL checkpoints (after COMMIT, lock released)" "$(jv checkpoints)"
    printf '%-58s %8s\n' "retention: longest checkpoint (ms)" "$(jv checkpoint_longest_ms)"
    sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
else
    # the release before: one DELETE script in one transaction
    python3 - "$DB" "$TREE" "$cutoff" <<'PY'
import sqlite3, sys, time
db, tree, cutoff = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db, isolation_level=None)
txt = "\n".join(l for l in open(f"{tree}/sql/stmt/retention.sql") if not l.lstrip().startswith("--"))
a = time.monotonic()
c.execute("BEGIN IMMEDIATE")
for s in [s for s in txt.split(";") if s.strip()]:
    c.execute(s, {"cutoff": cutoff})
c.execute("COMMIT")
d = (time.monotonic() - a) * 1000
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(f"{'retention of the oldest 25%: transactions':58s} {1:8d}")
print(f"{'retention: longest write-lock hold (ms)':58s} {d:8.1f}")
print(f"{'retention: total (s)':58s} {d / 1000:8.1f}")
PY
fi
size_after=$(stat -c %s "$DB")
printf '%-58s %8s\n' "file size after retention (MB)" "$((size_after / 1000000))"
exit
}
