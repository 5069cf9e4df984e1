#!/usr/bin/env node
'use strict';
// A dead-job workload through Sentinel: real BullMQ producers and workers
// connect with ioredis's sentinel options (sentinels + master name), add
// --jobs jobs per queue at --rate jobs/s each (a bounded count), and every
// job dies (attempts 2, the worker always throws). When --signal-at jobs of
// each queue are added, --signal FILE is written (the test fails over
// then). Adds that fail mid-failover are retried (at most 50 times each).
// At the end it waits until no job is waiting, active or delayed on the
// master the sentinels name then, and writes to --out what that master
// holds: {"dead":[{queue,id}], "counts":{queue: getJobCounts()}}.
//   sentinel_load.js --sentinel-port P --master NAME --bullmq 5|6 --queues a,b
//       --jobs N --rate R --signal-at K --signal FILE --out FILE [--sentinel-password PW]
const fs = require('fs');
const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, {
  'sentinel-port': undefined, master: 'mymaster', queues: undefined, jobs: '100', rate: '20',
  'signal-at': '30', signal: undefined, out: undefined, 'sentinel-password': '',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const N = L.intArg(args, 'jobs', 1);
const RATE = L.numArg(args, 'rate', 1);
const AT = L.intArg(args, 'signal-at', 0);
const names = args.queues.split(',').filter(Boolean);

const conn = () => {
  const o = {
    sentinels: [{ host: '127.0.0.1', port: L.intArg(args, 'sentinel-port', 1) }],
    name: args.master,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    failoverDetector: true,
  };
  if (args['sentinel-password']) o.sentinelPassword = args['sentinel-password'];
  return o;
};

async function produce(queue, added) {
  const gap = 1000 / RATE;
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const due = t0 + i * gap;
    if (Date.now() < due) await L.sleep(due - Date.now());
    for (let tries = 0; ; tries++) {
      try {
        await queue.add('doomed', { i }, { attempts: 2 });
        break;
      } catch (e) {
        if (tries >= 50) throw e;
        await L.sleep(100);
      }
    }
    added.n++;
  }
}

async function main() {
  L.setPhase('connecting');
  const queues = names.map((n) => L.track(new B.Queue(n, { connection: conn(), prefix: args.prefix })));
  for (const q of queues) await q.waitUntilReady();
  const workers = names.map((n) => L.track(new B.Worker(n, async (job) => {
    throw new Error(`boom ${n} ${job.data.i}`);
  }, {
    connection: conn(), prefix: args.prefix, concurrency: 10,
    // jobs whose lock was lost in the failover come back within seconds
    lockDuration: 4000, stalledInterval: 1000,
  })));
  for (const w of workers) await w.waitUntilReady();
  L.setPhase('producing');
  const added = names.map(() => ({ n: 0 }));
  let signalled = false;
  const watch = setInterval(() => {
    if (!signalled && added.every((a) => a.n >= AT)) {
      signalled = true;
      fs.writeFileSync(args.signal, `${Date.now()}\n`);
    }
  }, 20);
  try {
    await Promise.all(queues.map((q, i) => produce(q, added[i])));
  } finally {
    clearInterval(watch);
  }
  console.log(`${new Date().toISOString()} every job added; draining`);
  L.setPhase('draining');
  let last;
  await L.waitFor(async () => {
    last = [];
    for (const q of queues) last.push(await q.getJobCounts());
    return last.every((c) => !c.waiting && !c.active && !c.delayed && !c.prioritized && !c.paused);
  }, { timeoutMs: 90000, intervalMs: 200, what: 'every job to die', describe: () => JSON.stringify(last) });
  console.log(`${new Date().toISOString()} drained: ${JSON.stringify(last)}`);
  for (const w of workers) await w.close();
  const out = { bullmq: version, dead: [], counts: {} };
  for (let i = 0; i < names.length; i++) {
    const failed = await queues[i].getFailed(0, -1);
    for (const j of failed) out.dead.push({ queue: names[i], id: String(j.id) });
    out.counts[names[i]] = await queues[i].getJobCounts();
  }
  L.writeJson(args.out, out);
  console.log(`sentinel_load bullmq ${version}: ${out.dead.length} dead in ${names.join(',')} ` +
    `(${N} added per queue)`);
}
// ioredis's sentinel mode (failoverDetector's sentinel subscriptions) can
// keep a handle open after every close() resolved: exit once main is done.
L.run(main)(args).then(() => process.exit(process.exitCode || 0));
