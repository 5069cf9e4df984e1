#!/usr/bin/env node
'use strict';
// Deterministic mixed BullMQ workload on 3 queues, run to completion by real
// Workers; records exactly which jobs died. See README section in the report.
//
// usage: workload.js --redis URL --bullmq 5|6 --out FILE [--jobs 2000]
//        [--prefix bull] [--tag X] [--seed 1] [--concurrency 20] [--timeout 120]

const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, {
  bullmq: undefined,
  out: undefined,
  jobs: '2000',
  tag: '',
  seed: '1',
  concurrency: '20',
}));

const { mod: B, version, major } = L.loadBullmq(args.bullmq);
const { Queue, Worker, UnrecoverableError } = B;
const NJOBS = L.intArg(args, 'jobs', 1);
const CONC = L.intArg(args, 'concurrency', 1);
const tag = args.tag || `wl${major}`;
const QNAMES = [`${tag}-a`, `${tag}-b`, `${tag}-c`];
const PAUSED_Q = QNAMES[2];
const rnd = L.prng(args.seed);

// ---------------------------------------------------------------------------
// Error message shapes: numbers vary, few distinct shapes.
// ---------------------------------------------------------------------------
const failMsg = () => {
  switch (rnd.int(0, 3)) {
    case 0: return `timeout after ${rnd.int(1000, 9999)}ms`;
    case 1: return `connection refused 10.0.0.${rnd.int(1, 254)}:5432`;
    case 2: return `user ${rnd.uuid()} not found`;
    default: return `rate limited by upstream, retry in ${rnd.int(1, 120)}s`;
  }
};
const fatalMsg = () => (rnd.int(0, 1) === 0
  ? `validation failed for order ${rnd.int(10000, 99999)}`
  : `account ${rnd.uuid()} is closed`);

// ---------------------------------------------------------------------------
// Build the plan. Every job's fate is known in advance ("dies"/"removed"),
// which lets us cross-check what BullMQ did.
// ---------------------------------------------------------------------------
const MIX = [
  // [category, share]
  ['ok', 0.34],
  ['flaky', 0.12], // fails once, then succeeds (attempts 3, fixed backoff)
  ['exhaust', 0.08], // always fails, attempts 3, fixed backoff
  ['immediate', 0.08], // always fails, attempts 2, no backoff
  ['unrecoverable', 0.06], // UnrecoverableError, attempts 5
  ['removed', 0.06], // always fails, removeOnFail: true
  ['custom', 0.12], // custom ids ord:<n>:x, some die
  ['prio', 0.14], // priority 1..10, some die
];

function buildCategories(n) {
  const cats = [];
  let used = 0;
  for (const [c, share] of MIX.slice(1)) {
    const k = Math.floor(n * share);
    for (let i = 0; i < k; i++) cats.push(c);
    used += k;
  }
  for (let i = used; i < n; i++) cats.push('ok');
  // Fisher-Yates with the seeded PRNG
  for (let i = cats.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [cats[i], cats[j]] = [cats[j], cats[i]];
  }
  return cats;
}

const BACKOFF = (ms) => ({ type: 'fixed', delay: ms });

function planJob(i, cat, counters) {
  const queue = QNAMES[i % 3];
  const data = { i, cat, ms: rnd.int(0, 3) };
  const opts = {};
  let dies = false;
  let removed = false;
  const k = (counters[cat] = (counters[cat] || 0) + 1) - 1;
  switch (cat) {
    case 'ok':
      data.mode = 'ok';
      break;
    case 'flaky':
      data.mode = 'flaky';
      data.err = failMsg();
      opts.attempts = 3;
      opts.backoff = BACKOFF(rnd.int(20, 50));
      break;
    case 'exhaust':
      data.mode = 'fail';
      data.err = failMsg();
      opts.attempts = 3;
      opts.backoff = BACKOFF(rnd.int(20, 50));
      dies = true;
      break;
    case 'immediate':
      data.mode = 'fail';
      data.err = failMsg();
      opts.attempts = 2;
      dies = true;
      break;
    case 'unrecoverable':
      data.mode = 'unrecoverable';
      data.err = fatalMsg();
      opts.attempts = 5;
      opts.backoff = BACKOFF(30);
      dies = true;
      break;
    case 'removed':
      data.mode = 'fail';
      data.err = failMsg();
      opts.removeOnFail = true;
      if (k % 3 === 1) opts.attempts = 2; // immediate retry, then removed
      else if (k % 3 === 2) { opts.attempts = 3; opts.backoff = BACKOFF(20); }
      dies = true;
      removed = true;
      break;
    case 'custom':
      opts.jobId = `ord:${k}:x`;
      if (k % 3 === 0) data.mode = 'ok';
      else if (k % 3 === 1) {
        data.mode = 'flaky';
        data.err = failMsg();
        opts.attempts = 3;
        opts.backoff = BACKOFF(25);
      } else {
        dies = true;
        if (k % 2 === 0) {
          data.mode = 'fail';
          data.err = failMsg();
          opts.attempts = 2;
          opts.backoff = BACKOFF(25);
        } else {
          data.mode = 'unrecoverable';
          data.err = fatalMsg();
          opts.attempts = 3;
        }
      }
      break;
    case 'prio':
      opts.priority = 1 + (k % 10);
      if (k % 3 === 2) {
        dies = true;
        data.mode = 'fail';
        data.err = failMsg();
        if (k % 2 === 0) {
          opts.attempts = 2;
          opts.backoff = BACKOFF(20);
        }
      } else {
        data.mode = 'ok';
      }
      break;
    default:
      throw new Error(`bad category ${cat}`);
  }
  return { queue, name: cat, data, opts, dies, removed };
}

async function processor(job) {
  const d = job.data;
  if (d.ms) await L.sleep(d.ms);
  switch (d.mode) {
    case 'ok':
      return { ok: true };
    case 'flaky':
      if (job.attemptsMade < 1) throw new Error(d.err);
      return { ok: true, attempt: job.attemptsMade + 1 };
    case 'fail':
      throw new Error(d.err);
    case 'unrecoverable':
      throw new UnrecoverableError(d.err);
    default:
      throw new Error(`unknown mode ${d.mode}`);
  }
}

async function main() {
  const t0 = Date.now();
  const prefix = args.prefix;
  const conn = () => L.connectionFromUrl(args.redis);

  L.setPhase('connecting');
  const queues = {};
  for (const q of QNAMES) {
    queues[q] = L.track(new Queue(q, { connection: conn(), prefix }));
  }
  await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));

  // Refuse to run on dirty queues: the exact dead record depends on it.
  for (const q of QNAMES) {
    const c = await queues[q].getJobCounts();
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    if (total !== 0) throw new Error(`queue ${q} is not empty (${JSON.stringify(c)}); use a fresh db, --prefix or --tag`);
    if (await queues[q].isPaused()) throw new Error(`queue ${q} is paused; use a fresh db, --prefix or --tag`);
  }

  // Plan
  const counters = {};
  const plan = buildCategories(NJOBS).map((cat, i) => planJob(i, cat, counters));
  const added = Object.fromEntries(QNAMES.map((q) => [q, 0]));
  const expectCompleted = Object.fromEntries(QNAMES.map((q) => [q, 0]));
  for (const p of plan) if (!p.dies) expectCompleted[p.queue]++;

  // Workers + exact record of removeOnFail deaths from the 'failed' handler.
  const removedDead = Object.fromEntries(QNAMES.map((q) => [q, new Map()]));
  const workers = [];
  for (const q of QNAMES) {
    const w = L.track(new Worker(q, processor, { connection: conn(), prefix, concurrency: CONC }));
    w.on('failed', (job, err) => {
      if (!job) return;
      if (job.opts && job.opts.removeOnFail === true && L.isFinalFailure(job, err)) {
        removedDead[q].set(String(job.id), err ? err.message : String(job.failedReason));
      }
    });
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  // Add in chunks per queue.
  L.setPhase('adding jobs');
  const byQueue = Object.fromEntries(QNAMES.map((q) => [q, []]));
  for (const p of plan) byQueue[p.queue].push(p);
  const CHUNK = 100;
  await Promise.all(QNAMES.map(async (q) => {
    const list = byQueue[q];
    for (let i = 0; i < list.length; i += CHUNK) {
      const slice = list.slice(i, i + CHUNK);
      const jobs = await queues[q].addBulk(slice.map((p) => ({ name: p.name, data: p.data, opts: p.opts })));
      jobs.forEach((j, k) => { slice[k].id = String(j.id); });
      added[q] += slice.length;
    }
  }));

  // Wait until every job is final.
  L.setPhase('waiting for all jobs to be final');
  let lastCounts = {};
  await L.waitFor(async () => {
    let done = true;
    for (const q of QNAMES) {
      const c = await queues[q].getJobCounts();
      lastCounts[q] = c;
      const pending = (c.active || 0) + (c.delayed || 0) + (c.waiting || 0) + (c.paused || 0) +
        (c.prioritized || 0) + (c['waiting-children'] || 0);
      if (pending !== 0 || c.completed + c.failed + removedDead[q].size !== added[q]) done = false;
    }
    return done;
  }, {
    timeoutMs: Math.max(5000, Number(args.timeout) * 1000 - (Date.now() - t0) - 5000),
    intervalMs: 50,
    what: 'all jobs to be final',
    describe: () => JSON.stringify({ counts: lastCounts, removedDead: QNAMES.map((q) => removedDead[q].size) }),
  });
  const tFinal = Date.now();

  // Collect the dead.
  L.setPhase('collecting dead jobs');
  const dead = [];
  for (const q of QNAMES) {
    const failed = await queues[q].getFailed(0, -1);
    for (const j of failed) dead.push({ queue: q, id: String(j.id), removed: false, reason: j.failedReason });
    for (const [id, reason] of removedDead[q]) dead.push({ queue: q, id, removed: true, reason });
  }

  // Cross-checks against the plan.
  const errors = [];
  const expectedDead = new Map();
  for (const p of plan) if (p.dies) expectedDead.set(`${p.queue}\u0000${p.id}`, p);
  const seen = new Set();
  for (const d of dead) {
    const key = `${d.queue}\u0000${d.id}`;
    if (seen.has(key)) errors.push(`duplicate dead record ${d.queue}/${d.id}`);
    seen.add(key);
    const p = expectedDead.get(key);
    if (!p) { errors.push(`unexpected dead job ${d.queue}/${d.id}`); continue; }
    if (p.removed !== d.removed) errors.push(`job ${d.queue}/${d.id}: removed=${d.removed}, expected ${p.removed}`);
    if (p.data.err !== d.reason) errors.push(`job ${d.queue}/${d.id}: reason ${JSON.stringify(d.reason)} != ${JSON.stringify(p.data.err)}`);
  }
  for (const key of expectedDead.keys()) if (!seen.has(key)) errors.push(`missing dead job ${key.replace('\u0000', '/')}`);
  let failedKept = 0;
  let removedCount = 0;
  for (const q of QNAMES) {
    const c = lastCounts[q];
    failedKept += c.failed;
    removedCount += removedDead[q].size;
    if (c.completed !== expectCompleted[q]) errors.push(`${q}: completed ${c.completed}, expected ${expectCompleted[q]}`);
    for (const id of removedDead[q].keys()) {
      if (await queues[q].getJob(id)) errors.push(`${q}/${id}: removeOnFail job hash still exists`);
    }
  }
  if (dead.length !== failedKept + removedCount) errors.push(`dead ${dead.length} != failed ${failedKept} + removed ${removedCount}`);
  if (errors.length) {
    throw new Error(`workload cross-check failed (${errors.length} problems):\n  ${errors.slice(0, 20).join('\n  ')}`);
  }

  // Stop workers, pause the -c queue and park some jobs in it.
  L.setPhase('pausing queue and parking jobs');
  await Promise.all(workers.map((w) => w.close()));
  const pq = queues[PAUSED_Q];
  await pq.pause();
  const nPlain = Math.max(5, Math.floor(NJOBS / 50));
  const nPrio = Math.max(3, Math.floor(NJOBS / 100));
  const parkedSpecs = [];
  for (let i = 0; i < nPlain; i++) parkedSpecs.push({ name: 'parked', data: { mode: 'ok', parked: i }, opts: {} });
  for (let i = 0; i < nPrio; i++) parkedSpecs.push({ name: 'parked-prio', data: { mode: 'ok', parked: nPlain + i }, opts: { priority: 1 + (i % 10) } });
  await pq.addBulk(parkedSpecs);
  added[PAUSED_Q] += parkedSpecs.length;

  const counts = {};
  for (const q of QNAMES) counts[q] = await queues[q].getJobCounts();
  const pc = counts[PAUSED_Q];
  const parkedWaiting = major === 5 ? (pc.waiting || 0) + (pc.paused || 0) : pc.waiting;
  if (!(await pq.isPaused()) || parkedWaiting !== nPlain || pc.prioritized !== nPrio) {
    throw new Error(`paused queue ${PAUSED_Q} in unexpected state: ${JSON.stringify(pc)}`);
  }

  const total = Object.values(added).reduce((a, b) => a + b, 0);
  dead.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  L.writeJson(args.out, {
    bullmq: version,
    prefix,
    queues: QNAMES,
    paused_queue: PAUSED_Q,
    parked: { plain: nPlain, prioritized: nPrio },
    dead,
    counts,
    total_jobs: total,
  });
  const completed = QNAMES.reduce((a, q) => a + counts[q].completed, 0);
  console.log(`workload bullmq ${version}: ${total} jobs on ${QNAMES.join(',')} (prefix ${prefix}); ` +
    `completed ${completed}, dead ${dead.length} (failed kept ${failedKept}, removeOnFail ${removedCount}), ` +
    `parked ${nPlain}+${nPrio} prioritized in paused ${PAUSED_Q}; final after ${((tFinal - t0) / 1000).toFixed(2)}s, ` +
    `total ${((Date.now() - t0) / 1000).toFixed(2)}s -> ${args.out}`);
}

L.run(main)(args);
