#!/usr/bin/env bash
# bench/multi.sh: one agent, 3 endpoints ([redis NAME]) x 1,000 queues, on
# 3 redis-servers, against one endpoint alone, in the same run (make bench
# runs it; or alone: bash bench/multi.sh). Each server holds 1,000 queues in
# every state (as run.sh's poll row) and one stream of BENCH_MULTI_JOBS
# BullMQ-shaped lifecycles (default 20,000, 20% dead). Prints:
#   - the poll cycle: one depth poll of every queue of every endpoint in
#     turn, as the agent's loop runs them (pollbench), median of 21 rounds,
#     and each endpoint's share;
#   - ingest: agent --drain of the 3 streams at once, events/s per endpoint
#     and in all, against the drain of one endpoint alone.
# Bounded: each step has a timeout; the servers are killed at the end.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench-multi
N=${BENCH_MULTI_JOBS:-20000}
PORTS=()
for k in 1 2 3; do
    p=$(free_port)
    redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" \
        --logfile "$DIR/redis-$k.log" &
    PIDS+=($!)
    for i in $(seq 1 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
    PORTS+=("$p")
done
say "loading 1,000 queues and $N lifecycles into each of 3 redis-servers"
for p in "${PORTS[@]}"; do
    redis-cli -p "$p" eval "for i=0,999 do local p='bull:pq'..i..':' redis.call('HSET',p..'meta','opts.maxLenEvents','10000','version','bullmq:5.71.0') redis.call('LPUSH',p..'wait','3','2','1') redis.call('HSET',p..'1','timestamp','1795400000000') redis.call('ZADD',p..'failed',1,'f1',2,'f2') redis.call('ZADD',p..'completed',1,'c1') redis.call('ZADD',p..'delayed',4096,'d1') end return 1" 0 >/dev/null
    "$B/preload" 127.0.0.1 "$p" ing "$N" 20 >/dev/null
done
ini() { # ini FILE STORE NENDPOINTS
    local k
    : >"$1"
    for k in $(seq 1 "$3"); do
        printf '[redis r%s]\nurl = redis://127.0.0.1:%s/0\n' "$k" "${PORTS[$((k - 1))]}" >>"$1"
    done
    printf '[queues]\npoll_every = 1s\n[store]\npath = %s\n[agent]\nblock = 20ms\nlog_level = warn\n' \
        "$2" >>"$1"
}
ini "$DIR/one.ini" "$DIR/one.db" 1
ini "$DIR/three.ini" "$DIR/three.db" 3
say "poll cycle: 1 endpoint, then 3"
poll1=$(timeout 300 "$B/pollbench" "$DIR/one.ini" 21)
poll3=$(timeout 300 "$B/pollbench" "$DIR/three.ini" 21)
say "ingest: agent --drain of 1 endpoint, then of 3"
ing1=$(timeout 600 "$BW" agent -c "$DIR/one.ini" --drain 2>>"$DIR/agent.err" | tail -1)
ing3=$(timeout 600 "$BW" agent -c "$DIR/three.ini" --drain 2>>"$DIR/agent.err" | tail -1)
per=$(node -e 'const o=JSON.parse(process.argv[1]);console.log((o.endpoints||[]).map(e=>e.events_per_s).join(" / "))' "$ing3")
perf=$(node -e 'const o=JSON.parse(process.argv[1]);console.log((o.endpoints||[]).map(e=>e.failures).join(" / "))' "$ing3")

printf '%-44s %10s %10s %22s\n' "several endpoints (1,000 queues each)" "min ms" "median ms" "per endpoint ms"
printf '%-44s %10s %10s %22s\n' "poll cycle: 1 endpoint ($(j "$poll1" queues) queues)" "$(j "$poll1" ms_min)" "$(j "$poll1" ms_median)" "$(j "$poll1" endpoint_ms_median)"
printf '%-44s %10s %10s %22s\n' "poll cycle: 3 endpoints ($(j "$poll3" queues) queues)" "$(j "$poll3" ms_min)" "$(j "$poll3" ms_median)" "$(j "$poll3" endpoint_ms_median)"
printf '%-44s %10s %12s %26s\n' "ingest, agent --drain ($N jobs an endpoint)" "events/s" "rows" "events/s per endpoint"
printf '%-44s %10s %12s %26s\n' "1 endpoint alone" "$(j "$ing1" events_per_s)" "$(j "$ing1" failures)" "$(j "$ing1" events_per_s)"
printf '%-44s %10s %12s %26s\n' "3 endpoints at once (in all)" "$(j "$ing3" events_per_s)" "$(j "$ing3" failures)" "$per"
echo "  (rows per endpoint: $perf; CPU ${ing1:+$(j "$ing1" cpu_s)} s alone, $(j "$ing3" cpu_s) s for 3)"
