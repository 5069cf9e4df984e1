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
