# Sourced by the bench scripts: paths, a scratch dir, cleanup of every
# server a script started (PIDS), a JSON field reader and free_port.
#   bench_init NAME    (after `cd` to the project root)
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/redis.sh" # free_port
bench_init() {
    BUILD=${BUILD:-build}
    BW=$PWD/$BUILD/bullwatch
    B=$PWD/$BUILD/bench
    DIR=$(mktemp -d "/tmp/bullwatch-$1.XXXXXX")
    PIDS=()
    BENCH_NAME=$1
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$DIR"
}
say() { echo "$BENCH_NAME: $*" >&2; }
# j JSON KEY: one field (an array joined by " / ")
j() { node -e 'const o=JSON.parse(process.argv[1]);const v=o[process.argv[2]];console.log(v===undefined?"":Array.isArray(v)?v.join(" / "):v)' "$1" "$2"; }
