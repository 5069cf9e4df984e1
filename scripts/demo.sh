#!/usr/bin/env bash
# The demo: a throwaway redis-server on a free loopback port, a real BullMQ
# workload (tests/js/demo.js: queues emails, payments, thumbnails; a trickle
# of jobs, some retried, some dying), the agent, and the TUI on a terminal
# (else a live view refreshing `bullwatch status` and the newest failures). Ctrl-C stops everything it
# started. DEMO_SECONDS=N stops by itself after N seconds; DEMO_BULLMQ=5
# runs the workload on BullMQ 5.71 instead of 6.7. Closing its terminal
# (SIGHUP) stops everything too. DEMO_DIR=DIR puts its files there (tests).
# It ships alert rules that fire within a minute (dead jobs, a failure
# ratio), a loopback receiver (tests/js/receiver.js) behind a signed webhook
# sink and an Alertmanager-format sink, and after 40 s replays the dead
# e-mails once, so every TUI screen (queues, dead jobs, alerts, deliveries,
# audit) has something to show. The banner says how to run the CLI against
# it.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BW=$PWD/$BUILD/bullwatch
DIR=${DEMO_DIR:-$(mktemp -d /tmp/bullwatch-demo.XXXXXX)}
mkdir -p "$DIR"
PIDS=()
REDIS_PID=
REPLAY_PID=
stopping=0

cleanup() {
    [ "$stopping" = 1 ] && return
    stopping=1
    trap '' INT TERM HUP
    echo 2>/dev/null # (the terminal may be gone: SIGHUP)
    echo "demo: stopping the agent, the workload and redis-server" 2>/dev/null
    [ -n "$REPLAY_PID" ] && kill -TERM "$REPLAY_PID" 2>/dev/null && wait "$REPLAY_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ -n "$REDIS_PID" ]; then
        kill -TERM "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    fi
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo "demo: files kept in $DIR (agent.ini, bullwatch.db, agent.log)" 2>/dev/null
    else
        rm -rf "$DIR"
    fi
    echo "demo: stopped; nothing left running" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# a closed terminal: the TUI quits on its SIGHUP, the agent would only
# reload its config and redis-server ignores it, so stop them all here
trap 'exit 129' HUP

. scripts/redis.sh
redis_start "$DIR" || { echo "demo: redis-server did not start (see $DIR/redis-*.log)" >&2; DEMO_KEEP=1; exit 1; }
port=$REDIS_PORT

node tests/js/receiver.js --log "$DIR/receiver.log" --port-file "$DIR/receiver.port" \
    --max-seconds 604800 >"$DIR/receiver.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$DIR/receiver.port" ] && break; sleep 0.1; done
rport=$(cat "$DIR/receiver.port" 2>/dev/null)
[ -n "$rport" ] || { echo "demo: the loopback receiver did not start (see $DIR/receiver.out)" >&2; DEMO_KEEP=1; exit 1; }

cat >"$DIR/agent.ini" <<INI
[redis]
url = redis://127.0.0.1:$port/0
[queues]
discover_every = 2s
poll_every = 1s
[store]
path = $DIR/bullwatch.db

; the demo's receiver, on loopback (its log: $DIR/receiver.log)
[sink demo_hook]
type = webhook
url = http://127.0.0.1:$rport/webhook
secret = whsec_ZGVtby1zZWNyZXQtZm9yLWJ1bGx3YXRjaA==
[sink demo_am]
type = alertmanager
url = http://127.0.0.1:$rport/alertmanager

; fires at the first dead job (seconds after the start)
[rule demo_jobs_dying]
expr = failures[2m] > 0
severity = warning
summary = {queue}: {value} job(s) died in the last 2 minutes
runbook = https://example.com/runbooks/dead-jobs
repeat_interval = 5m
; fires after 30 s of a failure ratio above 5 %
[rule demo_failure_ratio]
expr = failure_ratio[5m] > 0.05 and failures[5m] >= 3
for = 30s
severity = critical
summary = {queue}: {value} of finished jobs failed over 5 minutes
INI

(cd tests && exec node js/demo.js --redis "redis://127.0.0.1:$port/0" --bullmq "${DEMO_BULLMQ:-6}" \
    >"$DIR/workload.log" 2>&1) &
PIDS+=($!)
"$BW" agent -c "$DIR/agent.ini" >"$DIR/agent.log" 2>&1 &
PIDS+=($!)

banner() {
    echo "bullwatch demo: redis 127.0.0.1:$port, BullMQ ${DEMO_BULLMQ:-6}.x workload, agent running  (Ctrl-C stops)"
    echo "  the CLI against it:  export BULLWATCH_CONFIG=$DIR/agent.ini  then for example"
    echo "    $BW status;  $BW query alert_history;  $BW query deliveries;  $BW dlq list payments;  $BW tui"
    echo "  alerts go to a loopback receiver: $DIR/receiver.log (rules demo_jobs_dying, demo_failure_ratio)"
}
banner >"$DIR/banner.txt"
# after 40 s, replay the dead e-mails once (the audit screen shows it)
(
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep 40 &
    sp=$!
    wait "$sp" && "$BW" dlq replay emails --all --yes --comment "demo: replay the dead e-mails" \
        -c "$DIR/agent.ini" >"$DIR/replay.log" 2>&1
) &
REPLAY_PID=$! # not in PIDS: it is done after 40 s

# On a terminal the demo opens the TUI (q or Ctrl-C leaves it and stops the
# demo); otherwise (or with DEMO_VIEW=status) it prints a refreshing status.
if [ -t 0 ] && [ -t 1 ] && [ "${DEMO_VIEW:-tui}" = tui ] && [ "${DEMO_SECONDS:-0}" = 0 ]; then
    cat "$DIR/banner.txt"
    sleep 2 # let the agent and the workload start before the first frame (and the banner be read)
    "$BW" tui -c "$DIR/agent.ini"
    cat "$DIR/banner.txt"
    exit 0
fi
end=$((SECONDS + ${DEMO_SECONDS:-0}))
while :; do
    out=$(
        cat "$DIR/banner.txt"
        echo
        "$BW" status -c "$DIR/agent.ini" 2>&1
        echo
        echo "newest failures (bullwatch query failures --param limit=8):"
        "$BW" query failures -c "$DIR/agent.ini" --param limit=8 2>&1 |
            cut -c1-"${COLUMNS:-160}"
        echo
        echo "alerts (bullwatch query alert_history):"
        "$BW" query alert_history -c "$DIR/agent.ini" 2>&1 | tail -n 4 | cut -c1-"${COLUMNS:-160}"
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
