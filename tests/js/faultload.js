#!/usr/bin/env node
'use strict';
// A paced BullMQ workload for the fault tests: the number of dead jobs per
// queue is fixed by the arguments (so alert thresholds can be set before it
// runs), and what really happened is read back from BullMQ and written to
// --out. Per queue, --jobs jobs are added in --waves waves --wave-ms apart;
// of each queue's jobs, --dead die (every other one after a retry:
// attempts 2; --removed of them with removeOnFail, so their hash is gone),
// --flaky fail once and then complete, the rest complete.
//
//   faultload.js --redis URL --bullmq 5|6 --queues q1,q2 --out FILE
//                [--jobs 40] [--dead 10] [--removed 0] [--flaky 5]
//                [--waves 4] [--wave-ms 500] [--concurrency 10]
//
// --out: {"bullmq": V, "queues": {Q: {"added": n, "dead": n, "completed": n,
//          "retries": n, "dead_ids": [..]}}, "dead": [{"queue": Q, "id": ID, "removed": b}]}
// "dead" has the shape check_ingest.js reads. Exit 1 when BullMQ's own
// record disagrees with the plan (a job died that should not have, ...).
const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, {
  queues: undefined, out: undefined, jobs: '40', dead: '10', removed: '0', flaky: '5',
  waves: '4', 'wave-ms': '500', concurrency: '10',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const QN = args.queues.split(',').filter(Boolean);
const NJ = L.intArg(args, 'jobs', 1);
const ND = L.intArg(args, 'dead', 0);
const NR = L.intArg(args, 'removed', 0);
const NF = L.intArg(args, 'flaky', 0);
const NW = L.intArg(args, 'waves', 1);
const WMS = L.intArg(args, 'wave-ms', 0);
if (ND + NF > NJ || NR > ND) L.usage('need dead + flaky <= jobs and removed <= dead', {});

// Job k of a queue: the categories are spread evenly over the waves.
function plan() {
  const cats = [];
  for (let k = 0; k < NJ; k++) cats.push('ok');
  const put = (n, cat) => { // n slots spread over the not yet used ones
    const free = cats.map((c, i) => (c === 'ok' ? i : -1)).filter((i) => i >= 0);
    for (let j = 0; j < n; j++) cats[free[Math.floor((j * free.length) / n)]] = cat;
  };
  put(ND, 'dead');
  put(NF, 'flaky');
  let r = 0;
  let d = 0;
  return cats.map((cat, k) => {
    const data = { k, cat };
    const opts = {};
    if (cat === 'dead') {
      if (d++ % 2 === 1) opts.attempts = 2;
      if (r < NR) { opts.removeOnFail = true; data.removed = true; r++; }
    } else if (cat === 'flaky') {
      opts.attempts = 2;
    }
    return { name: cat, data, opts };
  });
}

async function main() {
  const c = () => L.connectionFromUrl(args.redis);
  const prefix = args.prefix;
  const queues = {};
  for (const q of QN) queues[q] = L.track(new B.Queue(q, { connection: c(), prefix }));
  await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));

  const fin = Object.fromEntries(QN.map((q) => [q, { completed: new Set(), dead: new Map(), retries: 0 }]));
  const workers = QN.map((q) => {
    const w = L.track(new B.Worker(q, async (job) => {
      const d = job.data;
      if (d.cat === 'dead') throw new Error(`fault ${q} job ${d.k} died`);
      if (d.cat === 'flaky' && job.attemptsMade < 1) throw new Error(`fault ${q} job ${d.k} flaked`);
      return { ok: true };
    }, { connection: c(), prefix, concurrency: L.intArg(args, 'concurrency', 1) }));
    w.on('completed', (job) => fin[q].completed.add(String(job.id)));
    w.on('failed', (job, err) => {
      if (!job) return;
      if (L.isFinalFailure(job, err)) fin[q].dead.set(String(job.id), !!(job.data && job.data.removed));
      else fin[q].retries++; // a failed attempt that BullMQ retries
    });
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  const p = plan();
  const ids = Object.fromEntries(QN.map((q) => [q, []]));
  const per = Math.ceil(NJ / NW);
  for (let wv = 0; wv < NW; wv++) {
    if (wv > 0 && WMS > 0) await L.sleep(WMS);
    const slice = p.slice(wv * per, (wv + 1) * per);
    if (!slice.length) break;
    await Promise.all(QN.map(async (q) => {
      const jobs = await queues[q].addBulk(slice);
      for (const j of jobs) ids[q].push(String(j.id));
    }));
  }
  let last = '';
  await L.waitFor(async () => {
    last = QN.map((q) => `${q}: ${fin[q].completed.size}+${fin[q].dead.size}/${NJ}`).join(', ');
    return QN.every((q) => fin[q].completed.size + fin[q].dead.size === NJ);
  }, { timeoutMs: 60000, intervalMs: 20, what: 'every job to be final', describe: () => last });
  await Promise.all(workers.map((w) => w.close()));

  // BullMQ's own record: the kept dead jobs are in the failed set, the
  // removed ones are gone; the counts are the plan's.
  const out = { bullmq: version, queues: {}, dead: [] };
  const errors = [];
  for (const q of QN) {
    const failedIds = new Set((await queues[q].getFailed(0, -1)).map((j) => String(j.id)));
    const mine = new Set(ids[q]);
    const dead = [...fin[q].dead.entries()];
    for (const [id, removed] of dead) {
      if (!mine.has(id)) errors.push(`${q}/${id}: not a job of this run`);
      if (!removed && !failedIds.has(id)) errors.push(`${q}/${id}: died but not in the failed set`);
      if (removed && (await queues[q].getJob(id))) errors.push(`${q}/${id}: removeOnFail hash still there`);
      out.dead.push({ queue: q, id, removed });
    }
    if (dead.length !== ND) errors.push(`${q}: ${dead.length} dead, planned ${ND}`);
    if (fin[q].completed.size !== NJ - ND) errors.push(`${q}: ${fin[q].completed.size} completed, planned ${NJ - ND}`);
    out.queues[q] = { added: ids[q].length, dead: dead.length, completed: fin[q].completed.size,
      retries: fin[q].retries, dead_ids: dead.map(([id]) => id) };
  }
  if (errors.length) throw new Error(`faultload cross-check failed:\n  ${errors.slice(0, 20).join('\n  ')}`);
  L.writeJson(args.out, out);
  console.log(`faultload bullmq ${version}: ${QN.map((q) => `${q} ${NJ} jobs, ${ND} dead`).join('; ')} -> ${args.out}`);
}
L.run(main)(args);
