#!/usr/bin/env bash
# Every TUI screen is live (issue 18, items 2 and 4), driven in tmux against
# a real redis-server, a running agent and real BullMQ 6.7 dead jobs: a job
# dying while the dead-jobs screen is open shows as "1 new since" without a
# key press (the rows stay under the cursor) and Ctrl-R lists it; a replay of
# everything matching after that says "7 jobs: 6 listed + 1 died since the
# list was drawn" and typing 6 acts on exactly the 6 listed; an alert firing
# while the alerts screen is open shows up without a key press; the header
# says "as of HH:MM:SS UTC"; a status message stays on its screen; a rejected
# filter leaves the active one shown.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux is needed (scripts/deps.sh installs it)"
start_redis
write_ini "$T_DIR/t.ini" "[rule dead_letters]
queues = tv*
expr = dlq_size > 0"
S="bwlive$$"
T_SOCK="$T_DIR/tmux.sock"
tm() { tmux -S "$T_SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
screen() { tm capture-pane -p -t "$S"; }
screen_has() { screen | grep -q -- "$1"; }
dead() { # queue jobs tag
    node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue "$1" --jobs "$2" --reason "boom-$3" \
        --out "$T_DIR/$1-$3.json" >"$T_DIR/$1-$3.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/$1-$3.out")"
}
dead tv1 6 first
start_agent "$T_DIR/t.ini"
wait_for 20 agent_caught_up "$T_DIR/t.ini" || die "the agent did not catch up"

tm new-session -d -s "$S" -x 140 -y 30 \
    "TERM=xterm-256color '$BW' tui -c '$T_DIR/t.ini' --queue tv1; sleep 30"
wait_for 10 screen_has "6 shown of 6 dead" || die "the TUI did not list tv1: $(screen | head -3)"
check "the header says when its numbers were read (as of HH:MM:SS UTC)" \
    bash -c "tmux -S '$T_SOCK' capture-pane -p -t '$S' | head -1 | grep -Eq 'as of [0-2][0-9]:[0-5][0-9]:[0-5][0-9] UTC'"
tm send-keys -t "$S" '/' 'since:bogus' Enter
check "a rejected filter says so and leaves the list unfiltered, as the header shows" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q \"bad filter 'since:bogus'.*still unfiltered\" &&
     ! tmux -S '$T_SOCK' capture-pane -p -t '$S' | head -1 | grep -q 'filter:'"

dead tv1 1 second
check "a job dying while the list is open shows as '1 new since' with no key pressed" \
    wait_for 10 screen_has "1 new since"
check "... the rows stay as they were under the cursor" screen_has "6 shown of 6 dead"

tm send-keys -t "$S" R
check "a replay of all matching explains the changed count" \
    wait_for 10 screen_has "7 jobs: 6 listed + 1 died since the list was drawn"
check "... and offers the 6 listed" screen_has "Type 6 (the listed) or the full count"
tm send-keys -t "$S" 6 Enter
check "typing 6 replays exactly the 6 listed" wait_for 10 screen_has "replayed 6 of 6 (action"
check "... the one that died after the list was drawn is still dead" \
    test "$(rcli zcard bull:tv1:failed) $(rcli llen bull:tv1:wait)" = "1 6"
tm send-keys -t "$S" ':' 'alerts' Enter
check "a status message stays on its screen (gone on :alerts)" wait_for 10 sh -c \
    "! tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'replayed 6 of 6'"
check ":alerts shows tv1's firing alert" wait_for 20 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^firing +dead_letters +tv1 '"
dead tv2 2 third
check "an alert firing while the alerts screen is open shows up with no key pressed" wait_for 20 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -Eq '^firing +dead_letters +tv2 '"

# (tv1's 6 replayed jobs wait there: a worker of deadjobs.js would fail them again)
dead tv3 1 fourth
tm send-keys -t "$S" ':' 'dlq tv3' Enter
wait_for 10 screen_has "1 shown of 1 dead" || not_ok "tv3 not opened: $(screen | head -2)"
dead tv3 1 fifth
wait_for 10 screen_has "1 new since" || not_ok "no '1 new since' for the fourth death"
tm send-keys -t "$S" C-r
check "Ctrl-R reads the list again: both dead jobs listed" wait_for 10 screen_has "2 shown of 2 dead"
tm send-keys -t "$S" ':' 'dlq nosuchqueue' Enter
check ":dlq of an unknown queue says so with the closest names, and stays" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q \"no queue 'nosuchqueue'.*closest: 'tv\" &&
     tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q '2 shown of 2 dead'"
tm send-keys -t "$S" ':' 'queues' Enter
# the deaths are seconds old: the last full minute may not hold them yet, the
# minute under way does (FAIL/m read 0 for the first minute or two before)
fail_per_min() { [ "$(screen | awk '$1 == "tv2" {print $10}')" -gt 0 ] 2>/dev/null; }
check "FAIL/m of a queue whose deaths are seconds old is not 0" wait_for 10 fail_per_min
stop_agent || not_ok "agent exit on SIGTERM"
exit $T_FAILED
