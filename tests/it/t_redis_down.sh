#!/usr/bin/env bash
# Redis unreachable: the agent does not exit, logs the outage once (not once
# per retry), connects when Redis appears, and ingests; the same after a
# Redis restart. status exits 1 with a message naming the server.
. "$(dirname "$0")/lib.sh"
REDIS_PORT=$(free_port)
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
write_ini "$T_DIR/agent.ini"
"$BW" status -c "$T_DIR/agent.ini" >/dev/null 2>"$T_DIR/st.err"
check "status with Redis down exits 1 naming the server" \
    bash -c "[ $? = 1 ] && grep -q '127.0.0.1:$REDIS_PORT/0' '$T_DIR/st.err'"
start_agent "$T_DIR/agent.ini"
sleep 1.5 # long enough for several reconnect attempts (backoff from 100 ms)
check "agent keeps running while Redis is down" kill -0 "$AGENT_PID"
check "the outage is logged once, not once per retry" \
    bash -c "[ \$(grep -c 'cannot connect' '$T_DIR/agent.log') = 1 ]"
start_redis "$REDIS_PORT"
node_js trim.js --redis "$REDIS_URL" --bullmq 6 --queue down1 --jobs 20 --check-trim false \
    --out "$T_DIR/d1.json" >"$T_DIR/d1.out" 2>&1 || die "trim.js failed: $(tail -3 "$T_DIR/d1.out")"
check "agent connects once Redis is up and catches up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
wait_for 10 bash -c "grep -q 'connection lost\|Server closed\|cannot connect' '$T_DIR/agent.log'"
start_redis "$REDIS_PORT" # a fresh, empty server on the same port
node_js trim.js --redis "$REDIS_URL" --bullmq 5 --queue down2 --jobs 20 --check-trim false \
    --out "$T_DIR/d2.json" >"$T_DIR/d2.out" 2>&1 || die "trim.js failed: $(tail -3 "$T_DIR/d2.out")"
check "agent reconnects after a Redis restart and catches up" wait_for 30 agent_caught_up "$T_DIR/agent.ini"
check "the reconnection is logged" grep -q 'connection restored' "$T_DIR/agent.log"
failures_json "$T_DIR/failures.json"
check "dead jobs of both Redis lives are recorded" node -e \
    'const f=require(process.argv[1]);const n=q=>f.filter(r=>r.queue===q).length;process.exit(n("down1")===16&&n("down2")===16?0:1)' \
    "$T_DIR/failures.json"
check "SIGTERM stops the agent with exit 0" stop_agent
