#!/usr/bin/env bash
# Several endpoints per agent ([redis NAME]): two redis-servers, real BullMQ
# making dead jobs on both. One Redis is killed: the other's new dead jobs
# are in the store within 1 s of their failure; status lists both with the
# down one marked, /readyz and /metrics name it; a command that talks to
# one Redis exits 2 without --redis. After the restart (same data, AOF) its
# new dead jobs arrive and nothing is recorded twice.
. "$(dirname "$0")/lib.sh"

start_redis
PA=$REDIS_PORT
URL_A="redis://127.0.0.1:$PA/0"
# b keeps its data across a kill -9 (AOF, fsync always): its old dead jobs
# and their stream entries are still there after the restart
PB=$(free_port)
URL_B="redis://127.0.0.1:$PB/0"
mkdir -p "$T_DIR/b"
start_b() {
    redis-server --port "$PB" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always \
        --dir "$T_DIR/b" --logfile "$T_DIR/b/redis.log" &
    B_PID=$!
    T_PIDS+=($B_PID)
    wait_for 10 redis-cli -p "$PB" ping || die "redis b did not start on $PB"
}
start_b
HPORT=$(free_port)
cat >"$T_DIR/agent.ini" <<INI
[redis a]
url = $URL_A
[redis b]
url = $URL_B
connect_timeout = 500ms
[queues]
discover_every = 1s
poll_every = 500ms
[store]
path = $T_DIR/bw.db
[agent]
block = 200ms
http = 127.0.0.1:$HPORT
INI
INI="$T_DIR/agent.ini"

# count EP QUEUE: failure rows of that endpoint and queue
count() {
    sqlite3 "$T_DIR/bw.db" "SELECT COUNT(*) FROM failures WHERE endpoint = '$1' AND queue = '$2'" 2>/dev/null
}
count_is() { [ "$(count "$1" "$2")" = "$3" ]; }
dead() { # URL QUEUE N OUT
    node_js deadjobs.js --redis "$1" --bullmq 6 --queue "$2" --jobs "$3" --out "$4" >"$4.out" 2>&1 ||
        die "deadjobs.js on $1 failed: $(tail -3 "$4.out")"
}

"$BW" check-config -c "$INI" >"$T_DIR/cc.txt" 2>&1
check "check-config prints both endpoints" \
    bash -c "grep -q '^\[redis a\]' '$T_DIR/cc.txt' && grep -q '^\[redis b\]' '$T_DIR/cc.txt'"

start_agent "$INI"
dead "$URL_A" qa 10 "$T_DIR/qa.json"
dead "$URL_B" qb 10 "$T_DIR/qb.json"
check "dead jobs of both endpoints recorded (a/qa 10, b/qb 10)" \
    wait_for 20 bash -c "$(declare -f count count_is); T_DIR='$T_DIR'; count_is a qa 10 && count_is b qb 10"
check "rows name the endpoint, not the address" \
    test "$(sqlite3 "$T_DIR/bw.db" "SELECT COUNT(*) FROM failures WHERE endpoint NOT IN ('a','b')")" = 0

# ---- b is killed ----
kill -9 "$B_PID"
wait "$B_PID" 2>/dev/null
check "the agent notices b is gone" \
    wait_for 10 grep -q "\[b\] redis 127.0.0.1:$PB/0 (.* link)" "$T_DIR/agent.log"
# a watched queue (no discovery in the way): the store is polled from
# before the jobs fail, and the time the row count is first seen is set
# against the time the last job failed
(
    end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ]; do
        if [ "$(count a qa)" = 20 ]; then
            date +%s%3N >"$T_DIR/seen"
            exit 0
        fi
        sleep 0.02
    done
) &
POLLER=$!
dead "$URL_A" qa 10 "$T_DIR/qa2.json"
wait "$POLLER"
failed_at=$(node -e 'console.log(require(process.argv[1]).last_failed_at)' "$T_DIR/qa2.json")
seen=$(cat "$T_DIR/seen" 2>/dev/null || echo 0)
echo "# a's 10 dead jobs in the store $((seen - failed_at)) ms after the last one failed (b down)"
check "with b down, a's 10 new dead jobs are in the store within 1 s of failing" \
    bash -c "[ '$seen' -gt 0 ] && [ $((seen - failed_at)) -le 1000 ]"
check "exactly 10 of them (a/qa 20)" count_is a qa 20

"$BW" status -c "$INI" >"$T_DIR/st.txt" 2>"$T_DIR/st.err"
rc=$?
check "status with b down lists both, b marked down, exit 3 (got $rc)" \
    bash -c "[ $rc = 3 ] && grep -q '\[a\]' '$T_DIR/st.txt' && grep -q '^qa ' '$T_DIR/st.txt' &&
             grep -q '127.0.0.1:$PB/0  \[b\]  prefix .bull.  DOWN' '$T_DIR/st.txt'"
"$BW" status -c "$INI" --json >"$T_DIR/st.json" 2>/dev/null
check "status --json: a up with its queues, b down" node -e '
  const s = require(process.argv[1]);
  const a = s.endpoints.find((e) => e.endpoint === "a"), b = s.endpoints.find((e) => e.endpoint === "b");
  process.exit(s.endpoints.length === 2 && a.reachable && a.queues.map((q) => q.name).join() === "qa" &&
               !b.reachable && b.error && b.queues.length === 0 ? 0 : 1)' "$T_DIR/st.json"
"$BW" status -c "$INI" --redis a >"$T_DIR/sta.txt" 2>&1
check "status --redis a: that one, exit 0" bash -c "[ $? = 0 ] && ! grep -q DOWN '$T_DIR/sta.txt'"
get() { curl -s -o "$T_DIR/$2" -w '%{http_code}' "http://127.0.0.1:$HPORT$1"; }
check "/readyz is 503 naming b" bash -c "[ \"\$(curl -s -o '$T_DIR/nr.txt' -w '%{http_code}' http://127.0.0.1:$HPORT/readyz)\" = 503 ] && grep -q 'redis b (127.0.0.1:$PB/0) unreachable' '$T_DIR/nr.txt' && ! grep -q 'redis a' '$T_DIR/nr.txt'"
get /metrics metrics.txt >/dev/null
check "/metrics: redis_up per endpoint, series labelled by endpoint" \
    bash -c "grep -q '^bullwatch_redis_up{endpoint=\"a\"} 1' '$T_DIR/metrics.txt' &&
             grep -q '^bullwatch_redis_up{endpoint=\"b\"} 0' '$T_DIR/metrics.txt' &&
             grep -q '^bullwatch_dead_jobs_recorded_total{endpoint=\"a\",queue=\"qa\"} 20' '$T_DIR/metrics.txt'"

"$BW" dlq list qa -c "$INI" >"$T_DIR/dl.out" 2>"$T_DIR/dl.err"
rc=$?
check "dlq without --redis exits 2 listing the endpoints (got $rc)" \
    bash -c "[ $rc = 2 ] && grep -q 'a, b' '$T_DIR/dl.err' && grep -q -- '--redis' '$T_DIR/dl.err'"
"$BW" dlq list qa -c "$INI" --redis a --json >"$T_DIR/dla.json" 2>"$T_DIR/dla.err"
check "dlq list --redis a lists a's 20 dead jobs" node -e '
  process.exit(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).jobs.length === 20 ? 0 : 1)' "$T_DIR/dla.json"
"$BW" dlq list qa -c "$INI" --redis nope >/dev/null 2>"$T_DIR/dln.err"
check "an unknown --redis name exits 2 naming the endpoints" \
    bash -c "[ $? = 2 ] && grep -q \"no redis endpoint 'nope'\" '$T_DIR/dln.err' && grep -q 'a, b' '$T_DIR/dln.err'"

# ---- b comes back with its data ----
start_b
check "b's old dead jobs are still there (AOF)" \
    bash -c "[ \"\$(redis-cli -p $PB zcard bull:qb:failed)\" = 10 ]"
dead "$URL_B" qb2 10 "$T_DIR/qb2.json"
check "after b's restart its new dead jobs arrive (b/qb2 10)" \
    wait_for 20 bash -c "$(declare -f count count_is); T_DIR='$T_DIR'; count_is b qb2 10"
check "/readyz is 200 again" wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HPORT/readyz)\" = 200 ]"
sleep 1 # a few more reads and polls of both, to see nothing come twice
check "nothing doubled: a/qa 20, b/qb 10, b/qb2 10, 40 rows in all" \
    bash -c "$(declare -f count count_is); T_DIR='$T_DIR'; count_is a qa 20 && count_is b qb 10 && count_is b qb2 10 &&
             [ \"\$(sqlite3 '$T_DIR/bw.db' 'SELECT COUNT(*) FROM failures')\" = 40 ]"
"$BW" status -c "$INI" >"$T_DIR/st2.txt" 2>&1
check "status with both up: exit 0, both listed" \
    bash -c "[ $? = 0 ] && grep -q '\[a\]' '$T_DIR/st2.txt' && grep -q '\[b\]' '$T_DIR/st2.txt' && grep -q qb2 '$T_DIR/st2.txt'"
if command -v tmux >/dev/null; then
    T_SOCK="$T_DIR/tmux.sock"
    tm() { tmux -S "$T_SOCK" "$@"; }
    trap 'tm kill-server 2>/dev/null; cleanup' EXIT
    screen_has() { tm capture-pane -p -t tui | grep -q -- "$1"; }
    tm new-session -d -s tui -x 140 -y 30 \
        "TERM=xterm-256color '$BW' tui -c '$INI' 2>'$T_DIR/tui.err'; echo \$? >'$T_DIR/tui.exit'; sleep 30"
    check "the TUI asks which endpoint, listing both" \
        wait_for 10 bash -c "$(declare -f tm screen_has); T_SOCK='$T_SOCK'; screen_has 'which one (1-2' && screen_has '2) b '"
    tm send-keys -t tui 2 Enter
    check "... and shows b's queues, naming every endpoint" \
        wait_for 10 bash -c "$(declare -f tm screen_has); T_SOCK='$T_SOCK'; screen_has 'queues on redis b of a, b' && screen_has '^qb2 '"
    tm send-keys -t tui e
    check "e switches the queues screen to the next endpoint (a)" \
        wait_for 10 bash -c "$(declare -f tm screen_has); T_SOCK='$T_SOCK'; screen_has 'queues on redis a of a, b' && screen_has '^qa ' && ! screen_has '^qb2 '"
    tm send-keys -t tui q
    check "q quits the TUI with exit 0" wait_for 10 grep -qx 0 "$T_DIR/tui.exit"
    tm kill-server 2>/dev/null
fi
kill -HUP "$AGENT_PID"
check "SIGHUP reloads with both endpoints kept" wait_for 10 grep -q 'reload: .*state kept' "$T_DIR/agent.log"
dead "$URL_A" qa 5 "$T_DIR/qa3.json"
dead "$URL_B" qb 5 "$T_DIR/qb3.json"
check "after the reload both still ingest (a/qa 25, b/qb 15)" \
    wait_for 20 bash -c "$(declare -f count count_is); T_DIR='$T_DIR'; count_is a qa 25 && count_is b qb 15"
check "log lines name the endpoint" \
    bash -c "grep -q '\[b\] discovered 1 queue' '$T_DIR/agent.log' && grep -q \"\[a\] watching queue 'qa'\" '$T_DIR/agent.log'"
check "SIGTERM stops the agent with exit 0" stop_agent

# HA with two endpoints: a lease in each endpoint's own Redis, each led
HP2=$(free_port)
cat >"$T_DIR/ha.ini" <<INI
[redis a]
url = $URL_A
[redis b]
url = $URL_B
[queues]
discover_every = 1s
poll_every = 500ms
[store]
path = $T_DIR/ha.db
[agent]
block = 200ms
http = 127.0.0.1:$HP2
ha = on
ha_id = multi-1
ha_lease = 2s
INI
start_agent "$T_DIR/ha.ini" "$T_DIR/ha.log"
holds() { [ "$(redis-cli -p "$1" hget bull:bullwatch:lease holder)" = multi-1 ]; }
check "ha: the agent holds the lease in a's Redis" wait_for 10 holds "$PA"
check "ha: ... and in b's Redis" wait_for 10 holds "$PB"
led() { curl -fsS "http://127.0.0.1:$HP2/metrics" | grep -q "^bullwatch_ha_leader{endpoint=\"$1\"} 1$"; }
check "ha: /metrics says it leads a and b" bash -c "$(declare -f led); HP2=$HP2; led a && led b"
"$BW" status -c "$T_DIR/ha.ini" >"$T_DIR/ha-st.txt" 2>&1
check "ha: status shows a leader for each endpoint" test "$(grep -c "leader 'multi-1'" "$T_DIR/ha-st.txt")" = 2
check "ha: SIGTERM stops that agent with exit 0" stop_agent

# ---- b stopped (SIGSTOP): it accepts connections but answers nothing ----
# b's timeout is 3 s here: a reconnect that waited for b's handshake would
# hold the loop (and a's reads) 3 s each time; the PING probe waits in poll()
sed 's/^connect_timeout = 500ms$/connect_timeout = 3s/' "$INI" >"$T_DIR/stop.ini"
INI_STOP=$T_DIR/stop.ini
start_agent "$INI_STOP" "$T_DIR/agent-stop.log"
check "the agent is up on both again" \
    wait_for 20 bash -c "grep -q '\[b\] .*(stream link): connected' '$T_DIR/agent-stop.log' && grep -q '\[a\] .*(stream link): connected' '$T_DIR/agent-stop.log'"
before=$(count a qa)
kill -STOP "$B_PID"
# b's links hang from now on; let the agent find out (a command of b's
# poll waits out b's 3 s timeout once, then b's reconnects only probe)
check "the agent notices b does not answer" \
    wait_for 15 grep -qE "\[b\] redis .*(timed out|no answer to PING|Resource temporarily unavailable)" "$T_DIR/agent-stop.log"
(
    end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ]; do
        if [ "$(count a qa)" = $((before + 10)) ]; then
            date +%s%3N >"$T_DIR/seen2"
            exit 0
        fi
        sleep 0.02
    done
) &
POLLER=$!
sleep 4 # a duration, not a condition: b stays stopped through several reconnect attempts (0.8 s apart)
dead "$URL_A" qa 10 "$T_DIR/qa4.json"
wait "$POLLER"
failed_at=$(node -e 'console.log(require(process.argv[1]).last_failed_at)' "$T_DIR/qa4.json")
seen=$(cat "$T_DIR/seen2" 2>/dev/null || echo 0)
echo "# a's 10 dead jobs in the store $((seen - failed_at)) ms after the last one failed (b stopped)"
check "with b stopped (SIGSTOP), a's 10 new dead jobs are in the store within 1 s of failing" \
    bash -c "[ '$seen' -gt 0 ] && [ $((seen - failed_at)) -le 1000 ]"
kill -CONT "$B_PID"
bb=$(count b qb)
dead "$URL_B" qb 5 "$T_DIR/qb5.json"
check "b answers again: its 5 new dead jobs recorded" wait_for 20 count_is b qb $((bb + 5))
check "SIGTERM stops that agent with exit 0" stop_agent
