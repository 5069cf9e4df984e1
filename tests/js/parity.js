#!/usr/bin/env node
'use strict';
// Purge parity with BullMQ's own Job.remove. Builds the same dead jobs in
// two Redis databases (run --phase build once per database), so that one
// copy is purged by bullwatch and the other by BullMQ; then compares the
// two keyspaces.
//   --phase build   --redis URL --bullmq V --out PLAN
//       every fixture (below), then every events stream emptied (XTRIM 0)
//       and every marker deleted, so that only what the purge writes is
//       compared (the building workers leave them as timing has it); PLAN
//       lists the purges:
//       [{fixture, queue, ids, all}] in order (ids of this database)
//   --phase remove  --redis URL --bullmq V --plan PLAN
//       BullMQ's own removal of each planned job, in order: Job.remove()
//       when the hash exists, else Queue.remove() (the same removeJob
//       script; Job.fromId needs the hash)
//   --phase compare --redis URL --bullmq V --other URL [--except q1,q2] --out DIFF
//       both keyspaces, normalised (13-digit ms timestamps, the scheduler's
//       offset and delays, which differ between two builds), must be equal:
//       keys, types, contents; streams by their entries' fields (not ids).
//       Prints "equal N keys" or the differences (also to DIFF), exit 1.
//       --except leaves out the keys of those queues.
//   --phase run     --redis URL --bullmq V --queue Q --count N --out FILE
//       a worker on Q takes N jobs (concurrency 1): their ids in the order
//       it took them, to FILE
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, {
  phase: undefined, out: '', plan: '', other: '', except: '', queue: '', count: '0',
}));

const PFX = args.prefix;

// ---- build ----------------------------------------------------------------

async function build(B) {
  const c = () => L.connectionFromUrl(args.redis);
  const raw = L.track(L.rawClient(args.redis));
  const queues = {};
  const Q = (name) => queues[name] || (queues[name] = L.track(new B.Queue(name, { connection: c(), prefix: PFX })));
  const fp = L.track(new B.FlowProducer({ connection: c(), prefix: PFX }));
  const plan = [];
  // a worker that runs `fn` until `done()` holds, then closes
  const work = async (name, fn, done, what) => {
    const w = new B.Worker(name, fn, { connection: c(), prefix: PFX, concurrency: 1 });
    w.on('error', () => {});
    await L.waitFor(done, { timeoutMs: 30000, what });
    await w.close();
  };
  const failedIs = (name, n) => async () => (await Q(name).getFailedCount()) === n;
  const boom = async () => { throw new Error('boom'); };

  // plain and prioritized dead jobs
  await Q('plain').add('a', { i: 1 }, { attempts: 1 });
  await Q('plain').add('a', { i: 2 }, { attempts: 1 });
  await work('plain', boom, failedIs('plain', 2), 'plain jobs to die');
  plan.push({ fixture: 'plain', queue: 'plain', ids: ['1', '2'] });
  await Q('prio').add('p', { i: 1 }, { attempts: 1, priority: 3 });
  await Q('prio').add('p', { i: 2 }, { attempts: 1 });
  await work('prio', boom, failedIs('prio', 2), 'prioritized jobs to die');
  plan.push({ fixture: 'prioritized', queue: 'prio', ids: ['1', '2'] });
  // with logs; with a deduplication id
  await Q('logs').add('l', {}, { attempts: 1 });
  await work('logs', async (job) => { await job.log('line 1'); await job.log('line 2'); throw new Error('boom'); },
    failedIs('logs', 1), 'the job with logs to die');
  plan.push({ fixture: 'logs', queue: 'logs', ids: ['1'] });
  // (with a ttl, its key outlives the job's failure: the removal takes it)
  await Q('dedup').add('d', {}, { attempts: 1, deduplication: { id: 'd1', ttl: 600000 } });
  await work('dedup', boom, failedIs('dedup', 1), 'the deduplicated job to die');
  plan.push({ fixture: 'deduplicated', queue: 'dedup', ids: ['1'] });
  // lost hashes: one with logs left, one with nothing but its id
  await Q('lost').add('x', {}, { attempts: 1 });
  await Q('lost').add('x', {}, { attempts: 1 });
  await work('lost', async (job) => { if (job.id === '1') await job.log('left behind'); throw new Error('boom'); },
    failedIs('lost', 2), 'the jobs to lose to die');
  await raw.del(`${PFX}:lost:1`, `${PFX}:lost:2`);
  plan.push({ fixture: 'lost hash', queue: 'lost', ids: ['1', '2'] });

  // flows: children in `kids` (name ok completes, bad fails), pending
  // children in `idle` (no worker ever runs there)
  const kid = (id, name, opts = {}) => ({ name, queueName: 'kids', data: { id }, opts: Object.assign({ jobId: id, attempts: 1 }, opts) });
  const idle = (id) => ({ name: 'pending', queueName: 'idle', data: { id }, opts: { jobId: id } });
  const kids = async (fn) => {
    const w = new B.Worker('kids', async (job) => { if (job.name === 'bad') throw new Error(`kid ${job.id} failed`); return `ok ${job.id}`; },
      { connection: c(), prefix: PFX, concurrency: 1 });
    w.on('error', () => {});
    try { await fn(); } finally { await w.close(); }
  };
  const stateIs = (queue, id, want) => async () => {
    const j = await B.Job.fromId(Q(queue), id);
    return j && (await j.getState()) === want;
  };
  const kidsDone = (n) => async () => (await Q('kids').getCompletedCount()) + (await Q('kids').getFailedCount()) === n;
  let nk = 0;
  // a dead parent with two completed children
  await fp.add({ name: 'parent', queueName: 'fpar', data: {}, opts: { jobId: 'FP', attempts: 1 },
    children: [kid('FC1', 'ok'), kid('FC2', 'ok')] });
  nk += 2;
  await kids(() => L.waitFor(kidsDone(nk), { what: 'FP\'s children' }));
  await work('fpar', boom, failedIs('fpar', 1), 'the parent FP to die');
  plan.push({ fixture: 'flow parent', queue: 'fpar', ids: ['FP'] });
  // a dead job in the middle of a tree, all in one queue: its completed
  // child goes with it, and its parent (waiting for it alone) is released:
  // the events in Job.remove's order, the parent's `waiting` first
  await fp.add({ name: 'top', queueName: 'mid', data: {}, opts: { jobId: 'MT' },
    children: [{ name: 'bad', queueName: 'mid', data: {}, opts: { jobId: 'MM', attempts: 1 },
      children: [{ name: 'ok', queueName: 'mid', data: {}, opts: { jobId: 'MG' } }] }] });
  await work('mid', async (job) => { if (job.name === 'bad') throw new Error('middle broken'); return 'ok'; },
    failedIs('mid', 1), 'the middle job to die');
  plan.push({ fixture: 'a dead job with a parent and a child', queue: 'mid', ids: ['MM'] });
  // a lost-hash parent with completed children (its :processed stays)
  await fp.add({ name: 'parent', queueName: 'lostp', data: {}, opts: { jobId: 'LP', attempts: 1 },
    children: [kid('LC1', 'ok'), kid('LC2', 'ok')] });
  nk += 2;
  await kids(() => L.waitFor(kidsDone(nk), { what: 'LP\'s children' }));
  await work('lostp', boom, failedIs('lostp', 1), 'the parent LP to die');
  await raw.del(`${PFX}:lostp:LP`);
  plan.push({ fixture: 'lost-hash parent', queue: 'lostp', ids: ['LP'] });
  // a parent failed by its failParentOnFailure child, a sibling still
  // pending, itself waiting for a pending child (Job.remove releases that
  // sibling as its child goes, then removes it)
  await fp.add({ name: 'parent', queueName: 'pfail', data: {}, opts: { jobId: 'PF', attempts: 1 },
    children: [kid('PFC1', 'bad', { failParentOnFailure: true }),
      Object.assign(idle('PFC2'), { children: [idle('PFG')] })] });
  nk += 1;
  await kids(() => L.waitFor(kidsDone(nk), { what: 'PF\'s child to fail' }));
  await work('pfail', async () => 'never', failedIs('pfail', 1), 'the parent PF to fail by its child');
  plan.push({ fixture: 'parent failed by a child', queue: 'pfail', ids: ['PF'] });
  // dead children of each failure policy (their parents are never run):
  // fpof (the parent moves to wait with a deferred failure), idof (a
  // sibling pending: the parent waits), cpof (the parent moves to wait),
  // rdof (the parent released), none (the parent waits for it: see rel)
  await fp.add({ name: 'parent', queueName: 'pol', data: {}, opts: { jobId: 'PA' },
    children: [kid('CA', 'bad', { failParentOnFailure: true })] });
  await fp.add({ name: 'parent', queueName: 'pol', data: {}, opts: { jobId: 'PB' },
    children: [kid('CB', 'bad', { ignoreDependencyOnFailure: true }), idle('CB2')] });
  await fp.add({ name: 'parent', queueName: 'pol', data: {}, opts: { jobId: 'PC' },
    children: [kid('CC', 'bad', { continueParentOnFailure: true })] });
  await fp.add({ name: 'parent', queueName: 'pol', data: {}, opts: { jobId: 'PD' },
    children: [kid('CD', 'bad', { removeDependencyOnFailure: true })] });
  nk += 4;
  await kids(() => L.waitFor(kidsDone(nk), { what: 'the policy children to fail' }));
  plan.push({ fixture: 'children of each failure policy', queue: 'kids', ids: ['CA', 'CB', 'CC', 'CD'] });
  // released parents: a dead child (no policy) is all they wait for; rel
  // has a backlog the parent must run before
  const released = [
    ['rel', 'R', {}], ['relp', 'RP', { priority: 2 }], ['reld', 'RD', { delay: 60000 }], ['relc', 'RC', {}],
    ['relz', 'RZ', {}],
  ];
  for (const [q, id, opts] of released) {
    await fp.add({ name: 'parent', queueName: q, data: {}, opts: Object.assign({ jobId: id }, opts),
      children: [kid(`${id}K1`, 'bad'), kid(`${id}K2`, 'ok')] });
    nk += 2;
  }
  await kids(() => L.waitFor(kidsDone(nk), { what: 'the released parents\' children' }));
  for (const [q, id] of released) {
    if (!(await stateIs(q, id, 'waiting-children')())) throw new Error(`${id} is not waiting for its children`);
  }
  for (let i = 1; i <= 3; i++) await Q('rel').add('backlog', { i });
  await Q('relp').add('backlog', { i: 1 });
  await Q('relp').add('backlog', { i: 2 }, { priority: 1 });
  await Q('relc').setGlobalConcurrency(1);
  await raw.lpush(`${PFX}:relc:active`, 'busy'); // the one job the limit allows, as if running
  await Q('relz').pause();
  plan.push({ fixture: 'released parent', queue: 'kids', ids: ['RK1'] });
  plan.push({ fixture: 'released prioritized parent', queue: 'kids', ids: ['RPK1'] });
  plan.push({ fixture: 'released delayed parent', queue: 'kids', ids: ['RDK1'] });
  plan.push({ fixture: 'released parent at the concurrency limit', queue: 'kids', ids: ['RCK1'] });
  plan.push({ fixture: 'released parent of a paused queue', queue: 'kids', ids: ['RZK1'] });
  // a job scheduler's past iteration (its next one waits in delayed)
  await Q('sched').upsertJobScheduler('s1', { every: 3600000 }, { name: 'tick', data: {}, opts: { attempts: 1 } });
  await work('sched', boom, failedIs('sched', 1), 'the scheduler\'s iteration to die');
  const it = (await Q('sched').getFailed(0, -1)).map((j) => String(j.id));
  plan.push({ fixture: 'scheduler iteration', queue: 'sched', ids: it });
  // wrappers waiting in a dead-letter queue (bullwatch takes them newest
  // first: the head of wait)
  for (let i = 1; i <= 2; i++) {
    await Q('dead-letter').add('dead', { originalQueue: 'plain', originalJobId: `o${i}`, jobName: 'a',
      jobData: { i }, failedReason: 'boom' }, { attempts: 1 });
  }
  plan.push({ fixture: 'dead-letter-queue wrapper', queue: 'dead-letter', ids: ['2', '1'], all: true });
  // only what the purges write is compared: the events so far go, and the
  // markers (whether the building workers popped the last one before they
  // closed is a matter of timing)
  for (const k of await raw.keys(`${PFX}:*:events`)) await raw.xtrim(k, 'MAXLEN', 0);
  for (const k of await raw.keys(`${PFX}:*:marker`)) await raw.del(k);
  L.writeJson(args.out, plan);
  console.log(`parity build: ${plan.length} purges planned`);
}

// ---- remove (BullMQ's own) ------------------------------------------------

async function remove(B) {
  const c = () => L.connectionFromUrl(args.redis);
  const plan = require(require('path').resolve(args.plan));
  const queues = {};
  // skipMetasUpdate: only the removals write (bullwatch writes no meta either)
  const Q = (name) => queues[name] ||
    (queues[name] = L.track(new B.Queue(name, { connection: c(), prefix: PFX, skipMetasUpdate: true })));
  for (const step of plan) {
    for (const id of step.ids) {
      const job = await B.Job.fromId(Q(step.queue), id);
      if (job) await job.remove();
      else await Q(step.queue).remove(id);
    }
  }
  console.log(`parity remove: ${plan.length} purges done by BullMQ`);
}

// ---- compare --------------------------------------------------------------

const TS = /\b1\d{12}\b/g;
function norm(s) {
  return String(s).replace(TS, 'T').replace(/"(offset|delay)":\d+/g, '"$1":N');
}
function normScore(x) {
  const n = Number(x);
  return n >= 1e12 ? 'T' : String(x);
}

async function dump(url, except) {
  const r = L.track(L.rawClient(url));
  const out = {};
  const skip = new Set(except);
  for (const key of (await r.keys('*')).sort()) {
    const q = key.startsWith(`${PFX}:`) ? key.slice(PFX.length + 1).split(':')[0] : '';
    if (skip.has(q)) continue;
    // the building workers' stall bookkeeping (a throttle on a TTL, and the
    // active ids its last run saw): timing, not state
    if (key.endsWith(':stalled-check') || key.endsWith(':stalled')) continue;
    const type = await r.type(key);
    let v;
    if (type === 'string') v = norm(await r.get(key));
    else if (type === 'list') v = (await r.lrange(key, 0, -1)).map(norm);
    else if (type === 'set') v = (await r.smembers(key)).map(norm).sort();
    else if (type === 'zset') {
      const a = await r.zrange(key, 0, -1, 'WITHSCORES');
      v = [];
      for (let i = 0; i < a.length; i += 2) v.push(`${norm(a[i])}=${normScore(a[i + 1])}`);
      // exact scores say the order; among timestamps it is the build's timing
      v.sort();
    } else if (type === 'hash') {
      const h = await r.hgetall(key);
      v = {};
      for (const f of Object.keys(h).sort()) {
        v[norm(f)] = (f === 'offset' || f === 'delay') && h[f] !== '0' ? 'N' : norm(h[f]);
      }
    } else if (type === 'stream') {
      v = (await r.xrange(key, '-', '+')).map(([, fields]) => fields.map(norm).join(' '));
    } else v = '?';
    out[norm(key)] = { type, v };
  }
  return out;
}

async function compare() {
  const except = args.except ? args.except.split(',') : [];
  const a = await dump(args.redis, except), b = await dump(args.other, except);
  const diffs = [];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (!(k in b)) diffs.push(`only bullwatch: ${k} ${a[k].type} ${JSON.stringify(a[k].v)}`);
    else if (!(k in a)) diffs.push(`only BullMQ: ${k} ${b[k].type} ${JSON.stringify(b[k].v)}`);
    else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
      diffs.push(`differs: ${k}\n  bullwatch ${a[k].type} ${JSON.stringify(a[k].v)}\n  BullMQ    ${b[k].type} ${JSON.stringify(b[k].v)}`);
    }
  }
  // the removed events, on their own: per stream, in order; and all the
  // events, for the record
  const events = (d, only) => Object.keys(d).filter((k) => d[k].type === 'stream')
    .map((k) => `${k}: ${d[k].v.filter((e) => !only || e.startsWith(only)).join(', ')}`).join('\n');
  const ra = events(a, 'event removed '), rb = events(b, 'event removed ');
  const nremoved = Object.values(a).filter((x) => x.type === 'stream')
    .reduce((n, x) => n + x.v.filter((e) => e.startsWith('event removed ')).length, 0);
  const text = diffs.length ? diffs.join('\n') + '\n' : '';
  if (args.out) {
    require('fs').writeFileSync(args.out,
      `${text}# events, bullwatch:\n${events(a)}\n# events, BullMQ:\n${events(b)}\n`);
  }
  if (diffs.length) {
    console.log(`${diffs.length} differences\n${text}`);
    process.exitCode = 1;
    throw new Error('the keyspaces differ');
  }
  if (ra !== rb) throw new Error(`the removed events differ:\n${ra}\n---\n${rb}`);
  console.log(`equal ${Object.keys(a).length} keys, ${nremoved} removed events`);
}

// ---- run ------------------------------------------------------------------

async function runWorker(B) {
  const n = L.intArg(args, 'count', 1);
  const order = [];
  const w = L.track(new B.Worker(args.queue, async (job) => { order.push(String(job.id)); return 'ok'; },
    { connection: L.connectionFromUrl(args.redis), prefix: PFX, concurrency: 1 }));
  await L.waitFor(async () => order.length >= n, { timeoutMs: 20000, what: `${n} jobs of ${args.queue}`, describe: () => order.join(',') });
  await w.close();
  L.writeJson(args.out, order);
  console.log(`parity run ${args.queue}: ${order.join(' ')}`);
}

async function main() {
  if (args.phase === 'compare') return compare();
  const { mod: B } = L.loadBullmq(args.bullmq);
  if (args.phase === 'build') return build(B);
  if (args.phase === 'remove') return remove(B);
  if (args.phase === 'run') return runWorker(B);
  throw new Error(`unknown --phase ${args.phase}`);
}
L.run(main)(args);
