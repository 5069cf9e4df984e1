#!/usr/bin/env node
'use strict';
// Dead jobs that have not failed yet, with no live worker to fail them:
//   - queue <tag>-defer: a worker holding a job is SIGKILLed; a stall check
//     with maxStalledCount 0 (a Worker that never processes, autorun false,
//     closed right after) sends the job back to wait with its failure
//     deferred (`defa`);
//   - queue <tag>-orphan: a worker holding a job is SIGKILLed and nothing
//     runs a stall check: the job stays in active, its lock expires.
// Then no worker is left. Writes {"deferred":[id], "orphaned":[id]} to --out.
// With --settle, instead: a worker (maxStalledCount 0) runs both queues
// until both jobs are in `failed`; writes {"dead":[{queue,id,reason}]}.
//   deferred.js --redis URL --bullmq 5|6 --tag T --out FILE [--settle]
//   (internal) deferred.js --child QUEUE --redis URL --bullmq V
const { fork } = require('child_process');
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, { tag: 'df', out: '', child: '', settle: false }));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const LOCK = 1000;
const conn = () => L.connectionFromUrl(args.redis);

async function child() {
  // takes a job and never finishes it: the parent kills this process
  const w = new B.Worker(args.child, () => new Promise(() => {}), {
    connection: conn(), prefix: args.prefix, lockDuration: LOCK, stalledInterval: 500,
  });
  w.on('active', (job) => process.send({ active: job.id }));
  await w.waitUntilReady();
  process.send({ ready: true });
  await new Promise(() => {});
}

// a job of qn taken by a worker that is then SIGKILLed
async function strand(queue, qn) {
  const kid = fork(__filename, ['--child', qn, '--redis', args.redis, '--bullmq', args.bullmq,
    '--prefix', args.prefix], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const activeId = new Promise((resolve) => kid.on('message', (m) => { if (m.active) resolve(m.active); }));
  await new Promise((resolve) => kid.on('message', (m) => { if (m.ready) resolve(); }));
  const job = await queue.add('hang', { q: qn }, { attempts: 3 });
  await activeId;
  kid.kill('SIGKILL');
  await new Promise((resolve) => kid.on('exit', resolve));
  return job;
}

async function strandAll() {
  const rc = L.track(L.rawClient(args.redis));
  const qd = L.track(new B.Queue(`${args.tag}-defer`, { connection: conn(), prefix: args.prefix }));
  const qo = L.track(new B.Queue(`${args.tag}-orphan`, { connection: conn(), prefix: args.prefix }));
  L.setPhase('stranding a job to be deferred');
  const jd = await strand(qd, qd.name);
  // the stall check alone: no processing, so the deferred job stays in wait
  const checker = new B.Worker(qd.name, async () => 'never', {
    connection: conn(), prefix: args.prefix, autorun: false, lockDuration: LOCK, maxStalledCount: 0,
    stalledInterval: 500,
  });
  await checker.waitUntilReady();
  const key = `${args.prefix}:${qd.name}:${jd.id}`;
  await L.waitFor(async () => {
    await checker.moveStalledJobsToWait();
    return (await rc.hexists(key, 'defa')) === 1;
  }, { timeoutMs: 20000, intervalMs: 300, what: 'the stall check to defer the failure' });
  await checker.close();
  L.setPhase('stranding a job in active');
  const jo = await strand(qo, qo.name);
  const lock = `${args.prefix}:${qo.name}:${jo.id}:lock`;
  await L.waitFor(async () => (await rc.exists(lock)) === 0,
    { timeoutMs: 10000, what: 'the dead worker\'s lock to expire' });
  const inWait = await rc.lrange(`${args.prefix}:${qd.name}:wait`, 0, -1);
  const inActive = await rc.lrange(`${args.prefix}:${qo.name}:active`, 0, -1);
  if (!inWait.includes(String(jd.id)) || !inActive.includes(String(jo.id)))
    throw new Error(`unexpected places: wait ${inWait}, active ${inActive}`);
  L.writeJson(args.out, { bullmq: version, deferred: [String(jd.id)], orphaned: [String(jo.id)] });
  console.log(`deferred bullmq ${version}: job ${jd.id} deferred in wait, job ${jo.id} orphaned in active`);
}

async function settle() {
  const dead = [];
  for (const qn of [`${args.tag}-defer`, `${args.tag}-orphan`]) {
    L.setPhase(`a worker settles ${qn}`);
    const queue = L.track(new B.Queue(qn, { connection: conn(), prefix: args.prefix }));
    const w = L.track(new B.Worker(qn, async () => 'ok', {
      connection: conn(), prefix: args.prefix, lockDuration: LOCK, stalledInterval: 500,
      maxStalledCount: 0,
    }));
    await w.waitUntilReady();
    await L.waitFor(async () => (await queue.getFailedCount()) === 1,
      { timeoutMs: 30000, what: `the dead job of ${qn} to fail` });
    const [job] = await queue.getFailed();
    dead.push({ queue: qn, id: String(job.id), reason: job.failedReason });
    await w.close();
  }
  L.writeJson(args.out, { bullmq: version, dead });
  console.log(`settled bullmq ${version}: ${JSON.stringify(dead)}`);
}

if (args.child) child();
else L.run(args.settle ? settle : strandAll)(args);
