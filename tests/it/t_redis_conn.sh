#!/usr/bin/env bash
# Connecting: a unix socket with an ACL user whose password comes from the
# environment; a user refused CLIENT LIST (workers unknown, nothing else
# breaks); the maxmemory-policy warning; discovery that skips names with ':'
# and '<prefix>::' keys, and honours include/exclude globs and the prefix.
. "$(dirname "$0")/lib.sh"
REDIS_PORT=$(free_port)
sock=$T_DIR/redis.sock
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --unixsocket "$sock" --save '' --appendonly no \
    --dir "$T_DIR" --maxmemory-policy allkeys-lru \
    --user default on nopass '~*' '&*' '+@all' \
    --user watcher on '>w4tch-pw' '~*' '&*' '+@all' '-client' '+client|setname' &
T_PIDS+=($!)
wait_for 10 redis-cli -p "$REDIS_PORT" ping || die "redis-server did not start"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
for q in orders emails-dlq internal-tmp; do
    redis-cli -p "$REDIS_PORT" hset "bull:$q:meta" opts.maxLenEvents 10000 >/dev/null
done
redis-cli -p "$REDIS_PORT" hset "bull:orders:ab:meta" x 1 >/dev/null      # a job key, not a queue
redis-cli -p "$REDIS_PORT" hset "bull::relay:meta" x 1 >/dev/null         # 6.x relay keys
redis-cli -p "$REDIS_PORT" hset "other:billing:meta" x 1 >/dev/null       # another prefix
redis-cli -p "$REDIS_PORT" rpush "bull:orders:wait" 7 >/dev/null
redis-cli -p "$REDIS_PORT" hset "bull:orders:7" timestamp $(( $(date +%s) * 1000 - 90000 )) >/dev/null
cat >"$T_DIR/agent.ini" <<INI
[redis]
url = unix://$sock
username = watcher
password_env = BW_REDIS_PW
[queues]
exclude = internal-*
discover_every = 1s
poll_every = 500ms
[store]
path = $T_DIR/bw.db
INI
export BW_REDIS_PW=w4tch-pw
"$BW" status -c "$T_DIR/agent.ini" --json >"$T_DIR/st.json" 2>"$T_DIR/st.err"
check "status over a unix socket with an ACL user" test -s "$T_DIR/st.json"
check "discovery: queue names only, no ':' names, no '<prefix>::' keys, no other prefix, exclude honoured" \
    node -e 'const s=require(process.argv[1]);const n=s.queues.map(q=>q.name).join(",");process.exit(n==="emails-dlq,orders"?0:(console.log(n),1))' "$T_DIR/st.json"
check "a queue matching [queues] dlq is flagged" node -e \
    'const s=require(process.argv[1]);process.exit(s.queues.find(q=>q.name==="emails-dlq").dlq===true?0:1)' "$T_DIR/st.json"
check "CLIENT LIST refused: workers unknown (null), counts still there" node -e \
    'const s=require(process.argv[1]);const q=s.queues.find(q=>q.name==="orders");process.exit(q.workers===null&&q.counts.waiting===1?0:1)' "$T_DIR/st.json"
check "oldest waiting job age comes from the job at the tail of wait" node -e \
    'const s=require(process.argv[1]);const q=s.queues.find(q=>q.name==="orders");process.exit(q.oldest_waiting_ms>=89000&&q.oldest_waiting_ms<200000?0:1)' "$T_DIR/st.json"
start_agent "$T_DIR/agent.ini"
check "agent connects with the ACL user and watches the queues" \
    wait_for 20 grep -q "watching queue 'orders'" "$T_DIR/agent.log"
check "maxmemory-policy other than noeviction is warned about" \
    grep -q "maxmemory-policy is 'allkeys-lru'" "$T_DIR/agent.log"
unset BW_REDIS_PW
BW_REDIS_PW=wrong "$BW" status -c "$T_DIR/agent.ini" >/dev/null 2>"$T_DIR/bad.err"
check "a wrong password: status exits 1 and says AUTH was refused" \
    bash -c "[ $? = 1 ] && grep -q 'AUTH refused' '$T_DIR/bad.err'"
check "SIGTERM stops the agent with exit 0" stop_agent
