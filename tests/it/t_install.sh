#!/usr/bin/env bash
# Installing: make install DESTDIR=... lays out the binary, both man pages
# (which render, and bullwatch.ini(5) names every config key), the example
# config and a first /etc/bullwatch/agent.ini (its store in the state
# directory), the systemd unit (which systemd-analyze verifies) and bash
# completion (which completes); make uninstall removes all but the config.
# The CLI conventions: --version, help CMD, CMD --help / -h on stdout with
# exit 0, --opt=value.
. "$(dirname "$0")/lib.sh"
root=$T_DIR/root
make --no-print-directory install DESTDIR="$root" PREFIX=/usr BUILD="${BUILD:-build}" \
    >"$T_DIR/install.log" 2>&1 || die "make install failed: $(tail -3 "$T_DIR/install.log")"
for f in usr/bin/bullwatch usr/share/man/man1/bullwatch.1 usr/share/man/man5/bullwatch.ini.5 \
    usr/share/doc/bullwatch/agent.ini.example usr/lib/systemd/system/bullwatch.service \
    usr/share/bash-completion/completions/bullwatch etc/bullwatch/agent.ini; do
    check "installed: /$f" test -s "$root/$f"
done
check "the binary is executable and runs" bash -c "'$root/usr/bin/bullwatch' --version | grep -qE '^bullwatch [0-9]+\.[0-9]+\.[0-9]+$'"
check "the first config keeps its store in the state directory" \
    grep -qx 'path = /var/lib/bullwatch/bullwatch.db' "$root/etc/bullwatch/agent.ini"
check "the unit runs the installed binary on /etc/bullwatch/agent.ini" \
    grep -qx 'ExecStart=/usr/bin/bullwatch agent -c /etc/bullwatch/agent.ini' "$root/usr/lib/systemd/system/bullwatch.service"
for m in man1/bullwatch.1 man5/bullwatch.ini.5; do
    MANWIDTH=80 man --warnings -l "$root/usr/share/man/$m" >"$T_DIR/man.txt" 2>"$T_DIR/man.err"
    check "man -l $m renders without warnings" bash -c "[ -s '$T_DIR/man.txt' ] && [ ! -s '$T_DIR/man.err' ] && grep -q 'SEE ALSO' '$T_DIR/man.txt'"
done
# every key check-config prints is in bullwatch.ini(5), under its section
printf '[redis]\nurl = redis://127.0.0.1:1/0\n' >"$T_DIR/min.ini"
"$BW" check-config -c "$T_DIR/min.ini" >"$T_DIR/cc.txt" || die "check-config failed"
check "bullwatch.ini(5) documents every key under its section" node -e '
    const fs = require("fs");
    const cc = fs.readFileSync(process.argv[1], "utf8").split("\n"), man = fs.readFileSync(process.argv[2], "utf8");
    const sec = (s) => { const i = man.indexOf(".SH [" + s + "]"); const j = man.indexOf("\n.SH ", i + 1); return i < 0 ? "" : man.slice(i, j); };
    let s = "", missing = [];
    for (const l of cc) { const m = /^\[(\w+)\]$/.exec(l); if (m) { s = m[1]; continue; }
        const k = /^(\w+) = /.exec(l); if (k && s && !new RegExp("\\b" + k[1] + "\\b").test(sec(s))) missing.push(s + "." + k[1]); }
    if (missing.length) console.log(missing.join(" "));
    process.exit(missing.length ? 1 : 0);' "$T_DIR/cc.txt" "$root/usr/share/man/man5/bullwatch.ini.5"
# the unit, pointing at this build's binary, passes systemd-analyze verify
sed -e "s|@BINDIR@|$(dirname "$BW")|" -e 's|@SYSCONFDIR@|/etc|' dist/bullwatch.service >"$T_DIR/bullwatch.service"
systemd-analyze verify --man=no "$T_DIR/bullwatch.service" >"$T_DIR/verify.out" 2>&1
vrc=$?
check "systemd-analyze verify accepts the unit" bash -c "[ $vrc = 0 ] && [ ! -s '$T_DIR/verify.out' ]"
check "the unit's hardening" bash -c "for k in ProtectSystem=strict NoNewPrivileges=yes StateDirectory=bullwatch DynamicUser=yes RestartPreventExitStatus=2; do grep -qx \"\$k\" dist/bullwatch.service || exit 1; done"
comp() { bash -c ". '$root/usr/share/bash-completion/completions/bullwatch'; COMP_WORDS=($1); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); _bullwatch; echo \"\${COMPREPLY[*]}\""; }
check "bash completion: a command" test "$(comp "bullwatch dl")" = dlq
check "bash completion: a subcommand" test "$(comp "bullwatch dlq re")" = replay
make --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr >/dev/null 2>&1
check "make uninstall removes what it installed" bash -c "! find '$root/usr' -type f | grep -q ."
check "... and keeps the config" test -s "$root/etc/bullwatch/agent.ini"
# CLI conventions
for c in agent status query check-config dlq silence tui; do
    "$BW" "$c" --help >"$T_DIR/h.out" 2>"$T_DIR/h.err"
    check "bullwatch $c --help: usage on stdout, exit 0" bash -c "[ $? = 0 ] && grep -q '^usage: bullwatch $c' '$T_DIR/h.out' && [ ! -s '$T_DIR/h.err' ]"
done
check "bullwatch help status = status -h" bash -c "[ \"\$('$BW' help status)\" = \"\$('$BW' status -h)\" ]"
check "an unknown command in help exits 2" bash -c "'$BW' help nosuch >/dev/null 2>&1; [ \$? = 2 ]"
start_redis
write_ini "$T_DIR/agent.ini"
start_agent "$T_DIR/agent.ini"
wait_for 10 test -e "$T_DIR/bw.db" || die "the agent made no store"
stop_agent
"$BW" query failures -c "$T_DIR/agent.ini" --param limit=1 --json >"$T_DIR/q1.json" 2>&1
"$BW" query failures -c "$T_DIR/agent.ini" --param=limit=1 --json >"$T_DIR/q2.json" 2>&1
check "--opt=value is the same as --opt value" bash -c "[ -s '$T_DIR/q1.json' ] && cmp -s '$T_DIR/q1.json' '$T_DIR/q2.json'"
check "--param=x (no k=v) is refused" bash -c "'$BW' query failures -c '$T_DIR/agent.ini' --param=x >/dev/null 2>&1; [ \$? = 2 ]"
