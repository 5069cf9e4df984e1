#!/usr/bin/env bash
# Hostile input and secrets (issue 14), through real redis-server and real
# BullMQ: jobs whose names, data and failure reasons carry escape sequences
# (OSC 0 title, OSC 52 clipboard, CSI), bidi and C1 controls, invalid UTF-8
# and 5 MB, and data as non-Node clients write it (NaN, a BOM, trailing
# bytes, not JSON). Every output surface (dlq list/show, query table, CSV
# and JSON, status, the agent's log, the TUI in tmux) shows no raw ESC, C1
# or bidi control and keeps the text readable; --raw gives the bytes. No
# secret value reaches the store's files; unreadable data is withheld,
# counted in status and `bullwatch store`. A fresh store is 0600 under
# umask 022. `query` refuses every write with a message naming it.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux is needed (scripts/deps.sh installs it)"
start_redis
INI=$T_DIR/agent.ini
write_ini "$INI" "[store]
redact = password,	token	,  *secret*"
# a fresh store under the usual umask
(umask 022 && exec "$BW" agent -c "$INI") >>"$T_DIR/agent.log" 2>&1 &
AGENT_PID=$!
T_PIDS+=($AGENT_PID)
wait_for 10 test -f "$T_DIR/bw.db-wal" || die "the agent did not create its store"
mode() { stat -c %a "$1"; }
check "fresh store under umask 022: bw.db is 0600" test "$(mode "$T_DIR/bw.db")" = 600
check "... bw.db-wal is 0600" test "$(mode "$T_DIR/bw.db-wal")" = 600
check "... bw.db-shm is 0600" test "$(mode "$T_DIR/bw.db-shm")" = 600

node_js hostile.js --redis "$REDIS_URL" --bullmq 6 --out "$T_DIR/ids.json" >"$T_DIR/h.out" 2>&1 ||
    die "hostile.js failed: $(tail -3 "$T_DIR/h.out")"
id() { node -e 'console.log(require(process.argv[1])[process.argv[2]])' "$T_DIR/ids.json" "$1"; }
recorded() { [ "$("$BW" query failures -c "$INI" --param queue=hq --json | grep -c '"job_id"')" = 8 ]; }
check "the agent records the 8 hostile failures" wait_for 30 recorded

# ---- every output surface: no raw ESC, C1 or bidi control ----
# raw bytes that must never reach a terminal: ESC, C1 as UTF-8 (c2 80-9f),
# the bidi controls U+202A-202E, U+2066-2069, U+200E/F, U+061C
clean() { # file: exit 0 when none of them is in it
    LC_ALL=C grep -qaP '\x1b|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae\x8e\x8f]|\xe2\x81[\xa6-\xa9]|\xd8\x9c' "$1" && return 1
    return 0
}
surface() { # name file
    check "$1: no raw ESC, C1 or bidi control" clean "$2"
}
"$BW" dlq list hq -c "$INI" >"$T_DIR/list.txt" 2>&1
surface "dlq list" "$T_DIR/list.txt"
check "dlq list: the escape-laden reason is readable, escaped" grep -qF 'reason \x1b]0;pwned-title\x07' "$T_DIR/list.txt"
check "dlq list: the bidi name and reason are readable, their controls named" bash -c \
    "grep -qF 'invoice\u202eg' '$T_DIR/list.txt' && grep -qF 'bidi \u202edesrever\u202c and \u2067isolate\u2069' '$T_DIR/list.txt'"
"$BW" dlq list hq -c "$INI" --json >"$T_DIR/list.json" 2>&1
surface "dlq list --json" "$T_DIR/list.json"
check "dlq list --json is valid JSON and decodes to the original reason" node -e '
    const l = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const s = JSON.stringify(l);
    process.exit(s.includes("\\u001b]0;pwned-title") && s.includes("invoice\u202egnp.exe") ? 0 : 1)' "$T_DIR/list.json"
for k in esc bidi badutf8 nan bom unreadable longkey big; do
    "$BW" dlq show hq "$(id $k)" -c "$INI" >"$T_DIR/show_$k.txt" 2>&1
    surface "dlq show ($k)" "$T_DIR/show_$k.txt"
    "$BW" dlq show hq "$(id $k)" -c "$INI" --json >"$T_DIR/show_$k.json" 2>&1
    surface "dlq show --json ($k)" "$T_DIR/show_$k.json"
    check "dlq show --json ($k) is valid JSON" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$T_DIR/show_$k.json"
done
check "dlq show: the OSC 52 clipboard sequence in the data is shown escaped" \
    grep -qF 'u001b]52;c;cHduZWQ=' "$T_DIR/show_esc.txt"
check "dlq show: the bidi controls in the data are named" grep -qF 'abc\u2066def\u2069' "$T_DIR/show_bidi.txt"
check "dlq show: invalid UTF-8 in the name is shown as bytes" grep -qF 'bad\xff\xc2\x9b\x1b[2J' "$T_DIR/show_badutf8.txt"

"$BW" query failures -c "$INI" --param queue=hq >"$T_DIR/q.txt" 2>&1
surface "query (table)" "$T_DIR/q.txt"
"$BW" query failures -c "$INI" --param queue=hq --csv >"$T_DIR/q.csv" 2>&1
surface "query --csv" "$T_DIR/q.csv"
check "query --csv: valid CSV (8 records of 12 fields), escaped like the table" python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert len(rows) == 9 and all(len(r) == 12 for r in rows), [len(r) for r in rows]
assert any("reason \\x1b]0;pwned-title\\x07" in c for r in rows for c in r)
assert any("invoice\\u202egnp.exe" in c for r in rows for c in r)' "$T_DIR/q.csv"
"$BW" query failures -c "$INI" --param queue=hq --json >"$T_DIR/q.json" 2>&1
surface "query --json" "$T_DIR/q.json"
check "query --json: valid JSON that decodes to the original text" node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const b = r.find((x) => x.name === "invoice\u202egnp.exe"), e = r.find((x) => x.failed_reason.startsWith("reason \u001b]0;"));
    process.exit(b && e ? 0 : 1)' "$T_DIR/q.json"
"$BW" query failures -c "$INI" --param queue=hq --csv --raw >"$T_DIR/qraw.csv" 2>&1
not_clean() { ! clean "$1"; }
check "query --csv --raw: the original bytes, on request" not_clean "$T_DIR/qraw.csv"
"$BW" status -c "$INI" >"$T_DIR/status.txt" 2>&1
surface "status" "$T_DIR/status.txt"
"$BW" status -c "$INI" --json >"$T_DIR/status.json" 2>&1
surface "status --json" "$T_DIR/status.json"

# ---- redaction: no secret reaches the store, in any spelling ----
cat >"$T_DIR/rows.sql" <<'SQL'
SELECT job_id, data_json, CAST(data AS BLOB) AS data FROM failures WHERE queue = 'hq' ORDER BY id;
SQL
"$BW" query "$T_DIR/rows.sql" -c "$INI" --json --raw >"$T_DIR/rows.json"
row() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).find(x=>x.job_id===process.argv[2]);if(!r)process.exit(1);process.exit(new Function("r","return "+process.argv[3])(r)?0:1)' "$T_DIR/rows.json" "$(id "$1")" "$2"; }
check "NaN/Infinity data (Python client): read, DB_Password redacted, the rest kept" \
    row nan 'r.data.includes("\"DB_Password\": \"[redacted]\"") && r.data.includes("NaN") && r.data.includes("\"ok\": 1")'
check "BOM + trailing bytes: Password redacted, the trailing token=... withheld" \
    row bom 'r.data.startsWith("{\"Password\":\"[redacted]\"") && r.data.includes("[withheld: ")'
check "data that is not JSON and holds a listed key: a placeholder with why and how big" \
    row unreadable 'r.data === "[withheld: not JSON that redaction can read, and redact is set; 31 bytes]"'
check "a key of 313 bytes, apiToken (a bare word inside a key): redacted" \
    row longkey 'r.data.includes("_SECRET_value\":\"[redacted]\"") && r.data.includes("\"apiToken\":\"[redacted]\"")'
check "X-Token (list items next to tabs) and api_token in invalid UTF-8 data: redacted" \
    bash -c "$(declare -f row id); T_DIR='$T_DIR'; row bidi 'r.data.includes(\"\\\"X-Token\\\":\\\"[redacted]\\\"\")' && row badutf8 'r.data.includes(\"\\\"api_token\\\":\\\"[redacted]\\\"\")'"
check "status counts the withheld rows" node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(s.data_withheld_24h === 2 ? 0 : 1)' "$T_DIR/status.json"
check "... and says so in its table" grep -q "job data withheld .* in 2 failure rows" "$T_DIR/status.txt"
"$BW" store -c "$INI" >"$T_DIR/store.txt" 2>&1
check "bullwatch store: rows, oldest row and the withheld count" bash -c \
    "grep -q 'withheld    2 failure rows' '$T_DIR/store.txt' && grep -Eq '^  failures +8$' '$T_DIR/store.txt' && grep -q 'oldest row  20' '$T_DIR/store.txt'"
"$BW" store backup "$T_DIR/copy.db" -c "$INI" >"$T_DIR/backup.out" 2>&1
check "store backup: a consistent copy of a live store, 0600" bash -c \
    "grep -q '(8 failure rows' '$T_DIR/backup.out' && [ \$(stat -c %a '$T_DIR/copy.db') = 600 ] && [ \$(sqlite3 '$T_DIR/copy.db' 'select count(*) from failures') = 8 ]"

# ---- query: one statement, read only ----
refused() { # sql expected-message
    printf '%s\n' "$1" >"$T_DIR/r.sql"
    "$BW" query "$T_DIR/r.sql" -c "$INI" >"$T_DIR/r.out" 2>&1
    local rc=$?
    [ $rc = 2 ] && grep -qF -- "$2" "$T_DIR/r.out" || { echo "# rc $rc: $(cat "$T_DIR/r.out")"; return 1; }
}
check "query refuses VACUUM INTO with a message" refused "VACUUM INTO '$T_DIR/x.db'" "VACUUM is refused"
check "... and wrote no file" test ! -e "$T_DIR/x.db"
check "query refuses VACUUM" refused "vacuum" "VACUUM is refused"
check "query refuses ATTACH" refused "ATTACH '$T_DIR/y.db' AS y" "ATTACH is refused"
check "query refuses INSERT" refused "INSERT INTO failures (queue) VALUES ('x')" "INSERT is refused"
check "query refuses UPDATE" refused "UPDATE failures SET queue = 'x'" "UPDATE is refused"
check "query refuses DELETE" refused "DELETE FROM failures" "DELETE is refused"
check "query refuses CREATE" refused "CREATE TABLE t (x)" "CREATE is refused"
check "query refuses DROP" refused "DROP TABLE failures" "DROP is refused"
check "query refuses ALTER TABLE" refused "ALTER TABLE failure_log ADD COLUMN z" "ALTER TABLE is refused"
check "query refuses setting a pragma" refused "PRAGMA user_version = 9" "PRAGMA user_version = ... is refused"
check "query refuses load_extension" refused "SELECT load_extension('x')" "load_extension() is refused"
check "query refuses BEGIN" refused "BEGIN" "transaction control is refused"
check "query: text after the statement is an error naming its position" \
    refused "SELECT 1;
  DELETE FROM failures" "line 2, column 3 (byte 13): text after the first statement: 'DELETE FROM failures'"
printf 'SELECT count(*) AS n FROM failures; -- a comment\n/* and another */ ;\n' >"$T_DIR/ok.sql"
check "query: a trailing ; whitespace and comments are fine" bash -c "'$BW' query '$T_DIR/ok.sql' -c '$INI' | grep -q '^8'"
check "nothing was written by any of them" test "$("$BW" query "$T_DIR/ok.sql" -c "$INI" --csv | tail -1)" = 8

# ---- the TUI in tmux ----
S="bwhostile$$"
T_SOCK="$T_DIR/tmux.sock"
tm() { tmux -S "$T_SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
screen() { tm capture-pane -p -t "$S"; }
screen_has() { screen | grep -qF -- "$1"; }
tm new-session -d -s "$S" -x 160 -y 40 "TERM=xterm-256color '$BW' tui -c '$INI' --read-only; sleep 30"
tm select-pane -t "$S" -T original-title
wait_for 10 screen_has "QUEUE" || not_ok "the TUI did not draw: $(screen | head -5)"
tm send-keys -t "$S" ':' 'dlq hq' Enter
check "TUI: the hostile queue's 8 dead jobs listed" wait_for 10 screen_has "8 shown of 8 dead"
screen >"$T_DIR/tui_list.txt"
tm send-keys -t "$S" '/' 'pwned' Enter
wait_for 10 screen_has "1 shown of 8 dead"
tm send-keys -t "$S" Enter
check "TUI: the escape-laden reason shown escaped" wait_for 10 screen_has 'reason \x1b]0;pwned-title\x07'
screen >"$T_DIR/tui_esc.txt"
tm send-keys -t "$S" Escape '/' Escape
tm send-keys -t "$S" ':' 'dlq hq' Enter '/' 'desrever' Enter
wait_for 10 screen_has "1 shown of 8 dead"
tm send-keys -t "$S" Enter
check "TUI: the bidi job readable (its text in order)" wait_for 10 screen_has "gnp.exe"
screen >"$T_DIR/tui_bidi.txt"
for f in tui_list tui_esc tui_bidi; do surface "TUI screen ($f)" "$T_DIR/$f.txt"; done
check "TUI: the terminal title is untouched" test "$(tm display -p -t "$S" '#{pane_title}')" = original-title
tm kill-server 2>/dev/null

check "SIGTERM stops the agent with exit 0" stop_agent
surface "the agent's log" "$T_DIR/agent.log"
check "no secret value in the store's files (db, wal, the backup)" bash -c \
    "! grep -qa LEAK '$T_DIR/bw.db' '$T_DIR/copy.db' \$(ls '$T_DIR'/bw.db-wal 2>/dev/null)"
chmod 644 "$T_DIR/bw.db"
"$BW" agent -c "$INI" --drain >"$T_DIR/drain.log" 2>&1
check "an existing store readable by others: a warning at start" grep -q "is readable by others (mode 0644)" "$T_DIR/drain.log"
exit $T_FAILED
