#!/usr/bin/env node
'use strict';
// Checks for the fault tests (tests/it/t_fault_*.sh). Truth always comes
// from the workload's --out files (faultload.js), never from the agent.
//
//   check_faults.js counts MC.json TRUTH.json [TRUTH.json...]
//     MC.json: `bullwatch query` --json of
//       SELECT queue, SUM(added) AS added, SUM(completed) AS completed,
//              SUM(failed) AS failed, SUM(retries) AS retries
//       FROM minute_counts GROUP BY queue
//     For every queue of the truth files (summed over the files): added,
//     completed, failed (= the jobs that died) and retries (failed attempts
//     BullMQ retried) are equal.
//
//   check_faults.js merge OUT.json TRUTH.json [TRUTH.json...]
//     One record with every file's "dead" list (for check_ingest.js dead).
//
//   check_faults.js deliveries LOG TRANSITIONS.json once|at-least-once [--rule R]
//     LOG: receiver.js log (one JSON line per request, headers included).
//     TRANSITIONS.json: `bullwatch query` --json of
//       SELECT id, rule, queue, to_state, at FROM alert_transitions
//     Each webhook request is mapped to the transition it tells of:
//       body {type, timestamp, data: {rule, queue, starts_at, ends_at, ...}}
//       alert.firing   -> the firing transition of (rule, queue) whose `at`
//                         equals data.starts_at (the episode's start)
//       alert.resolved -> the resolved transition of (rule, queue) whose `at`
//                         equals data.ends_at
//     (both are the transition's own `at`, printed with ms: the engine uses
//     one clock reading for the transition row and the notification).
//     Then: every firing transition (of --rule, or all) is delivered exactly
//     once (once) or at least once (at-least-once); every request maps to a
//     transition; all requests of one transition carry one webhook-id, and
//     different transitions carry different webhook-ids. Prints a summary
//     line (transitions, requests, resends) and every problem.
const fs = require('fs');
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const [mode, ...rest] = process.argv.slice(2);
let bad = 0;
const problem = (m) => { bad++; if (bad <= 30) console.log(m); };

function sumTruth(files) {
  const t = {};
  for (const f of files) {
    for (const [q, v] of Object.entries(read(f).queues)) {
      const s = (t[q] = t[q] || { added: 0, completed: 0, failed: 0, retries: 0 });
      s.added += v.added;
      s.completed += v.completed;
      s.failed += v.dead;
      s.retries += v.retries;
    }
  }
  return t;
}

if (mode === 'counts') {
  const [mc, ...truths] = rest;
  const rows = read(mc);
  const t = sumTruth(truths);
  for (const [q, want] of Object.entries(t)) {
    const r = rows.find((x) => x.queue === q) || {};
    const got = {};
    for (const k of Object.keys(want)) {
      got[k] = Number(r[k] || 0);
      if (got[k] !== want[k]) problem(`queue ${q}: minute_counts ${k} = ${got[k]}, the workload's truth = ${want[k]}`);
    }
    console.log(`queue ${q}: minute_counts ${JSON.stringify(got)} truth ${JSON.stringify(want)}`);
  }
} else if (mode === 'merge') {
  const [out, ...truths] = rest;
  const dead = [];
  for (const f of truths) dead.push(...read(f).dead);
  fs.writeFileSync(out, JSON.stringify({ dead }, null, 1));
} else if (mode === 'deliveries') {
  const [log, trf, how, ...opt] = rest;
  const onlyRule = opt[0] === '--rule' ? opt[1] : null;
  const trs = read(trf);
  const reqs = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const key = (rule, queue, state, at) => `${rule}|${queue}|${state}|${at}`;
  const byKey = new Map();
  for (const t of trs) {
    if (t.to_state !== 'firing' && t.to_state !== 'resolved') continue;
    const k = key(t.rule, t.queue, t.to_state, t.at);
    if (byKey.has(k)) problem(`two ${t.to_state} transitions of ${t.rule}/${t.queue} at the same ms ${t.at}`);
    byKey.set(k, { t, ids: new Map() });
  }
  let mapped = 0;
  let resends = 0;
  for (const r of reqs) {
    if (r.path !== '/webhook') continue;
    let b;
    try { b = JSON.parse(r.body); } catch (e) { problem(`request at ${r.at}: body is not JSON`); continue; }
    const d = b.data || {};
    if (onlyRule && d.rule !== onlyRule) continue;
    const firing = b.type === 'alert.firing';
    const at = Date.parse(firing ? d.starts_at : d.ends_at);
    const e = byKey.get(key(d.rule, d.queue, firing ? 'firing' : 'resolved', at));
    if (!e) {
      problem(`request at ${r.at} (${b.type} ${d.rule}/${d.queue}, ${firing ? 'starts_at' : 'ends_at'} ` +
        `${firing ? d.starts_at : d.ends_at}, webhook-id ${r.headers['webhook-id']}) matches no transition`);
      continue;
    }
    mapped++;
    const id = r.headers['webhook-id'];
    if (e.ids.has(id)) resends++;
    e.ids.set(id, (e.ids.get(id) || 0) + 1);
  }
  const owner = new Map();
  let nfiring = 0;
  let nres = 0;
  for (const { t, ids } of byKey.values()) {
    if (onlyRule && t.rule !== onlyRule) continue;
    const n = [...ids.values()].reduce((a, x) => a + x, 0);
    const what = `${t.to_state} transition ${t.id} (${t.rule}/${t.queue} at ${new Date(t.at).toISOString()})`;
    if (t.to_state !== 'firing') nres++;
    if (t.to_state === 'firing') {
      nfiring++;
      if (n === 0) problem(`${what}: never delivered`);
      else if (how === 'once' && n !== 1) problem(`${what}: delivered ${n} times`);
    }
    if (ids.size > 1) problem(`${what}: ${ids.size} different webhook-ids (${[...ids.keys()].join(', ')})`);
    for (const id of ids.keys()) {
      if (owner.has(id)) problem(`webhook-id ${id} is used by ${what} and by transition ${owner.get(id)}`);
      owner.set(id, t.id);
    }
  }
  console.log(`deliveries: ${nfiring} firing and ${nres} resolved transitions` +
    `${onlyRule ? ` (rule ${onlyRule})` : ''}, ${mapped} requests mapped, ${resends} resend(s) of an id, ${bad} problem(s)`);
} else {
  console.error('usage: check_faults.js counts MC TRUTH... | merge OUT TRUTH... | deliveries LOG TRANSITIONS once|at-least-once [--rule R]');
  process.exit(2);
}
process.exit(bad ? 1 : 0);
