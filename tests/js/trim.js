#!/usr/bin/env node
'use strict';
// A queue whose events stream is capped (Queue option streams.events.maxLen),
// with many more events than the cap: most jobs die (attempts 1), ~20% succeed.
// Writes {"dead":[{queue,id,reason}], "counts": getJobCounts(), "xlen": N,
// "entries_added": N|null, "maxlen": M, ...} and prints the stream length (XLEN) in the summary.
//
// usage: trim.js --redis URL --bullmq 5|6 --queue NAME --out FILE
//        [--append true] [--maxlen 50] [--jobs 300] [--prefix bull] [--concurrency 10] [--timeout 120]

const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, {
  queue: undefined,
  out: undefined,
  maxlen: '50',
  jobs: '300',
  concurrency: '10',
  append: 'false',
  'check-trim': 'true',
}));
const CHECK_TRIM = args['check-trim'] !== 'false';
// --append true: the queue may already hold finished jobs (a second run on
// the same queue); the record then lists every dead job of the queue.
const APPEND = args.append === 'true' || args.append === '1';
const { mod: B, version } = L.loadBullmq(args.bullmq);
const MAXLEN = L.intArg(args, 'maxlen', 1);
const NJOBS = L.intArg(args, 'jobs', 1);
const CONC = L.intArg(args, 'concurrency', 1);
const QN = args.queue;

async function main() {
  const t0 = Date.now();
  const prefix = args.prefix;
  L.setPhase('connecting');
  const queue = L.track(new B.Queue(QN, {
    connection: L.connectionFromUrl(args.redis),
    prefix,
    streams: { events: { maxLen: MAXLEN } },
  }));
  await queue.waitUntilReady();
  const c0 = await queue.getJobCounts();
  if (!APPEND && Object.values(c0).reduce((a, b) => a + b, 0) !== 0) {
    throw new Error(`queue ${QN} is not empty (${JSON.stringify(c0)})`);
  }
  const raw = L.track(L.rawClient(args.redis));
  const eventsKey = `${prefix}:${QN}:events`;

  const worker = L.track(new B.Worker(QN, async (job) => {
    if (job.data.ok) return { ok: true };
    throw new Error(`upstream returned HTTP ${job.data.code} for item ${job.data.i}`);
  }, { connection: L.connectionFromUrl(args.redis), prefix, concurrency: CONC }));
  await worker.waitUntilReady();

  L.setPhase('adding jobs');
  const specs = [];
  let expectDead = 0;
  for (let i = 0; i < NJOBS; i++) {
    const ok = i % 5 === 0; // 20% succeed
    if (!ok) expectDead++;
    specs.push({ name: ok ? 'ok' : 'doomed', data: { i, ok, code: 500 + (i % 4) }, opts: { attempts: 1 } });
  }
  for (let i = 0; i < specs.length; i += 100) await queue.addBulk(specs.slice(i, i + 100));

  L.setPhase('waiting for all jobs to be final');
  let last;
  await L.waitFor(async () => {
    last = await queue.getJobCounts();
    return last.completed + last.failed === NJOBS + c0.completed + c0.failed && last.active === 0 &&
      last.waiting === 0 && (last.paused || 0) === 0 && last.delayed === 0 && last.prioritized === 0;
  }, {
    timeoutMs: Math.max(5000, Number(args.timeout) * 1000 - (Date.now() - t0) - 5000),
    what: 'all jobs to be final',
    describe: () => JSON.stringify(last),
  });
  await worker.close();

  L.setPhase('collecting');
  const failed = await queue.getFailed(0, -1);
  const dead = failed.map((j) => ({ queue: QN, id: String(j.id), reason: j.failedReason }));
  const counts = await queue.getJobCounts();
  if (dead.length !== expectDead + c0.failed || counts.failed !== expectDead + c0.failed) {
    throw new Error(`expected ${expectDead + c0.failed} dead jobs, got ${dead.length} (counts ${JSON.stringify(counts)})`);
  }
  const xlen = await raw.xlen(eventsKey);
  const metaMax = await raw.hget(`${prefix}:${QN}:meta`, 'opts.maxLenEvents');
  // Events ever written: XINFO STREAM entries-added (Redis >= 7.0); else a
  // lower bound (added + waiting + active + completed/failed per job).
  let entriesAdded = null;
  try {
    const info = await raw.xinfo('STREAM', eventsKey);
    const k = info.indexOf('entries-added');
    if (k >= 0) entriesAdded = Number(info[k + 1]);
  } catch (_) { /* older Redis */ }
  const minEvents = entriesAdded !== null ? entriesAdded : 4 * NJOBS;
  if (CHECK_TRIM && !(xlen < minEvents / 2)) {
    throw new Error(`events stream not trimmed: XLEN ${xlen} with maxLen ${MAXLEN} after >= ${minEvents} events`);
  }
  L.writeJson(args.out, {
    bullmq: version,
    prefix,
    queue: QN,
    maxlen: MAXLEN,
    xlen,
    entries_added: entriesAdded,
    dead,
    counts,
  });
  console.log(`trim bullmq ${version}: queue ${QN}, ${NJOBS} jobs, dead ${dead.length}, completed ${counts.completed}; ` +
    `events written ${entriesAdded !== null ? entriesAdded : '>= ' + minEvents}, XLEN ${eventsKey} = ${xlen} (maxLen ${MAXLEN}, meta opts.maxLenEvents=${metaMax}); ` +
    `${((Date.now() - t0) / 1000).toFixed(2)}s -> ${args.out}`);
}

L.run(main)(args);
