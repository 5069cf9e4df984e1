#!/usr/bin/env bash
# The README's demo: it shows the three queues and their failures, and
# Ctrl-C (SIGINT to its process group) stops everything it started.
. "$(dirname "$0")/lib.sh"
setsid env BUILD="${BUILD:-build}" bash scripts/demo.sh >"$T_DIR/demo.out" 2>&1 &
DEMO=$!
T_PIDS+=($DEMO)
shows_failures() {
    grep -q '^emails ' "$T_DIR/demo.out" && grep -q '^payments ' "$T_DIR/demo.out" &&
        grep -q '^thumbnails ' "$T_DIR/demo.out" &&
        grep -Eq '^(emails|payments|thumbnails) +[0-9]+ ' <(sed -n -E '/^queue +job_id/,/rows\)/p' "$T_DIR/demo.out")
}
check "the demo shows the three queues and recorded failures" wait_for 60 shows_failures
port=$(grep -o 'redis 127.0.0.1:[0-9]*' "$T_DIR/demo.out" | head -1 | cut -d: -f2)
check "the demo reports its redis port" test -n "$port"
kill -INT -- "-$DEMO"
wait_for 20 bash -c "! kill -0 $DEMO 2>/dev/null"
check "Ctrl-C stops the demo" bash -c "! kill -0 $DEMO 2>/dev/null"
left_running() {
    pgrep -f "127.0.0.1:$port" >/dev/null || pgrep -f "port $port" >/dev/null ||
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}
check "nothing the demo started is left running" bash -c "$(declare -f left_running); port=$port; ! left_running"
check "the demo said it stopped" grep -q 'demo: stopped; nothing left running' "$T_DIR/demo.out"
