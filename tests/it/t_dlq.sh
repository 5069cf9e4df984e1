#!/usr/bin/env bash
# dlq list / show on real BullMQ 5.71 and 6.7 failed sets: the listing equals
# the workload's kept dead jobs; filters by reason, signature, name and time
# select exactly the matching jobs; show prints a job with untrusted text
# escaped.
. "$(dirname "$0")/lib.sh"
start_redis
write_ini "$T_DIR/agent.ini"
for v in 5 6; do
    node_js workload.js --redis "$REDIS_URL" --bullmq "$v" --jobs 1000 --tag "dq$v" \
        --out "$T_DIR/wl$v.json" >"$T_DIR/wl$v.out" 2>&1 || die "workload failed: $(tail -3 "$T_DIR/wl$v.out")"
done
dlq() { "$BW" dlq "$@" -c "$T_DIR/agent.ini"; }
for v in 5 6; do
    for q in a b c; do dlq list "dq$v-$q" --limit 0 --json >"$T_DIR/l$v$q.json" || die "dlq list failed"; done
    check "bullmq $v: dlq list shows exactly the dead jobs kept in the failed sets" node -e '
        const [w, ...ls] = process.argv.slice(1);
        const rec = require(w);
        const exp = new Set(rec.dead.filter(d => !d.removed).map(d => d.queue + "/" + d.id));
        const got = ls.flatMap(f => { const j = require(f); return j.jobs.map(x => j.queue + "/" + x.job_id); });
        const ok = got.length === exp.size && got.every(k => exp.has(k));
        if (!ok) console.log(got.length, exp.size);
        process.exit(ok ? 0 : 1);' "$T_DIR/wl$v.json" "$T_DIR/l${v}a.json" "$T_DIR/l${v}b.json" "$T_DIR/l${v}c.json"
    check "bullmq $v: newest first, with attempts and signatures" node -e '
        const j = require(process.argv[1]).jobs;
        const sorted = j.every((x, i) => i === 0 || j[i - 1].finished_at >= x.finished_at);
        process.exit(sorted && j.every(x => x.signature.length === 12 && x.attempts_allowed >= 1) ? 0 : 1);' "$T_DIR/l${v}a.json"
done
q=dq6-a
all=$T_DIR/l6a.json
dlq list "$q" --reason "timeout after" --limit 0 --json >"$T_DIR/r.json"
check "--reason selects exactly the jobs whose reason contains the text" node -e '
    const all = require(process.argv[1]).jobs, got = require(process.argv[2]).jobs;
    const exp = all.filter(x => (x.failed_reason || "").includes("timeout after")).map(x => x.job_id).sort();
    process.exit(exp.length > 0 && JSON.stringify(exp) === JSON.stringify(got.map(x => x.job_id).sort()) ? 0 : 1);' "$all" "$T_DIR/r.json"
sig=$(node -e 'console.log(require(process.argv[1]).jobs[0].signature)' "$all")
dlq list "$q" --signature "$sig" --limit 0 --json >"$T_DIR/s.json"
check "--signature selects exactly the jobs of that error signature" node -e '
    const all = require(process.argv[1]).jobs, got = require(process.argv[2]).jobs, sig = process.argv[3];
    const exp = all.filter(x => x.signature === sig).map(x => x.job_id).sort();
    process.exit(exp.length > 0 && exp.length < all.length && JSON.stringify(exp) === JSON.stringify(got.map(x => x.job_id).sort()) ? 0 : 1);' \
    "$all" "$T_DIR/s.json" "$sig"
dlq list "$q" --name exhaust --limit 0 --json >"$T_DIR/n.json"
check "--name selects exactly the jobs of that name" node -e '
    const all = require(process.argv[1]).jobs, got = require(process.argv[2]).jobs;
    const exp = all.filter(x => x.name === "exhaust").length;
    process.exit(exp > 0 && got.length === exp && got.every(x => x.name === "exhaust") ? 0 : 1);' "$all" "$T_DIR/n.json"
mid=$(node -e 'const j=require(process.argv[1]).jobs;console.log(j[Math.floor(j.length/2)].finished_at)' "$all")
dlq list "$q" --since "$mid" --limit 0 --json >"$T_DIR/t1.json"
dlq list "$q" --until "$mid" --limit 0 --json >"$T_DIR/t2.json"
check "--since and --until split the set at a finish time" node -e '
    const all = require(process.argv[1]).jobs, a = require(process.argv[2]).jobs, b = require(process.argv[3]).jobs, m = +process.argv[4];
    process.exit(a.length + b.length === all.length && a.every(x => x.finished_at >= m) && b.every(x => x.finished_at < m) ? 0 : 1);' \
    "$all" "$T_DIR/t1.json" "$T_DIR/t2.json" "$mid"
dlq list "$q" --limit 5 --json >"$T_DIR/lim.json"
check "--limit stops after N" node -e 'const j=require(process.argv[1]);process.exit(j.jobs.length===5&&j.dead_total>5?0:1)' "$T_DIR/lim.json"
cid=$(node -e 'const w=require(process.argv[1]);const d=w.dead.find(x=>!x.removed&&x.id.startsWith("ord:"));console.log(d.queue+" "+d.id)' "$T_DIR/wl6.json")
dlq show $cid >"$T_DIR/show.txt"
check "dlq show of a custom id with colons prints its fields and stack traces" \
    bash -c "grep -q ': failed$' '$T_DIR/show.txt' && grep -q '^stacktrace (' '$T_DIR/show.txt' && grep -q '^failedReason' '$T_DIR/show.txt'"
# untrusted text never reaches the terminal raw
rcli hset bull:dq6-a:evil name "$(printf 'x\033[2J')" data "$(printf '{"t":"\033]0;pwned\007"}')" \
    failedReason "$(printf 'bad \033[31mred')" finishedOn 1 >/dev/null
rcli zadd bull:dq6-a:failed 1 evil >/dev/null
dlq show dq6-a evil >"$T_DIR/evil.txt"
dlq list dq6-a --limit 0 >"$T_DIR/evil-list.txt"
check "escape sequences in job data, names and reasons are shown escaped" bash -c "
    ! grep -q \$'\\x1b' '$T_DIR/evil.txt' && ! grep -q \$'\\x1b' '$T_DIR/evil-list.txt' &&
    grep -q 'bad \\\\x1b\\[31mred' '$T_DIR/evil.txt' && grep -q 'x\\\\x1b\\[2J' '$T_DIR/evil-list.txt'"
"$BW" dlq show dq6-a no-such-job -c "$T_DIR/agent.ini" 2>"$T_DIR/err.txt"
check "show of a missing job exits 1 and says so" bash -c "[ $? = 1 ] && grep -q \"no job 'no-such-job'\" '$T_DIR/err.txt'"
"$BW" dlq frobnicate dq6-a -c "$T_DIR/agent.ini" 2>"$T_DIR/err.txt"
check "an unknown dlq action exits 2" bash -c "[ $? = 2 ] && grep -q \"unknown action 'frobnicate'\" '$T_DIR/err.txt'"
