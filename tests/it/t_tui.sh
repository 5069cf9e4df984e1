#!/usr/bin/env bash
# The TUI driven in tmux (send-keys, capture-pane) against a real
# redis-server and real BullMQ 6.7 dead jobs: the queues screen shows the
# counts getJobCounts() reports; a queue's dead jobs and a filter show
# exactly the matching jobs; a job whose failure reason holds terminal
# escape sequences leaves the title and the screen alone; resizing to 60x15
# and back keeps it usable; --read-only refuses actions; q and SIGTERM
# exit 0 with the terminal restored.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux is needed (scripts/deps.sh installs it)"
start_redis
write_ini "$T_DIR/t.ini" "[rule dead_letters]
queues = tq*
expr = dlq_size > 0"
S="bwtui$$"
T_SOCK="$T_DIR/tmux.sock"
tm() { tmux -S "$T_SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; }
trap 'cleanup_tmux; cleanup' EXIT
screen_has() { tm capture-pane -p -t "$S" | grep -q -- "$1"; }
screen() { tm capture-pane -p -t "$S"; }

node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tq1 --jobs 7 --out "$T_DIR/tq1.json" --worker-name deploy-42 \
    >"$T_DIR/d1.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d1.out")"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tq2 --jobs 1 --out "$T_DIR/tq2.json" \
    --reason $'\e]0;pwned\a\e[2J\e[31mred' >"$T_DIR/d2.out" 2>&1 || die "deadjobs.js failed"

node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tbig --jobs 250 --out "$T_DIR/tbig.json" \
    >"$T_DIR/d5.out" 2>&1 || die "deadjobs.js failed"
# the agent records them in the audit store (signatures, timeline)
"$BW" agent -c "$T_DIR/t.ini" --drain >"$T_DIR/drain.out" 2>&1 || die "agent --drain failed"

start_tui() { # extra args
    tm new-session -d -s "$S" -x 140 -y 30 \
        "TERM=xterm-256color '$BW' tui -c '$T_DIR/t.ini' $*; echo \"EXITED \$?\" >'$T_DIR/exit'; sleep 30"
    tm select-pane -t "$S" -T original-title
    wait_for 10 screen_has "QUEUE" || die "the TUI did not draw: $(screen | head -5)"
}
rm -f "$T_DIR/exit"
start_tui
wait_for 10 screen_has "^tq1 " || not_ok "tq1 not listed: $(screen | head -5)"
c=$(node_js counts.js --redis "$REDIS_URL" --bullmq 6 --queues tq1,tq2)
failed=$(node -e 'console.log(JSON.parse(process.argv[1]).tq1.failed)' "$c")
shown=$(screen | awk '$1 == "tq1" {print $6}')
check "the queues screen shows getJobCounts().failed ($failed) for tq1" test "$shown" = "$failed"
waiting=$(node -e 'console.log(JSON.parse(process.argv[1]).tq1.waiting)' "$c")
check "... and its waiting count ($waiting)" test "$(screen | awk '$1 == "tq1" {print $2}')" = "$waiting"

tm send-keys -t "$S" o o
check "o sorts the queues (by failed: the most first)" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'sorted by failed' && tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 3p | grep -q '^tbig '"
tm send-keys -t "$S" ':' 'dlq tbig' Enter
check "a large failed set is read one page at a time" wait_for 10 screen_has "200 shown of 250 dead"
tm send-keys -t "$S" G
check "... and scrolling past the page loads the next (each job once)" wait_for 10 screen_has "250 shown of 250 dead"
tm send-keys -t "$S" '/' 'name:doomed since:1h boom 24' Enter
check "filter words: name, since and reason text together" wait_for 10 screen_has "11 shown of 250 dead"
tm send-keys -t "$S" ':' 'dlq tq1' Enter
check "a queue's dead jobs: all 7 listed" wait_for 10 screen_has "7 shown of 7 dead"
tm send-keys -t "$S" '/' 'boom 3' Enter
check "a reason filter shows exactly the matching job" wait_for 10 screen_has "1 shown of 7 dead"
check "... which is the job that died with 'boom 3'" bash -c "[ \"\$(tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -c ' boom [0-9]\$')\" = 1 ] && tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q ' boom 3$'"
tm send-keys -t "$S" Enter
check "Enter opens the job: fields, data and per-attempt stack traces" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'failedReason *boom 3' && tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'errors of each attempt (2 stack traces'"

tm send-keys -t "$S" G
check "... with its timeline from the audit store (G: the end)" wait_for 10 screen_has "died (attempt 2/2): boom 3"
tm send-keys -t "$S" Escape v
check "v groups the queue's dead jobs by signature, with counts" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^7 +[0-9a-f]{12} '"
sig=$(screen | awk '$1 == 7 && $2 ~ /^[0-9a-f]+$/ {print $2; exit}')
check "... a signature first seen today is marked NEW, with the worker its deaths ran on" \
    sh -c "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^7 +[0-9a-f]{12} +NEW .* deploy-42 '"
check "... the worker column's header is there" screen_has "WORKERS"
tm send-keys -t "$S" Enter
check "Enter on a signature lists exactly its dead jobs" wait_for 10 screen_has "7 shown of 7 dead, filter: $sig"
tm send-keys -t "$S" ':' 'dlq tq2' Enter
wait_for 10 screen_has "1 shown of 1 dead" || not_ok "tq2 not opened"
tm send-keys -t "$S" Enter
check "escape sequences in a failure reason are shown escaped" wait_for 10 screen_has 'failedReason *\\x1b]0;pwned\\x07\\x1b\[2J'
check "... the terminal title is untouched" test "$(tm display -p -t "$S" '#{pane_title}')" = original-title
check "... and the screen was not cleared (the hint bar is still there)" screen_has "y raw JSON"

tm resize-window -t "$S" -x 60 -y 15
check "resized to 60x15: still drawn, with its hint bar" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | tail -1 | grep -q 'j/k scroll'"
tm resize-window -t "$S" -x 140 -y 30
tm send-keys -t "$S" Escape
check "resized back: the dead jobs list is whole again" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'JOB  *NAME  *FINISHED'"
tm send-keys -t "$S" Escape ':' 'alerts' Enter
check ":alerts lists the firing alert the agent recorded" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^firing +dead_letters +tq1 '"
tm send-keys -t "$S" s
wait_for 10 screen_has "comment (add 'for 30m'" || not_ok "s did not ask for a comment"
tm send-keys -t "$S" 'known incident for 30m' Enter
check "s silences it with a comment and an expiry" wait_for 10 screen_has "rule=dead_letters,queue=tq1 for 30m"
check "... shown as silenced" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^firing \(silenced\) +dead_letters +tq1 '"
check "... and only that one" sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^firing +dead_letters +tq2 '"
check "... and stored as the CLI lists it" sh -c "'$BW' silence list -c '$T_DIR/t.ini' | grep -q 'known incident'"
tm send-keys -t "$S" '?'
check "? shows the keys of the current screen" wait_for 10 sh -c "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'keys on this screen' && tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'silence the selected alert'"

# Actions go through the CLI's code (agent/dlq_act.c) and are audited.
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tr1 --jobs 3 --out "$T_DIR/tr1.json" \
    >"$T_DIR/d3.out" 2>&1 || die "deadjobs.js failed"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tp1 --jobs 5 --out "$T_DIR/tp1.json" \
    >"$T_DIR/d4.out" 2>&1 || die "deadjobs.js failed"
node_js worker.js --redis "$REDIS_URL" --bullmq 6 --queue tr1 --count 1 --until-idle-ms 30000 \
    >"$T_DIR/wr.out" 2>&1 &
T_PIDS+=($!)
tm send-keys -t "$S" Escape ':' 'dlq tr1' Enter
wait_for 10 screen_has "3 shown of 3 dead" || not_ok "tr1 not opened"
top=$(screen | awk '$2 == "doomed" {print $1; exit}')
tm send-keys -t "$S" r
check "r asks first: verb, queue, count, frozen time, default Cancel" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'Replay 1 dead job of queue tr1' && tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'frozen at' && tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'any other key cancels \[Cancel\]'"
tm send-keys -t "$S" y
check "y replays it: the TUI reports the result" wait_for 10 screen_has "replayed 1 of 1 (action"
check "... and a real worker, blocked waiting, completes exactly that job" \
    wait_for 20 grep -qx "completed $top" "$T_DIR/wr.out"
tm send-keys -t "$S" ':' 'dlq tp1' Enter
wait_for 10 screen_has "5 shown of 5 dead" || not_ok "tp1 not opened"
tm send-keys -t "$S" Space Space Space Space Space
check "Space marks jobs" wait_for 10 screen_has "marked: 5"
tm send-keys -t "$S" C-d
check "a bulk purge asks for the count" wait_for 10 screen_has "Type the count to confirm"
tm send-keys -t "$S" 4 Enter
check "... a wrong count cancels and changes nothing" bash -c \
    "sleep 0.5; tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'cancelled: 4 was typed, the selection is 5' && [ \$(redis-cli -p $REDIS_PORT zcard bull:tp1:failed) = 5 ]"
tm send-keys -t "$S" C-d
wait_for 10 screen_has "Type the count to confirm" || not_ok "no purge dialog"
tm send-keys -t "$S" 5 Enter
check "the typed count purges them all" wait_for 10 screen_has "purged 5 of 5 (action"
check "... and no key of a purged job remains" bash -c \
    "[ \$(redis-cli -p $REDIS_PORT zcard bull:tp1:failed) = 0 ] && [ -z \"\$(redis-cli -p $REDIS_PORT --scan --pattern 'bull:tp1:[0-9]*')\" ]"
"$BW" query actions -c "$T_DIR/t.ini" --json >"$T_DIR/actions.json"
check "both actions are audited as from the TUI" node -e '
    const a = require(process.argv[1]);
    process.exit(a.filter(x => /"from":"tui"/.test(x.selection) && x.state === "done").length === 2 ? 0 : 1)' "$T_DIR/actions.json"
tm send-keys -t "$S" Escape Escape q
check "q quits with exit 0" wait_for 10 grep -qx "EXITED 0" "$T_DIR/exit"
tm kill-session -t "$S" 2>/dev/null

rm -f "$T_DIR/exit"
start_tui --read-only
tm send-keys -t "$S" ':' 'dlq tq1' Enter
wait_for 10 screen_has "7 shown of 7 dead" || not_ok "tq1 not opened read-only"
tm send-keys -t "$S" r
check "--read-only refuses a replay" wait_for 10 screen_has "read-only: no replay"
tm send-keys -t "$S" C-d
check "... and a purge" wait_for 10 screen_has "read-only: no replay, purge"
check "... and nothing was changed in Redis" test "$(rcli zcard bull:tq1:failed)" = 7
# A stalled Redis (SIGSTOP) costs at most the TUI's short timeout a call:
# keys are still answered
tm send-keys -t "$S" Escape Escape
rpid=$(pgrep -f "redis-server.*:$REDIS_PORT" | head -1)
kill -STOP "$rpid"
tm send-keys -t "$S" '?'
check "Redis stalled: keys are still answered (? opens the help)" wait_for 5 screen_has "keys on this screen"
tm send-keys -t "$S" Escape
kill -CONT "$rpid"
# Redis going away is a status line, not a freeze: keys still work
rcli shutdown nosave >/dev/null 2>&1
check "Redis down: the queues screen says so on its status line" wait_for 15 screen_has "unreachable"
tm send-keys -t "$S" '?'
check "... and keys still work (? opens the help)" wait_for 10 screen_has "keys on this screen"
tm send-keys -t "$S" Escape
pid=$(pgrep -f "^[^ ]*bullwatch tui -c $T_DIR/t.ini" | head -1)
kill -TERM "$pid"
check "SIGTERM exits 0 (terminal restored by endwin)" wait_for 10 grep -qx "EXITED 0" "$T_DIR/exit"

# The README's demo opens the TUI on a terminal; q leaves it and stops the demo.
tm kill-session -t "$S" 2>/dev/null
rm -f "$T_DIR/demo.exit"
tm new-session -d -s demo -x 140 -y 30 \
    "cd '$PWD' && BUILD='${BUILD:-build}' bash scripts/demo.sh 2>'$T_DIR/demo.err'; echo \"DEMO-EXIT \$?\" >'$T_DIR/demo.exit'; sleep 30"
demo_shows() { tm capture-pane -p -t demo | grep -q '^payments '; }
check "make demo opens the TUI with the demo's queues" wait_for 60 demo_shows
tm send-keys -t demo q
check "q in the demo's TUI stops the demo (exit 0)" wait_for 30 grep -qx "DEMO-EXIT 0" "$T_DIR/demo.exit"

# Closing the demo's terminal (SIGHUP to its process group) stops the demo's
# redis-server, workload, agent and TUI.
D2=$T_DIR/demo2
tm new-session -d -s demo2 -x 140 -y 30 \
    "cd '$PWD' && DEMO_DIR='$D2' DEMO_KEEP=1 BUILD='${BUILD:-build}' exec bash scripts/demo.sh 2>'$T_DIR/demo2.err'"
demo2_shows() { tm capture-pane -p -t demo2 | grep -q '^payments '; }
wait_for 60 demo2_shows || not_ok "the second demo did not start"
dport=$(sed -n 's|^url = redis://127.0.0.1:\([0-9]*\)/0|\1|p' "$D2/agent.ini")
demo_pids() { pgrep -f -- "$D2|127\.0\.0\.1:$dport"; }
check "... the demo runs redis-server, workload, agent and TUI ($(demo_pids | wc -l) processes)" \
    test "$(demo_pids | wc -l)" -ge 5
tm kill-session -t demo2 # the terminal closes: SIGHUP
no_demo_left() { ! demo_pids >/dev/null; } # in this shell: a sh -c would match itself
check "closing the demo's terminal (SIGHUP) stops every process it started" wait_for 30 no_demo_left
for p in $(demo_pids); do kill -9 "$p" 2>/dev/null; done # whatever is left (by pid: this test started it)
