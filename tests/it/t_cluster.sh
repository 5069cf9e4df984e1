#!/usr/bin/env bash
# Redis Cluster: 3 masters (redis-server --cluster-enabled yes, joined with
# redis-cli --cluster create), real BullMQ over an ioredis Cluster
# connection, both key layouts BullMQ documents: one hash-tagged prefix
# ({bull}: every queue in one slot) and hash-tagged queue names ({pay}:
# queues spread over the nodes). In each: the agent records every dead job
# exactly once, status counts equal getJobCounts(), replay and purge work;
# then a queue's slot is moved to another node (MIGRATE, CLUSTER SETSLOT)
# under the running agent, which follows the redirection and records the
# queue's next dead jobs once.
. "$(dirname "$0")/lib.sh"
redis_cluster_start "$T_DIR" 3 || die "the cluster did not form (see $T_DIR/cluster-create.log)"
for p in $CLUSTER_PIDS; do T_PIDS+=("$p"); done
PORTS=($CLUSTER_PORTS)
P1=${PORTS[0]}

ini() { # FILE PREFIX STORE
    cat >"$1" <<INI
[redis]
url = redis+cluster://$CLUSTER_SEEDS
prefix = $2
[queues]
discover_every = 1s
poll_every = 500ms
[store]
path = $3
[agent]
block = 200ms
INI
}
jobs() { # OUT BULLMQ PREFIX QUEUES N
    node_js clusterjobs.js --seeds "$CLUSTER_SEEDS" --bullmq "$2" --prefix "$3" --queues "$4" \
        --jobs "$5" --out "$1" >>"$T_DIR/jobs.log" 2>&1
}
recorded() { # STORE QUEUE: death rows of the queue
    sqlite3 "$1" "SELECT count(*) FROM failures WHERE queue = '$2'"
}
distinct() { # STORE: distinct (queue, job, death) against all rows: "rows distinct"
    sqlite3 "$1" "SELECT count(*) || ' ' || count(DISTINCT queue || '/' || job_id || '/' || finished_on) FROM failures"
}
rows_are() { [ "$(recorded "$1" "$2")" = "$3" ]; }
owner_port() { # KEY: the port of the master serving it
    local slot p
    slot=$(redis-cli -p "$P1" cluster keyslot "$1")
    for p in "${PORTS[@]}"; do
        redis-cli -p "$p" cluster countkeysinslot "$slot" | grep -qv '^0$' && { echo "$p"; return; }
    done
}
# status --json counts of every queue in OUT (clusterjobs.js) equal BullMQ's
counts_match() { # INI OUT
    "$BW" status -c "$1" --json >"$T_DIR/st.json" 2>"$T_DIR/st.err" || return 1
    node -e '
        const s = require(process.argv[1]), b = require(process.argv[2]);
        for (const [name, q] of Object.entries(b.queues)) {
            const x = s.queues.find((y) => y.name === name);
            if (!x) { console.error("missing " + name); process.exit(1); }
            for (const k of ["waiting", "active", "delayed", "completed", "failed", "prioritized", "waiting-children"]) {
                const ours = k.replace("-", "_"); /* status --json: one snake_case vocabulary */
                if ((x.counts[ours] || 0) !== (q.counts[k] || 0)) {
                    console.error(`${name} ${k}: status ${x.counts[ours]} bullmq ${q.counts[k]}`); process.exit(1);
                }
            }
        }' "$T_DIR/st.json" "$2"
}

# ---- layout 1: one hash-tagged prefix, bullmq 5 ----
ini "$T_DIR/a.ini" '{bull}' "$T_DIR/a.db"
start_agent "$T_DIR/a.ini" "$T_DIR/agent-a.log"
A=$AGENT_PID
jobs "$T_DIR/a1.json" 5 '{bull}' pay,mail 6 || die "bullmq 5 could not make dead jobs in the cluster"
check "{bull} prefix: every dead job of pay recorded" wait_for 20 rows_are "$T_DIR/a.db" pay 6
check "{bull} prefix: every dead job of mail recorded" wait_for 20 rows_are "$T_DIR/a.db" mail 6
check "{bull} prefix: none doubled (12 rows, 12 deaths)" test "$(distinct "$T_DIR/a.db")" = "12 12"
check "{bull} prefix: status counts equal getJobCounts()" counts_match "$T_DIR/a.ini" "$T_DIR/a1.json"
"$BW" dlq replay pay --all --yes -c "$T_DIR/a.ini" >"$T_DIR/replay-a.out" 2>&1
check "{bull} prefix: dlq replay re-queues the 6 dead jobs of pay" grep -q "replayed 6 of 6" "$T_DIR/replay-a.out"
"$BW" dlq purge mail --all --yes -c "$T_DIR/a.ini" >"$T_DIR/purge-a.out" 2>&1
check "{bull} prefix: dlq purge removes the 6 dead jobs of mail" grep -q "purged 6 of 6" "$T_DIR/purge-a.out"
jobs "$T_DIR/a2.json" 5 '{bull}' pay,mail 0
check "{bull} prefix: BullMQ sees pay's jobs waiting and mail's gone" node -e '
    const b = require(process.argv[1]).queues;
    process.exit(b.pay.counts.waiting === 6 && b.pay.counts.failed === 0 && b.mail.counts.failed === 0 ? 0 : 1)' "$T_DIR/a2.json"
check "{bull} prefix: a purged job's hash is gone" test "$(redis-cli -c -p "$P1" exists '{bull}:mail:1')" = 0
# a dead-letter queue in the same slot: its wrappers go back in one script
node_js dlqwrap.js --redis "redis+cluster://$CLUSTER_SEEDS" --bullmq 5 --prefix '{bull}' --queue orders \
    --dlq dead --jobs 3 --out "$T_DIR/wrap-a.json" >>"$T_DIR/jobs.log" 2>&1 || die "no wrappers in {bull}"
printf '[queues]\ndlq = dead\n' >>"$T_DIR/a.ini"
"$BW" dlq replay dead --all --yes -c "$T_DIR/a.ini" >"$T_DIR/dlq-a.out" 2>&1
check "{bull} prefix: the 3 wrappers of a dead-letter queue are replayed into their queue" \
    grep -q "replayed 3 of 3" "$T_DIR/dlq-a.out"
AGENT_PID=$A
check "{bull} prefix: the agent exits 0 on SIGTERM" stop_agent

# ---- layout 2: hash-tagged queue names spread over the nodes, bullmq 6 ----
QS='{pay},{mail},{sms},{ops}'
ini "$T_DIR/b.ini" bull "$T_DIR/b.db"
start_agent "$T_DIR/b.ini" "$T_DIR/agent-b.log"
B=$AGENT_PID
jobs "$T_DIR/b1.json" 6 bull "$QS" 5 || die "bullmq 6 could not make dead jobs in the cluster"
nodes=$(for q in '{pay}' '{mail}' '{sms}' '{ops}'; do owner_port "bull:$q:meta"; done | sort -u | wc -l)
check "tagged names: the 4 queues live on $nodes of the 3 masters (more than one)" test "$nodes" -ge 2
for q in '{pay}' '{mail}' '{sms}' '{ops}'; do
    check "tagged names: every dead job of $q recorded" wait_for 20 rows_are "$T_DIR/b.db" "$q" 5
done
check "tagged names: none doubled (20 rows, 20 deaths)" test "$(distinct "$T_DIR/b.db")" = "20 20"
check "tagged names: status counts equal getJobCounts()" counts_match "$T_DIR/b.ini" "$T_DIR/b1.json"
n=$("$BW" dlq list '{sms}' --json -c "$T_DIR/b.ini" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).jobs.length))')
check "tagged names: dlq list {sms} shows its 5 dead jobs (got $n)" test "$n" = 5
"$BW" dlq replay '{sms}' --all --yes -c "$T_DIR/b.ini" >"$T_DIR/replay-b.out" 2>&1
check "tagged names: dlq replay {sms}" grep -q "replayed 5 of 5" "$T_DIR/replay-b.out"
"$BW" dlq purge '{ops}' --all --yes -c "$T_DIR/b.ini" >"$T_DIR/purge-b.out" 2>&1
check "tagged names: dlq purge {ops}" grep -q "purged 5 of 5" "$T_DIR/purge-b.out"

# ---- the slot of {mail} moves to another master under the running agent ----
slot=$(redis-cli -p "$P1" cluster keyslot 'bull:{mail}:meta')
from=$(owner_port 'bull:{mail}:meta')
for p in "${PORTS[@]}"; do [ "$p" != "$from" ] && to=$p && break; done
from_id=$(redis-cli -p "$from" cluster myid)
to_id=$(redis-cli -p "$to" cluster myid)
redis-cli -p "$to" cluster setslot "$slot" importing "$from_id" >/dev/null
redis-cli -p "$from" cluster setslot "$slot" migrating "$to_id" >/dev/null
for i in $(seq 1 100); do # bounded: 100 rounds of 100 keys
    keys=$(redis-cli -p "$from" cluster getkeysinslot "$slot" 100)
    [ -z "$keys" ] && break
    # shellcheck disable=SC2086
    redis-cli -p "$from" migrate 127.0.0.1 "$to" "" 0 5000 keys $keys >/dev/null
done
for p in "${PORTS[@]}"; do redis-cli -p "$p" cluster setslot "$slot" node "$to_id" >/dev/null; done
check "the slot of {mail} now lives on another master" test "$(owner_port 'bull:{mail}:meta')" = "$to"
jobs "$T_DIR/b2.json" 6 bull '{mail}' 4 || die "bullmq 6 could not make dead jobs after the move"
check "after the move: the 4 new dead jobs of {mail} recorded (9 in all)" wait_for 20 rows_are "$T_DIR/b.db" '{mail}' 9
check "the agent followed the redirection (its log says where the slot went)" grep -q "slot $slot moved to 127.0.0.1:$to" "$T_DIR/agent-b.log"
check "after the move: none doubled (24 rows, 24 deaths)" test "$(distinct "$T_DIR/b.db")" = "24 24"
jobs "$T_DIR/b3.json" 6 bull "$QS" 0
check "after the move: status counts equal getJobCounts()" counts_match "$T_DIR/b.ini" "$T_DIR/b3.json"
# a dead-letter queue in another slot than its originals: refused, untouched
node_js dlqwrap.js --redis "redis+cluster://$CLUSTER_SEEDS" --bullmq 6 --prefix bull --queue '{orders}' \
    --dlq '{dead}' --jobs 3 --out "$T_DIR/wrap-b.json" >>"$T_DIR/jobs.log" 2>&1 || die "no wrappers in bull"
printf '[queues]\ndlq = {dead}\n' >>"$T_DIR/b.ini"
"$BW" dlq replay '{dead}' --all --yes -c "$T_DIR/b.ini" >"$T_DIR/dlq-b.out" 2>&1
rc=$?
check "tagged names: a replay out of a dead-letter queue in another slot is refused (exit $rc)" test "$rc" = 2
check "tagged names: the refusal names both queues and the slots" \
    grep -q "'{dead}' and '{orders}' live in different hash slots" "$T_DIR/dlq-b.out"
check "tagged names: the 3 wrappers are still waiting in {dead}" \
    test "$(redis-cli -c -p "$P1" llen 'bull:{dead}:wait')" = 3
AGENT_PID=$B
check "tagged names: the agent exits 0 on SIGTERM" stop_agent
exit $T_FAILED
