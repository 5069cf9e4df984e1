#!/usr/bin/env node
'use strict';
// Print getJobCounts() of some queues as JSON (one object per queue, exactly as
// BullMQ returns it). With --paused, add a top-level "_paused": {q: bool}.
// Read-only: the Queue is created with skipMetasUpdate, so meta.version is not
// overwritten by this tool.
//
// usage: counts.js --redis URL --bullmq 5|6 --queues q1,q2 [--prefix bull] [--paused] [--timeout 120]

const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, { queues: undefined, paused: false }));
const { mod: B } = L.loadBullmq(args.bullmq);
const names = args.queues.split(',').map((s) => s.trim()).filter(Boolean);
if (names.length === 0) L.usage('--queues needs at least one queue name');

async function main() {
  L.setPhase('connecting');
  const queues = names.map((n) => L.track(new B.Queue(n, {
    connection: L.connectionFromUrl(args.redis),
    prefix: args.prefix,
    skipMetasUpdate: true,
  })));
  L.setPhase('counting');
  const out = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = await queues[i].getJobCounts();
  if (args.paused) {
    out._paused = {};
    for (let i = 0; i < names.length; i++) out._paused[names[i]] = await queues[i].isPaused();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

L.run(main)(args);
