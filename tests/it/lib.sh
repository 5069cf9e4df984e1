# Shared helpers for the integration tests (sourced). Each test gets a
# scratch dir, its own redis-server on a free loopback port, and cleanup of
# every process it started, whatever happens.
set -u
BW=${BW:-$PWD/${BUILD:-build}/bullwatch}
NODE_DIR=${NODE_DIR:-$PWD/tests}
T_NAME=${T_NAME:-$(basename "$0" .sh)}
T_DIR=$(mktemp -d "/tmp/bullwatch-it-$T_NAME.XXXXXX")
T_PIDS=()
T_FAILED=0
REDIS_PORT=
REDIS_URL=
AGENT_PID=

cleanup() {
    local p
    for p in "${T_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
    done
    wait 2>/dev/null
    if [ "$T_FAILED" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$T_DIR"
    else
        echo "# scratch dir kept: $T_DIR" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $T_NAME: $*"; }
not_ok() {
    echo "not ok - $T_NAME: $*"
    T_FAILED=1
}
check() { # check "description" command...
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
die() {
    not_ok "$*"
    exit 1
}

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/redis.sh" # free_port, redis_start

# wait_for SECONDS command... : poll every 100 ms until the command succeeds.
wait_for() {
    local secs=$1
    shift
    local end=$((SECONDS + secs))
    while [ $SECONDS -lt $end ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    "$@" >/dev/null 2>&1
}

# receiver NAME [receiver.js options]: a loopback webhook receiver
# (tests/js/receiver.js) logging every request to $T_DIR/NAME.log; sets
# RPORT and RPID.
receiver() {
    local name=$1
    shift
    rm -f "$T_DIR/$name.port"
    node "$NODE_DIR/js/receiver.js" --log "$T_DIR/$name.log" --port-file "$T_DIR/$name.port" "$@" \
        >"$T_DIR/$name.out" 2>&1 &
    RPID=$!
    T_PIDS+=($RPID)
    wait_for 10 test -s "$T_DIR/$name.port" || die "receiver $name did not start"
    RPORT=$(cat "$T_DIR/$name.port")
}

start_redis() { # [port]  (another free port is tried if the chosen one was taken meanwhile)
    local ok=0
    redis_start "$T_DIR" "${1:-}" && ok=1
    T_PIDS+=($REDIS_PID)
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    [ "$ok" = 1 ] || die "redis-server did not start on $REDIS_PORT"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# write_ini FILE [extra ini text]
write_ini() {
    local f=$1
    shift
    cat >"$f" <<INI
[redis]
url = $REDIS_URL
[queues]
discover_every = 1s
poll_every = 500ms
[store]
path = $T_DIR/bw.db
[agent]
block = 200ms
${*:-}
INI
}

start_agent() { # ini [logfile]
    local ini=$1 log=${2:-$T_DIR/agent.log}
    "$BW" agent -c "$ini" >>"$log" 2>&1 &
    AGENT_PID=$!
    T_PIDS+=($AGENT_PID)
}

stop_agent() { # SIGTERM, then the exit code must be 0
    local rc
    kill -TERM "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID"
    rc=$?
    AGENT_PID=
    return $rc
}

node_js() { (cd "$NODE_DIR" && node "js/$1" "${@:2}"); }

# failures_json FILE [ini]: every failure row as JSON
failures_json() {
    "$BW" query failures -c "${2:-$T_DIR/agent.ini}" --param limit=100000000 --json >"$1"
}

# agent_caught_up ini: status --json says every queue's cursor is at its last entry
agent_caught_up() {
    "$BW" status -c "$1" --json >"$T_DIR/status.json" 2>/dev/null &&
        node -e 'const s=require(process.argv[1]); process.exit(s.queues.length && s.queues.every(q=>q.agent && q.agent.caught_up)?0:1)' "$T_DIR/status.json"
}
