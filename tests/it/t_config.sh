#!/usr/bin/env bash
# Configuration errors: unknown key, bad value, missing file each give exit 2
# and a FILE:LINE message; check-config masks secrets; the shipped agent.ini
# is valid.
. "$(dirname "$0")/lib.sh"
cfg() { printf '%s\n' "$@" >"$T_DIR/c.ini"; }
expect2() { # expect2 "message regex" command...
    local re=$1 rc
    shift
    "$@" >"$T_DIR/out" 2>"$T_DIR/err"
    rc=$?
    [ "$rc" = 2 ] && grep -Eq "$re" "$T_DIR/err"
}
cfg '[redis]' 'url = redis://127.0.0.1:6379/0' '' '[queues]' 'colour = blue'
for c in agent status check-config; do
    check "$c: unknown key -> exit 2 with file:line" \
        expect2 "^$T_DIR/c.ini:5: unknown key 'colour' in \[queues\]" "$BW" $c -c "$T_DIR/c.ini"
done
cfg '[store]' 'capture_data = maybe'
check "bad bool -> exit 2 with file:line" \
    expect2 "c.ini:2: bad value 'maybe' for capture_data" "$BW" check-config -c "$T_DIR/c.ini"
cfg '[queues]' 'poll_every = soon'
check "bad duration -> exit 2 with file:line" \
    expect2 "c.ini:2: bad value 'soon' for poll_every" "$BW" agent -c "$T_DIR/c.ini"
cfg '[redis]' 'url = http://example'
check "bad redis url -> exit 2 with file:line" \
    expect2 "c.ini:2: bad redis url 'http://example'" "$BW" agent -c "$T_DIR/c.ini"
cfg '[nonsense]'
check "unknown section -> exit 2 with file:line" \
    expect2 "c.ini:1: unknown section \[nonsense\]" "$BW" check-config -c "$T_DIR/c.ini"
cfg '[rule backlog]' 'expr = waiting > 10' 'colour = red'
check "unknown key in a rule -> exit 2 with file:line" \
    expect2 "c.ini:3: unknown key 'colour' in \[rule backlog\]" "$BW" check-config -c "$T_DIR/c.ini"
check "missing file -> exit 2 naming the file" \
    expect2 "$T_DIR/nope.ini: cannot open config file: No such file or directory" "$BW" agent -c "$T_DIR/nope.ini"
check "BULLWATCH_CONFIG names the file" \
    expect2 "$T_DIR/env.ini: cannot open" env BULLWATCH_CONFIG="$T_DIR/env.ini" "$BW" status
cfg '[redis]' 'url = redis://bob:pa55word@127.0.0.1:6379/0'
"$BW" check-config -c "$T_DIR/c.ini" >"$T_DIR/out" 2>&1
check "check-config masks a password in the url" bash -c "grep -q 'redis://bob:\*\*\*\*@127.0.0.1' '$T_DIR/out' && ! grep -q pa55word '$T_DIR/out'"
cfg '[redis]' 'password_env = BW_TEST_SECRET'
BW_TEST_SECRET=s3cr3t-value "$BW" check-config -c "$T_DIR/c.ini" >"$T_DIR/out" 2>&1
check "password from the environment is used and masked" bash -c "grep -q 'resolved from the environment' '$T_DIR/out' && ! grep -q s3cr3t-value '$T_DIR/out'"
check "password_env naming an unset variable -> exit 2" \
    expect2 "c.ini:2: password_env names 'BW_TEST_SECRET', which is not set" "$BW" check-config -c "$T_DIR/c.ini"
check "the shipped agent.ini is valid" "$BW" check-config -c agent.ini
check "an unknown command exits 2" bash -c "'$BW' frobnicate 2>/dev/null; [ \$? = 2 ]"
check "the TUI without a terminal says so and exits 2" expect2 "needs a terminal" "$BW" tui
