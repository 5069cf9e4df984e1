#!/usr/bin/env node
'use strict';
// Checks what receiver.js recorded from two HA agents (webhook sink, path
// /webhook). Exit 0 when the check holds, else 1 with the reason on stderr;
// prints a one-line JSON summary on stdout.
//   check_ha.js --log FILE --check once|storm|leaders [--n N] [--queues a,b,..]
//               [--since MS] [--leader ID]
// once: every request carries X-Bullwatch-Leader "ID;token=N" and a body
//   whose leader member says the same; every webhook-id arrived exactly once
//   and there are --n of them (one per transition): each transition was
//   sent once, by one leader;
// storm: every queue of --queues got at least one firing; the firings of
//   one queue (one transition each: one dead job, never resolved) all carry
//   one webhook-id, whichever agent sent them;
// leaders: every request at or after --since (ms) came from --leader.
const fs = require('fs');
const L = require('./lib');
const args = L.parseArgs({ log: undefined, check: undefined, n: '0', queues: '', since: '0',
  leader: '' });
const reqs = (fs.existsSync(args.log)
  ? fs.readFileSync(args.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [])
  .filter((r) => r.path === '/webhook');
const fail = (why) => { console.error(`check_ha ${args.check}: ${why}`); process.exit(1); };

function leaderOf(r) {
  const h = r.headers['x-bullwatch-leader'];
  const m = /^(.+);token=(\d+)$/.exec(h || '');
  if (!m) fail(`a request without a well-formed X-Bullwatch-Leader: ${JSON.stringify(h)}`);
  const b = JSON.parse(r.body);
  if (!b.leader || b.leader.id !== m[1] || b.leader.token !== Number(m[2]))
    fail(`body leader ${JSON.stringify(b.leader)} differs from the header ${h}`);
  return { id: m[1], token: Number(m[2]) };
}

switch (args.check) {
  case 'once': {
    const ids = new Map();
    const leaders = new Set();
    for (const r of reqs) {
      const l = leaderOf(r);
      leaders.add(`${l.id};token=${l.token}`);
      const id = r.headers['webhook-id'];
      ids.set(id, (ids.get(id) || 0) + 1);
    }
    const dup = [...ids].filter(([, n]) => n !== 1);
    console.log(JSON.stringify({ requests: reqs.length, ids: ids.size, leaders: [...leaders] }));
    if (dup.length) fail(`ids sent more than once: ${JSON.stringify(dup)}`);
    if (ids.size !== Number(args.n)) fail(`${ids.size} ids, expected ${args.n}`);
    if (leaders.size !== 1) fail(`more than one leader sent: ${[...leaders].join(', ')}`);
    break;
  }
  case 'storm': {
    const want = args.queues.split(',').filter(Boolean);
    const byQueue = new Map();
    let dups = 0;
    const leaders = new Set();
    for (const r of reqs) {
      const b = JSON.parse(r.body);
      if (b.type !== 'alert.firing' || !want.includes(b.data.queue)) continue;
      leaders.add(leaderOf(r).id);
      const ids = byQueue.get(b.data.queue) || [];
      ids.push(r.headers['webhook-id']);
      byQueue.set(b.data.queue, ids);
    }
    const missing = want.filter((q) => !byQueue.has(q));
    const split = [...byQueue].filter(([, ids]) => new Set(ids).size !== 1);
    for (const [, ids] of byQueue) dups += ids.length - 1;
    console.log(JSON.stringify({ queues: want.length, delivered: byQueue.size, duplicates: dups,
      leaders: [...leaders] }));
    if (missing.length) fail(`firings never delivered: ${missing.join(', ')}`);
    if (split.length) fail(`one transition under several ids: ${JSON.stringify(split)}`);
    break;
  }
  case 'leaders': {
    const late = reqs.filter((r) => r.at >= Number(args.since));
    const other = late.filter((r) => leaderOf(r).id !== args.leader);
    console.log(JSON.stringify({ requests: late.length, others: other.length }));
    if (other.length) fail(`${other.length} request(s) after ${args.since} not from ${args.leader}`);
    break;
  }
  default:
    fail(`unknown check ${args.check}`);
}
