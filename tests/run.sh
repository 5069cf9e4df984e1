#!/usr/bin/env bash
# The test command behind `make test`: Check unit tests, then every
# integration test in tests/it/ against a real redis-server and real BullMQ
# (5.71.0 and 6.7.0 from tests/package.json). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD BW="$PWD/$BUILD/bullwatch" NODE_DIR="$PWD/tests"
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ ! -d tests/node_modules/bullmq5 ] || [ ! -d tests/node_modules/bullmq6 ] ||
    [ ! -d tests/node_modules/standardwebhooks ] ||
    [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
    echo "# installing the tests' npm packages (bullmq 5.71.0 and 6.7.0, standardwebhooks)"
    (cd tests && npm install --no-audit --no-fund --loglevel=error) || exit 1
fi

if [ "${UNIT:-1}" = 1 ]; then
    echo "# unit tests (Check)"
    if "$BUILD/check_bullwatch" >"$out" 2>&1; then
        cat "$out"
    else
        cat "$out"
    fi
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$out" | tail -1)
    checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    fails=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/' | awk '{print $1+$2}')
    if [ -z "$line" ]; then
        echo "not ok - unit tests did not report a summary"
        failed=$((failed + 1))
    else
        passed=$((passed + checks - fails))
        failed=$((failed + fails))
    fi
fi

tests=${TESTS:-$(ls tests/it/t_*.sh)}
for t in $tests; do
    echo "# $t"
    start=$SECONDS
    T_NAME=$(basename "$t" .sh) timeout 600 bash "$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        echo "not ok - $t exited $rc"
        f=1
    fi
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        echo "not ok - $t asserted nothing"
        f=1
    fi
    echo "# $t: $p passed, $f failed in $((SECONDS - start))s"
    passed=$((passed + p))
    failed=$((failed + f))
done
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
