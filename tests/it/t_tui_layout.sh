#!/usr/bin/env bash
# The TUI's columns come from the terminal's width (issue 18, item 1), read
# back from tmux at 200x50, 80x24 and 60x20 against real BullMQ 6.7 dead
# jobs with a long failure reason: at 200 every column shows and REASON is
# whole; at 80 SIGNATURE gives way and REASON gets the spare width; at 60
# JOB and REASON remain; a resize (SIGWINCH) keeps the selected job.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux is needed (scripts/deps.sh installs it)"
start_redis
write_ini "$T_DIR/t.ini"
S="bwlay$$"
T_SOCK="$T_DIR/tmux.sock"
tm() { tmux -S "$T_SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
screen() { tm capture-pane -p -t "$S"; }
screen_has() { screen | grep -q -- "$1"; }
header() { screen | sed -n 2p; }
REASON="connection timeout after 30000 ms talking to the payments gateway"
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tl --jobs 6 --reason "$REASON" \
    --out "$T_DIR/tl.json" >"$T_DIR/d.out" 2>&1 || die "deadjobs.js failed: $(tail -3 "$T_DIR/d.out")"

tm new-session -d -s "$S" -x 200 -y 50 \
    "TERM=xterm-256color '$BW' tui -c '$T_DIR/t.ini' --queue tl; sleep 30"
wait_for 10 screen_has "6 shown of 6 dead" || die "the TUI did not list tl: $(screen | head -5)"
check "200x50: every column of the dead jobs" bash -c "
    h=\$(tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 2p)
    for c in JOB NAME 'FINISHED (UTC)' ATTEMPTS SIGNATURE REASON; do echo \"\$h\" | grep -q \"\$c\" || exit 1; done"
check "... and the whole reason on each row" test "$(screen | grep -c "$REASON [0-5]$")" = 6
third=$(screen | sed -n 5p | awk '{print $1}')
tm send-keys -t "$S" j j
# the selected row is drawn in the selection's colours (cyan background)
wait_for 10 sh -c "tmux -S '$T_SOCK' capture-pane -e -p -t '$S' | sed -n 5p | grep -q '46m'" ||
    not_ok "j j did not select the third row"

tm resize-window -t "$S" -x 80 -y 24
check "80x24: SIGNATURE gives way, REASON stays" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 2p | grep -q 'REASON' &&
     ! tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 2p | grep -q SIGNATURE"
col=$(header | awk '{print index($0, "REASON")}')
check "... REASON gets the spare width: 38 columns from column 43 (8 before)" test "$col" = 43
check "... so 38 characters of each reason show" test "$(screen | grep -c "${REASON:0:38}")" = 6
check "... and JOB, NAME, FINISHED, ATTEMPTS remain" bash -c "
    h=\$(tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 2p)
    for c in JOB NAME 'FINISHED (UTC)' ATTEMPTS; do echo \"\$h\" | grep -q \"\$c\" || exit 1; done"

tm resize-window -t "$S" -x 60 -y 20
check "60x20: JOB and REASON remain, NAME and ATTEMPTS give way" wait_for 10 sh -c \
    "h=\$(tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 2p)
     echo \"\$h\" | grep -q '^JOB ' && echo \"\$h\" | grep -q REASON && ! echo \"\$h\" | grep -q NAME &&
     ! echo \"\$h\" | grep -q ATTEMPTS"
check "... with 35 characters of each reason" test "$(screen | grep -c "${REASON:0:35}")" = 6
check "... and the job ids whole" test "$(screen | sed -n 5p | awk '{print $1}')" = "$third"
tm send-keys -t "$S" Enter
check "the resizes kept the selection: Enter opens the third job ($third)" \
    wait_for 10 screen_has "job $third of tl"
tm send-keys -t "$S" Escape
tm resize-window -t "$S" -x 200 -y 50
tm send-keys -t "$S" ':' 'queues' Enter
wait_for 10 screen_has "^tl " || not_ok "queues screen not drawn"
tm resize-window -t "$S" -x 60 -y 20
check "queues at 60x20: QUEUE, WAITING, FAILED and the trend remain" wait_for 10 sh -c \
    "h=\$(tmux -S '$T_SOCK' capture-pane -p -t '$S' | sed -n 2p)
     echo \"\$h\" | grep -q '^QUEUE' && echo \"\$h\" | grep -q WAITING && echo \"\$h\" | grep -q FAILED &&
     echo \"\$h\" | grep -q 'WAITING (trend)' && ! echo \"\$h\" | grep -q COMPLETED"
failed_under_header() { # the number right-aligned under FAILED on tl's row
    local h r end
    h=$(screen | sed -n 2p)
    r=$(screen | grep '^tl ')
    end=$(($(echo "$h" | awk '{print index($0, "FAILED")}') + 5))
    [ "$(echo "$r" | cut -c$((end - 5))-$end | tr -d ' ')" = 6 ]
}
check "... and tl's failed count (6) under FAILED" wait_for 10 failed_under_header
# job detail: a 500-character reason wraps (w) or scrolls sideways (l); the
# raw view (y) shows the JSON's indentation, not \t
node_js deadjobs.js --redis "$REDIS_URL" --bullmq 6 --queue tw --jobs 1 --reason "$(printf 'r%.0s' $(seq 1 500))THE-END" \
    --out "$T_DIR/tw.json" >"$T_DIR/dw.out" 2>&1 || die "deadjobs.js (tw) failed"
tm resize-window -t "$S" -x 80 -y 40
tm send-keys -t "$S" ':' 'dlq tw' Enter
wait_for 10 screen_has "1 shown of 1 dead" || not_ok "tw not opened"
tm send-keys -t "$S" Enter
wait_for 10 screen_has "failedReason" || not_ok "tw's job not opened"
check "job detail at 80 columns: the end of a 500-character reason is off the screen" \
    bash -c "! tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q 'THE-END'"
tm send-keys -t "$S" w
check "w wraps it: the end shows" wait_for 10 screen_has "THE-END"
check "... the header says wrapped" screen_has "(wrapped)"
tm send-keys -t "$S" w
wait_for 10 sh -c "! tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q '(wrapped)'" || not_ok "w did not unwrap"
# "  failedReason   " + 509 characters: about 12 steps of 40 columns reach
# the end; one key at a time, each step's screen read back (at most 20)
scrolled_to_end() {
    local i
    for i in $(seq 1 20); do
        tm send-keys -t "$S" l
        wait_for 1 screen_has "THE-END" && return 0
    done
    return 1
}
check "l scrolls sideways to the end" scrolled_to_end
tm send-keys -t "$S" y
check "y: the raw JSON with its indentation (4 spaces, not \\t)" wait_for 10 sh -c \
    "tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q '^    \"failedReason\":' &&
     ! tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -qF '\\t'"
tm send-keys -t "$S" Escape
tm send-keys -t "$S" ':' 'q' Enter
check ":q quits" wait_for 10 sh -c "! tmux -S '$T_SOCK' capture-pane -p -t '$S' | grep -q bullwatch"
# NO_COLOR: the selection in reverse video, no colour anywhere
tm new-session -d -s nc -x 100 -y 20 \
    "NO_COLOR=1 TERM=xterm-256color '$BW' tui -c '$T_DIR/t.ini' --queue tl; sleep 30"
nc_drawn() { tm capture-pane -p -t nc | grep -q "6 shown of 6 dead"; }
wait_for 10 nc_drawn || not_ok "the NO_COLOR TUI did not draw"
check "NO_COLOR: the selected row in reverse video and no colour code on the screen" bash -c "
    tmux -S '$T_SOCK' capture-pane -e -p -t nc | sed -n 3p | grep -q '7m' &&
    ! tmux -S '$T_SOCK' capture-pane -e -p -t nc | grep -Eq '\[(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)m'"
exit $T_FAILED
