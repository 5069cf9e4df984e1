#!/usr/bin/env bash
# Sentinel: a master, a replica (--replicaof) and one redis-sentinel
# (quorum 1, with requirepass, so the agent's sentinel auth is used) on
# loopback. The agent reads through
# redis+sentinel://127.0.0.1:S/mymaster/0 while real BullMQ producers and
# workers, connected through ioredis's sentinel options, make dead jobs;
# SENTINEL FAILOVER mymaster happens mid-workload.
#
# Asserted: every dead job the new master holds once the workload ends (as
# BullMQ reports it: replication is asynchronous, so a failure Redis itself
# lost in the switch is in neither) is recorded exactly once; the switch is
# logged once; the agent's stream link is on the new master within 5 s of
# the SENTINEL FAILOVER command (measured: the command's start to CLIENT
# LIST of the new master showing bullwatch:stream, polled every ~10 ms); the
# first failure on the new master after that (ZCOUNT of its failed sets by
# finishedOn, polled) is in the store within 1 s; the rows the old master
# lost are counted (printed, from the agent's log line); status and
# dlq list work through the sentinel URL; a wrong sentinel password and an
# unknown master name fail with messages naming the sentinel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"
SPW=sent-pw-Xq7
start_redis
M=$REDIS_PORT
R=$(free_port) || die "no free port"
redis-server --port "$R" --bind 127.0.0.1 --save '' --appendonly no --dir "$T_DIR" \
    --logfile "$T_DIR/redis-$R.log" --replicaof 127.0.0.1 "$M" &
T_PIDS+=($!)
S=$(free_port) || die "no free port"
cat >"$T_DIR/sentinel.conf" <<CONF
port $S
bind 127.0.0.1
dir $T_DIR
logfile $T_DIR/sentinel.log
requirepass $SPW
sentinel monitor mymaster 127.0.0.1 $M 1
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 4000
CONF
# redis-server in sentinel mode: what the redis-sentinel package links to, so
# no second package is needed
redis-server "$T_DIR/sentinel.conf" --sentinel &
T_PIDS+=($!)
scli() { redis-cli -p "$S" --no-auth-warning -a "$SPW" "$@"; }
replica_linked() {
    [ "$(redis-cli -p "$R" INFO replication | tr -d '\r' | grep -c '^master_link_status:up')" = 1 ] &&
        scli SENTINEL replicas mymaster | grep -q "^127.0.0.1:$R\$\|^$R\$"
}
check "the replica is in sync and the sentinel knows it" wait_for 30 replica_linked

REDIS_URL="redis+sentinel://127.0.0.1:$S/mymaster/0"
write_ini "$T_DIR/agent.ini"
sed -i "/^url = /a sentinel_password_env = BW_SENTINEL_PW" "$T_DIR/agent.ini"
export BW_SENTINEL_PW=$SPW
"$BW" check-config -c "$T_DIR/agent.ini" >/dev/null || die "check-config refused the sentinel url"

# a wrong sentinel password is refused with a message naming the sentinel
BW_SENTINEL_PW=wrong "$BW" status -c "$T_DIR/agent.ini" >"$T_DIR/badpw.out" 2>&1
check "a wrong sentinel password: status exits 1 naming the sentinel and AUTH" \
    grep -q "sentinel 127.0.0.1:$S: AUTH refused" "$T_DIR/badpw.out"

start_agent "$T_DIR/agent.ini"
check "the agent finds the master through the sentinel" \
    wait_for 10 grep -q "endpoint default: master mymaster is at 127.0.0.1:$M (sentinel 127.0.0.1:$S)" "$T_DIR/agent.log"
stream_on() { redis-cli -p "$1" CLIENT LIST 2>/dev/null | grep -q 'name=bullwatch:stream '; }
check "the stream link is on the master" wait_for 10 stream_on "$M"

node_js sentinel_load.js --sentinel-port "$S" --sentinel-password "$SPW" --master mymaster \
    --bullmq 6 --queues st-a,st-b --jobs 200 --rate 25 --signal-at 80 \
    --signal "$T_DIR/go" --out "$T_DIR/truth.json" >"$T_DIR/load.log" 2>&1 &
LOAD=$!
T_PIDS+=($LOAD)
wait_for 60 test -s "$T_DIR/go" || die "the workload did not start: $(tail -5 "$T_DIR/load.log")"

ms() { date +%s%3N; }
rows() { sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM failures"; }
t0=$(ms)
scli SENTINEL FAILOVER mymaster >"$T_DIR/failover.out" 2>&1
grep -q OK "$T_DIR/failover.out" || die "SENTINEL FAILOVER: $(cat "$T_DIR/failover.out")"
tlink=
while [ $(($(ms) - t0)) -lt 20000 ]; do
    if stream_on "$R"; then tlink=$(ms); break; fi
    sleep 0.01
done
# then the first failure on the new master after the link moved (BullMQ's
# workers take their own time to come back: lock expiry, stalled checks)
# and the agent's row of it (an event after the link moved comes from the
# new master: the agent reads the old one no more)
tredis=
trow=
newfail() { echo $(($(redis-cli -p "$R" ZCOUNT bull:st-a:failed "$tlink" +inf) + $(redis-cli -p "$R" ZCOUNT bull:st-b:failed "$tlink" +inf))); }
while [ -n "$tlink" ] && [ $(($(ms) - t0)) -lt 30000 ] && [ -z "$trow" ]; do
    [ -z "$tredis" ] && [ "$(newfail)" -gt 0 ] && tredis=$(ms)
    [ "$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM failures WHERE event_time >= $tlink")" -gt 0 ] && trow=$(ms)
    sleep 0.02
done
if [ -n "$tlink" ]; then
    echo "# failover: stream link on the new master $((tlink - t0)) ms after SENTINEL FAILOVER"
    check "reading from the new master within 5 s of SENTINEL FAILOVER ($((tlink - t0)) ms)" \
        test $((tlink - t0)) -le 5000
else
    not_ok "reading from the new master within 5 s of SENTINEL FAILOVER (not within 20 s)"
fi
if [ -n "$trow" ]; then
    tredis=${tredis:-$trow}
    echo "# failover: first new failure on the new master $((tredis - t0)) ms after SENTINEL FAILOVER, its row $((trow - tredis)) ms later"
    check "the first failure on the new master is recorded within 1 s ($((trow - tredis)) ms)" \
        test $((trow - tredis)) -le 1000
else
    not_ok "a failure on the new master recorded (none within 30 s)"
fi
check "the switch is logged once" \
    test "$(grep -c "endpoint default: master mymaster moved from 127.0.0.1:$M to 127.0.0.1:$R (sentinel 127.0.0.1:$S)" "$T_DIR/agent.log")" = 1
check "the old master is a replica now" \
    wait_for 10 sh -c "redis-cli -p $M ROLE | head -1 | grep -qx slave"
check "the agent has no link left on the old master" \
    wait_for 10 sh -c "! redis-cli -p $M CLIENT LIST | grep -q name=bullwatch:"

lost=$(sed -n 's/.*: \([0-9]*\) failure row(s) of queue .* removed from the store$/\1/p' "$T_DIR/agent.log" |
    awk '{n += $1} END {print n + 0}')
echo "# failover: $lost failure row(s) read from the old master were lost by Redis in the switch and removed"
wait "$LOAD" || die "sentinel_load.js failed: $(tail -5 "$T_DIR/load.log")"
echo "# $(tail -1 "$T_DIR/load.log")"
REDIS_PORT=$R # rcli and counts now ask the new master
check "the agent has read every stream to its end" wait_for 20 agent_caught_up "$T_DIR/agent.ini"
failures_json "$T_DIR/failures.json"
check "every dead job on the new master recorded exactly once, none doubled" \
    node "$NODE_DIR/js/check_ingest.js" dead "$T_DIR/truth.json" "$T_DIR/failures.json"
nd=$(node -e 'console.log(require(process.argv[1]).dead.length)' "$T_DIR/truth.json")
check "the store's failure rows equal BullMQ's failed count ($nd)" test "$(rows)" = "$nd"
node -e 'const t=require(process.argv[1]); require("fs").writeFileSync(process.argv[2], JSON.stringify(t.counts))' \
    "$T_DIR/truth.json" "$T_DIR/counts.json"

"$BW" status -c "$T_DIR/agent.ini" --json >"$T_DIR/status.json" 2>"$T_DIR/status.err"
check "status through the sentinel url" test $? = 0
check "status counts equal getJobCounts() on the new master" \
    node "$NODE_DIR/js/check_ingest.js" counts "$T_DIR/status.json" "$T_DIR/counts.json" 6
na=$(node -e 'console.log(require(process.argv[1]).dead.filter(d=>d.queue==="st-a").length)' "$T_DIR/truth.json")
"$BW" dlq list st-a -c "$T_DIR/agent.ini" --json >"$T_DIR/dlq.json" 2>"$T_DIR/dlq.err"
check "dlq list through the sentinel url lists st-a's $na dead jobs" \
    node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.exit(j.dead_total===Number(process.argv[2])?0:1)' \
    "$T_DIR/dlq.json" "$na"

# a master name the sentinel does not know: a clear message naming the sentinel
cat >"$T_DIR/stale.ini" <<INI
[redis]
url = redis+sentinel://127.0.0.1:$S/nosuch/0
sentinel_password = $SPW
[store]
path = $T_DIR/bw.db
INI
"$BW" status -c "$T_DIR/stale.ini" >"$T_DIR/stale.out" 2>&1
check "an unknown master name: status exits 1 naming the sentinel" \
    grep -q "sentinel 127.0.0.1:$S: does not know master 'nosuch'" "$T_DIR/stale.out"
check "the agent never exited" kill -0 "$AGENT_PID"
check "SIGTERM stops the agent with exit 0" stop_agent
