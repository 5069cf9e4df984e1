# Sourced by scripts/demo.sh and tests/it/lib.sh: one way to start a
# throwaway redis-server on loopback.

# free_port: a loopback port nothing listens on now
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# redis_start DIR [PORT]: start redis-server (no persistence, its log in
# DIR) and wait until it answers. Another free port is tried when the
# chosen one was taken meanwhile (3 tries, 10 s each; a fixed PORT is tried
# once). Sets REDIS_PORT and REDIS_PID; returns 1 when it did not start.
redis_start() {
    local dir=$1 fixed=${2:-} try i
    for try in 1 2 3; do
        REDIS_PORT=${fixed:-$(free_port)} || return 1
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$dir" --logfile "$dir/redis-$REDIS_PORT.log" &
        REDIS_PID=$!
        for i in $(seq 1 100); do
            kill -0 "$REDIS_PID" 2>/dev/null || break
            redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
            sleep 0.1
        done
        kill -9 "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
        [ -n "$fixed" ] && break
    done
    return 1
}

# cluster_port: a free loopback port below 30000 whose cluster bus port
# (+10000) is free too
cluster_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 10000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
            ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# redis_cluster_start DIR N: N cluster-enabled redis-servers on free
# loopback ports joined into one cluster of N masters (no replicas), and
# wait until every node says cluster_state:ok. Sets CLUSTER_PORTS (space
# separated), CLUSTER_PIDS and CLUSTER_SEEDS ("127.0.0.1:p,..."); returns 1
# when the cluster did not form.
redis_cluster_start() {
    local dir=$1 n=$2 i p ok
    CLUSTER_PORTS= CLUSTER_PIDS= CLUSTER_SEEDS=
    local addrs=
    local try pid up
    for i in $(seq 1 "$n"); do
        # another free port is tried when the chosen one (or its cluster bus
        # port, +10000) was taken meanwhile
        for try in 1 2 3; do
            p=$(cluster_port) || return 1
            mkdir -p "$dir/node-$p"
            redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
                --cluster-enabled yes --cluster-config-file "$dir/node-$p/nodes.conf" \
                --cluster-node-timeout 2000 --dir "$dir/node-$p" --logfile "$dir/node-$p/redis.log" &
            pid=$!
            up=0
            for j in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                redis-cli -p "$p" ping >/dev/null 2>&1 && up=1 && break
                sleep 0.1
            done
            [ "$up" = 1 ] && break
            kill -9 "$pid" 2>/dev/null
        done
        [ "$up" = 1 ] || return 1
        CLUSTER_PIDS="$CLUSTER_PIDS $pid"
        CLUSTER_PORTS="$CLUSTER_PORTS $p"
        addrs="$addrs 127.0.0.1:$p"
        CLUSTER_SEEDS="${CLUSTER_SEEDS:+$CLUSTER_SEEDS,}127.0.0.1:$p"
    done
    # shellcheck disable=SC2086
    redis-cli --cluster create $addrs --cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 ||
        return 1
    for i in $(seq 1 200); do
        ok=1
        for p in $CLUSTER_PORTS; do
            redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}
