#!/usr/bin/env node
'use strict';
// Compares what bullwatch recorded with what BullMQ itself says.
//
//   check_ingest.js dead RECORD.json FAILURES.json [QUEUES]
//     The set of (queue, job id) among the failure rows equals the record's
//     "dead" list, with no duplicate rows. QUEUES (comma list) limits both.
//   check_ingest.js counts STATUS.json COUNTS.json 5|6
//     For every queue of COUNTS (getJobCounts() output of counts.js), the
//     `status --json` counts are equal. 5.x reports waiting and paused
//     apart; bullwatch's waiting is wait + paused, as getWaitingCount().
//
// Prints every mismatch; exit 0 when equal, 1 otherwise.
const fs = require('fs');
const [mode, a, b, c] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
let bad = 0;
const problem = (m) => { bad++; if (bad <= 20) console.log(m); };

if (mode === 'dead') {
  const rec = read(a);
  const rows = read(b);
  const only = c ? new Set(c.split(',')) : null;
  const keep = (q) => !only || only.has(q);
  const exp = new Set(rec.dead.filter((d) => keep(d.queue)).map((d) => `${d.queue}\u0000${d.id}`));
  const seen = new Map();
  for (const r of rows) {
    if (!keep(r.queue)) continue;
    const k = `${r.queue}\u0000${r.job_id}`;
    seen.set(k, (seen.get(k) || 0) + 1);
  }
  for (const [k, n] of seen) {
    if (n > 1) problem(`duplicate: ${k.replace('\u0000', '/')} recorded ${n} times`);
    if (!exp.has(k)) problem(`extra: ${k.replace('\u0000', '/')} recorded but did not die`);
  }
  for (const k of exp) if (!seen.has(k)) problem(`missing: ${k.replace('\u0000', '/')} died but was not recorded`);
  console.log(`dead: expected ${exp.size}, recorded ${[...seen.values()].reduce((x, y) => x + y, 0)} rows for ${seen.size} jobs, ${bad} problem(s)`);
} else if (mode === 'counts') {
  const st = read(a);
  const counts = read(b);
  const v5 = c === '5';
  for (const [q, js] of Object.entries(counts)) {
    if (q.startsWith('_')) continue;
    const sq = st.queues.find((x) => x.name === q);
    if (!sq) { problem(`queue ${q}: not in status`); continue; }
    const want = {
      waiting: (js.waiting || 0) + (v5 ? (js.paused || 0) : 0),
      active: js.active, prioritized: js.prioritized, delayed: js.delayed,
      completed: js.completed, failed: js.failed, waiting_children: js['waiting-children'], // status: snake_case
    };
    for (const [k, v] of Object.entries(want)) {
      if (sq.counts[k] !== v) problem(`queue ${q}: ${k} is ${sq.counts[k]} in status, ${v} in getJobCounts()`);
    }
  }
  console.log(`counts: ${Object.keys(counts).filter((q) => !q.startsWith('_')).length} queue(s), ${bad} problem(s)`);
} else {
  console.error('usage: check_ingest.js dead RECORD FAILURES [QUEUES] | counts STATUS COUNTS 5|6');
  process.exit(2);
}
process.exit(bad ? 1 : 0);
