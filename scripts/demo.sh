#!/usr/bin/env bash
# The demo: a throwaway redis-server on a free loopback port, a real BullMQ
# workload (tests/js/demo.js: queues emails, payments, thumbnails; a trickle
# of jobs, some retried, some dying), the agent, and the TUI on a terminal
# (else a live view refreshing `bullwatch status` and the newest failures). Ctrl-C stops everything it
# started. DEMO_SECONDS=N stops by itself after N seconds; DEMO_BULLMQ=5
# runs the workload on BullMQ 5.71 instead of 6.7.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BW=$PWD/$BUILD/bullwatch
DIR=$(mktemp -d /tmp/bullwatch-demo.XXXXXX)
PIDS=()
REDIS_PID=
stopping=0

cleanup() {
    [ "$stopping" = 1 ] && return
    stopping=1
    trap '' INT TERM
    echo
    echo "demo: stopping the agent, the workload and redis-server"
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ -n "$REDIS_PID" ]; then
        kill -TERM "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    fi
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo "demo: files kept in $DIR (agent.ini, bullwatch.db, agent.log)"
    else
        rm -rf "$DIR"
    fi
    echo "demo: stopped; nothing left running"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. scripts/redis.sh
redis_start "$DIR" || { echo "demo: redis-server did not start (see $DIR/redis-*.log)" >&2; DEMO_KEEP=1; exit 1; }
port=$REDIS_PORT

cat >"$DIR/agent.ini" <<INI
[redis]
url = redis://127.0.0.1:$port/0
[queues]
discover_every = 2s
poll_every = 1s
[store]
path = $DIR/bullwatch.db
INI

(cd tests && exec node js/demo.js --redis "redis://127.0.0.1:$port/0" --bullmq "${DEMO_BULLMQ:-6}" \
    >"$DIR/workload.log" 2>&1) &
PIDS+=($!)
"$BW" agent -c "$DIR/agent.ini" >"$DIR/agent.log" 2>&1 &
PIDS+=($!)

# On a terminal the demo opens the TUI (q or Ctrl-C leaves it and stops the
# demo); otherwise (or with DEMO_VIEW=status) it prints a refreshing status.
if [ -t 0 ] && [ -t 1 ] && [ "${DEMO_VIEW:-tui}" = tui ] && [ "${DEMO_SECONDS:-0}" = 0 ]; then
    sleep 1 # let the agent and the workload start before the first frame
    "$BW" tui -c "$DIR/agent.ini"
    exit 0
fi
end=$((SECONDS + ${DEMO_SECONDS:-0}))
while :; do
    out=$(
        echo "bullwatch demo: redis 127.0.0.1:$port, BullMQ ${DEMO_BULLMQ:-6}.x workload, agent running  (Ctrl-C stops)"
        echo
        "$BW" status -c "$DIR/agent.ini" 2>&1
        echo
        echo "newest failures (bullwatch query failures --param limit=8):"
        "$BW" query failures -c "$DIR/agent.ini" --param limit=8 2>&1 |
            cut -c1-"${COLUMNS:-160}"
        echo
        echo "agent log (last 3 lines):"
        tail -n 3 "$DIR/agent.log" | cut -c1-"${COLUMNS:-160}"
    )
    [ -t 1 ] && printf '\033[H\033[2J'
    printf '%s\n' "$out"
    [ "${DEMO_SECONDS:-0}" != 0 ] && [ $SECONDS -ge $end ] && break
    for p in "${PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || { echo "demo: a demo process exited; see $DIR" >&2; DEMO_KEEP=1; exit 1; }
    done
    sleep 2 # refresh period of the view
done
