#!/usr/bin/env node
'use strict';
// Real stalled jobs: a worker process takes a job and is SIGKILLed while
// holding it. Queue <tag>-dies has maxStalledCount 0, so BullMQ fails the
// job ("job stalled more than allowable limit"); queue <tag>-recovers has
// maxStalledCount 1, so the job is re-run and completes. Writes
// {"dead":[{queue,id,reason}], "stalled": {queue: n}} to --out.
//   stall.js --redis URL --bullmq 5|6 --tag T --out FILE
//   (internal) stall.js --child QUEUE --redis URL --bullmq V
const { fork } = require('child_process');
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, { tag: 'stall', out: '', child: '' }));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const LOCK = 1000;

async function child() {
  // takes a job and never finishes it: the parent kills this process
  const w = new B.Worker(args.child, () => new Promise(() => {}), {
    connection: L.connectionFromUrl(args.redis), prefix: args.prefix, lockDuration: LOCK,
    stalledInterval: 500,
  });
  w.on('active', (job) => process.send({ active: job.id }));
  await w.waitUntilReady();
  process.send({ ready: true });
  await new Promise(() => {});
}

async function main() {
  const queues = [`${args.tag}-dies`, `${args.tag}-recovers`];
  const maxStalled = { [queues[0]]: 0, [queues[1]]: 1 };
  const dead = [];
  const stalled = {};
  for (const qn of queues) {
    L.setPhase(`stalling a job of ${qn}`);
    const queue = L.track(new B.Queue(qn, { connection: L.connectionFromUrl(args.redis), prefix: args.prefix }));
    const kid = fork(__filename, ['--child', qn, '--redis', args.redis, '--bullmq', args.bullmq,
      '--prefix', args.prefix], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const activeId = new Promise((resolve) => kid.on('message', (m) => { if (m.active) resolve(m.active); }));
    await new Promise((resolve) => kid.on('message', (m) => { if (m.ready) resolve(); }));
    const job = await queue.add('hang', { q: qn }, { attempts: 3 });
    await activeId;
    kid.kill('SIGKILL');
    await new Promise((resolve) => kid.on('exit', resolve));
    // the surviving worker runs the stalled checker and then the job
    const qe = L.track(new B.QueueEvents(qn, { connection: L.connectionFromUrl(args.redis), prefix: args.prefix }));
    await qe.waitUntilReady();
    stalled[qn] = 0;
    qe.on('stalled', () => { stalled[qn]++; });
    const w = L.track(new B.Worker(qn, async () => 'ok', {
      connection: L.connectionFromUrl(args.redis), prefix: args.prefix, lockDuration: LOCK,
      stalledInterval: 500, maxStalledCount: maxStalled[qn],
    }));
    await w.waitUntilReady();
    let state;
    await L.waitFor(async () => {
      state = await job.getState();
      return state === 'failed' || state === 'completed';
    }, { timeoutMs: 30000, what: `job of ${qn} to finish after stalling`, describe: () => state });
    const fresh = await B.Job.fromId(queue, job.id);
    if (state === 'failed') dead.push({ queue: qn, id: String(job.id), reason: fresh.failedReason });
    await L.waitFor(async () => stalled[qn] > 0, { timeoutMs: 10000, what: 'the stalled event' });
    await w.close();
  }
  L.writeJson(args.out, { bullmq: version, dead, stalled });
  console.log(`stall bullmq ${version}: ${JSON.stringify(stalled)} stalled, dead ${JSON.stringify(dead)}`);
}

if (args.child) child();
else L.run(main)(args);
