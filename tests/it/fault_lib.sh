# Helpers shared by the fault tests (tests/it/t_fault_*.sh), sourced after
# lib.sh. Truth comes from tests/js/faultload.js; the checks are in
# tests/js/check_faults.js.

# faultload OUT [faultload.js options]: run the workload to its end (dies on failure)
faultload() {
    local out=$1
    shift
    node_js faultload.js --redis "$REDIS_URL" --out "$out" "$@" >"$out.log" 2>&1 ||
        die "faultload.js failed: $(tail -5 "$out.log")"
}

cf() { node "$NODE_DIR/js/check_faults.js" "$@"; }

# fault_ini READ_COUNT GLOB N [more ini]: $T_DIR/agent.ini with the receiver
# ($RPORT) as a signed webhook sink and the two rules every fault test
# checks: `reached` (failures[30m] >= N: fires once the real count is in)
# and `beyond` (failures[30m] > N: fires only when something is counted
# twice), on the queues matching GLOB; then check-config must accept it.
fault_ini() {
    write_ini "$T_DIR/agent.ini" "read_count = $1
[sink hook]
type = webhook
url = http://127.0.0.1:$RPORT/webhook
secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
timeout = 2s
[rule reached]
queues = $2
expr = failures[30m] >= $3
repeat_interval = 24h
[rule beyond]
queues = $2
expr = failures[30m] > $3
repeat_interval = 24h
${4:-}"
    "$BW" check-config -c "$T_DIR/agent.ini" >/dev/null || die "check-config refused the test config"
}

# sqlq INI OUT.json SQL: a SELECT of our own through `bullwatch query FILE.sql --json`
sqlq() {
    local f
    f=$(mktemp "$T_DIR/q.XXXXXX.sql")
    echo "$3" >"$f"
    "$BW" query "$f" -c "$1" --json >"$2"
}
# sqlv INI SQL: one value (first column of the first row) through --csv
sqlv() {
    local f
    f=$(mktemp "$T_DIR/q.XXXXXX.sql")
    echo "$2" >"$f"
    "$BW" query "$f" -c "$1" --csv 2>/dev/null | sed -n 2p
}

MC_SQL="SELECT queue, SUM(added) AS added, SUM(completed) AS completed, SUM(failed) AS failed,
 SUM(retries) AS retries FROM minute_counts GROUP BY queue ORDER BY queue"
TR_SQL="SELECT id, rule, queue, from_state, to_state, value, threshold, at FROM alert_transitions ORDER BY id"

# n_transitions INI RULE QUEUE STATE: how many transitions of that kind are stored
n_transitions() {
    sqlv "$1" "SELECT COUNT(*) FROM alert_transitions WHERE rule = '$2' AND queue = '$3' AND to_state = '$4'"
}
# n_requests LOG RULE QUEUE TYPE: webhook requests with that rule, queue and type
n_requests() {
    node -e '
        const [log, rule, queue, type] = process.argv.slice(1);
        const fs = require("fs");
        const l = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
        console.log(l.map(JSON.parse).filter(r => r.path === "/webhook").map(r => JSON.parse(r.body))
            .filter(b => b.type === type && b.data.rule === rule && b.data.queue === queue).length)' "$@"
}
now_ms() { date +%s%3N; }

# reached_beyond Q: the checks every fault test makes of the reached/beyond
# rules (fault_ini) on queue Q: `reached` fired once and was received once;
# `beyond` never fired, is not pending or firing, and the engine never moved
# it even in memory (it logs each transition it makes, stored or not).
reached_beyond() {
    local q=$1 nf nb sb lb rf
    nf=$(n_transitions "$T_DIR/agent.ini" reached "$q" firing)
    check "rule failures[30m] >= $N fired once on $q (firing transitions: $nf)" test "$nf" = 1
    nb=$(n_transitions "$T_DIR/agent.ini" beyond "$q" firing)
    check "rule failures[30m] > $N never fired on $q (firing transitions: $nb)" test "$nb" = 0
    sb=$(sqlv "$T_DIR/agent.ini" "SELECT COUNT(*) FROM alert_state WHERE rule = 'beyond' AND queue = '$q' AND state != 'inactive'")
    check "... nor is it pending or firing in alert_state ($sb rows)" test "$sb" = 0
    lb=$(grep -c "alert beyond on '$q'" "$T_DIR/agent.log")
    check "... nor did the engine move it in memory (log lines 'alert beyond on': $lb)" test "$lb" = 0
    rf=$(n_requests "$T_DIR/r.log" reached "$q" alert.firing)
    check "the receiver got the firing of 'reached' on $q exactly once ($rf)" test "$rf" = 1
}
