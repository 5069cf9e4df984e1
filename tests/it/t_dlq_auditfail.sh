#!/usr/bin/env bash
# The audit store fails in the middle of a paced purge and of a paced
# replay: another process holds its write lock for longer than busy_timeout
# (5 s). The action says what failed with SQLite's message, stops before its
# next call to Redis, and prints each job whose outcome it could not record;
# every job that left the failed set has an audit row or such a line (never
# both), and no other job was touched. The exit code is 1.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
DB=$T_DIR/bw.db
N=300

# locked: another process holds the store's write lock (sqlite3's own busy
# timeout is 0, so it answers at once)
locked() { ! sqlite3 "$DB" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; }

for verb in purge replay; do
    q=af$verb
    # N synthetic dead jobs 1..N, oldest first, in one server-side loop
    rcli eval "for i = 1, tonumber(ARGV[2]) do
        redis.call('HSET', ARGV[1] .. i, 'name', 'd', 'data', '{}', 'opts', '{\"attempts\":1}', 'finishedOn', 1700000000000 + i)
        redis.call('ZADD', ARGV[1] .. 'failed', 1700000000000 + i, i) end" 0 "bull:$q:" "$N" >/dev/null
    test "$(rcli zcard "bull:$q:failed")" = "$N" || die "$verb: could not write the dead jobs"
    # 20 a second: a call of 20 jobs, then a pause of about a second
    timeout 60 "$BW" dlq "$verb" "$q" --all --yes --rate 20 --json -c "$T_DIR/agent.ini" \
        >"$T_DIR/$verb.json" 2>"$T_DIR/$verb.err" &
    pid=$!
    # the first call's outcomes recorded: the lock comes after them
    wait_for 10 bash -c "[ \$(sqlite3 '$DB' \"SELECT count(*) FROM actions JOIN action_jobs ON action_id = id WHERE queue = '$q'\" 2>/dev/null) -gt 0 ]" ||
        not_ok "$verb: the paced action did not start"
    # hold the write lock for 8 s; .timeout: wait should the action be
    # inside a transaction just then
    (echo ".timeout 10000"; echo "BEGIN IMMEDIATE;"; sleep 8; echo "COMMIT;") | sqlite3 "$DB" &
    locker=$!
    T_PIDS+=($locker)
    check "$verb: the store's write lock is taken while the action runs" wait_for 10 locked
    wait "$pid"
    rc=$?
    wait "$locker"
    check "$verb: the action ends with exit 1" test "$rc" = 1
    # with --json the errors are one JSON object on stderr: its lines, as text
    check "$verb: stderr is one JSON error object (exit_code 1)" node -e '
        const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        if (o.error.exit_code !== 1) process.exit(1);
        require("fs").writeFileSync(process.argv[2], o.error.lines.join("\n") + "\n")' \
        "$T_DIR/$verb.err" "$T_DIR/$verb.errtext"
    check "$verb: it says what failed, with SQLite's message" \
        grep -q "audit store: cannot begin a transaction: database is locked; stopped before the next call to Redis" "$T_DIR/$verb.errtext"
    action=$(sqlite3 "$DB" "SELECT id FROM actions WHERE queue = '$q'")
    sqlite3 "$DB" "SELECT job_id FROM action_jobs WHERE action_id = $action" | sort >"$T_DIR/$verb.rows"
    sed -n "s/^bullwatch dlq $verb: not recorded: job \([^ ]*\) .*/\1/p" "$T_DIR/$verb.errtext" |
        sort >"$T_DIR/$verb.told"
    rcli zrange "bull:$q:failed" 0 -1 | sort >"$T_DIR/$verb.left"
    seq 1 "$N" | sort | comm -23 - "$T_DIR/$verb.left" >"$T_DIR/$verb.gone"
    rows=$(grep -c . "$T_DIR/$verb.rows")
    told=$(grep -c . "$T_DIR/$verb.told")
    left=$(grep -c . "$T_DIR/$verb.left")
    check "$verb: some outcomes were recorded, some told, none both ($rows, $told)" bash -c \
        "[ $rows -gt 0 ] && [ $told -gt 0 ] && [ -z \"\$(comm -12 '$T_DIR/$verb.rows' '$T_DIR/$verb.told')\" ]"
    check "$verb: every job that left the failed set is recorded or told, nothing else" \
        bash -c "sort -m '$T_DIR/$verb.rows' '$T_DIR/$verb.told' | cmp -s - '$T_DIR/$verb.gone'"
    check "$verb: it stopped there: $left still dead = $N - $rows recorded - $told told" \
        test "$left" = "$((N - rows - told))" -a "$left" -gt 0
    if [ "$verb" = replay ]; then
        check "replay: exactly the jobs gone from the failed set wait again" \
            test "$(rcli llen "bull:$q:wait")" = "$((rows + told))"
    else
        check "purge: exactly the jobs gone from the failed set lost their hash" \
            test "$(rcli eval "local n = 0 for i = 1, $N do n = n + redis.call('EXISTS', KEYS[1] .. i) end return n" 1 "bull:$q:")" = "$left"
    fi
    check "$verb: the action is recorded as failed, with every job it changed counted" \
        test "$(sqlite3 "$DB" "SELECT state || ' ' || done FROM actions WHERE id = $action")" = "failed $((rows + told))"
done
