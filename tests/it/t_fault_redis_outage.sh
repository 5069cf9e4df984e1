#!/usr/bin/env bash
# Redis really goes away (stopped, not SIGSTOPped) for 8 s and, separately,
# for 30 s, and comes back on the same port with its data (SHUTDOWN SAVE,
# then a new redis-server loading the dump from the same dir, so the
# streams and the agent's cursors still line up).
#
# Why: when Redis answers again the agent must be reading again within a
# second, not after a reconnect backoff doubled up to 30 s (agent-loop.md:
# "when Redis answers again the next probe should come within a second").
#
# Measured: from the moment the restarted redis-server first answers PING
# (polled every ~10 ms) to the moment CLIENT LIST shows the agent's
# `bullwatch:stream` link (polled the same way). Asserted: < 1200 ms, i.e.
# the 1 s promise plus 200 ms for the two polls (each redis-cli call takes
# a few ms) and the handshake. Also: the agent never exits, a dead job made
# after each restart is recorded, and every dead job of the run exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
start_redis
PORT=$REDIS_PORT
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
faultload "$T_DIR/w0.json" --bullmq 6 --queues ro-a --jobs 20 --dead 5 --flaky 2 --waves 1
check "the agent records dead jobs before the outages" wait_for 20 agent_caught_up "$T_DIR/agent.ini"

ms() { date +%s%3N; }
stream_linked() { rcli CLIENT LIST 2>/dev/null | grep -q 'name=bullwatch:stream '; }

outage() { # SECONDS round
    local secs=$1 r=$2 t0 tping tlink i
    rcli SHUTDOWN SAVE >/dev/null 2>&1
    wait "$REDIS_PID" 2>/dev/null
    rcli PING >/dev/null 2>&1 && die "redis still answers after SHUTDOWN"
    sleep "$secs" # the outage itself: a duration, not a condition
    check "the agent kept running through a ${secs} s outage" kill -0 "$AGENT_PID"
    # same command line as scripts/redis.sh, same dir: dump.rdb is loaded
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$T_DIR" --logfile "$T_DIR/redis-$PORT.log" &
    REDIS_PID=$!
    T_PIDS+=($REDIS_PID)
    tping=
    for i in $(seq 1 1000); do # up to ~10 s
        if [ "$(rcli PING 2>/dev/null)" = PONG ]; then tping=$(ms); break; fi
        sleep 0.005
    done
    [ -n "$tping" ] || die "redis-server did not come back on $PORT"
    tlink=
    # bounded at 35 s: today's agent may wait out a 30 s backoff
    while [ $(($(ms) - tping)) -lt 35000 ]; do
        if stream_linked; then tlink=$(ms); break; fi
        sleep 0.005
    done
    if [ -n "$tlink" ]; then
        echo "# outage ${secs} s: stream link back $((tlink - tping)) ms after redis answered PING"
        check "reading again within 1 s of Redis answering after a ${secs} s outage ($((tlink - tping)) ms < 1200)" \
            test $((tlink - tping)) -lt 1200
    else
        not_ok "reading again within 1 s of Redis answering after a ${secs} s outage (no stream link after 35 s)"
    fi
    check "the data survived the restart (every dead job so far still in the failed set)" \
        test "$(rcli ZCARD bull:ro-a:failed)" = $((5 + 2 * (r - 1)))
    faultload "$T_DIR/w$r.json" --bullmq 5 --queues ro-a --jobs 6 --dead 2 --flaky 1 --waves 1
    n=$(node -e 'console.log(require(process.argv[1]).queues["ro-a"].dead)' "$T_DIR/w$r.json")
    want=$((5 + 2 * r))
    check "a dead job made after the ${secs} s outage is recorded" wait_for 20 \
        test "$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM failures WHERE queue = 'ro-a'")" = "$want"
    echo "# outage ${secs} s: $n new dead job(s), $want in all"
}
outage 8 1
outage 30 2

cf merge "$T_DIR/truth.json" "$T_DIR/w0.json" "$T_DIR/w1.json" "$T_DIR/w2.json"
failures_json "$T_DIR/failures.json"
check "every dead job recorded exactly once" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/truth.json" "$T_DIR/failures.json" ro-a
check "SIGTERM stops the agent with exit 0" stop_agent
