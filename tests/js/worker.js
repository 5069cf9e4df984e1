#!/usr/bin/env node
'use strict';
// A Worker that completes every job it gets and prints one line per completed
// job on stdout: `completed <id>`. Exits 0 after --count completions (if given)
// or after --until-idle-ms without any job activity, whichever comes first;
// exits 1 at --timeout. Failed jobs (e.g. a job that carries a deferred
// failure) are reported on stderr as `failed <id>: <reason>`.
//
// usage: worker.js --redis URL --bullmq 5|6 --queue NAME [--until-idle-ms 1500]
//        [--count N] [--concurrency 1] [--prefix bull] [--timeout 120]

const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, {
  queue: undefined,
  'until-idle-ms': '1500',
  count: '0',
  concurrency: '1',
  fail: 'false',
}));
// --fail true: every job throws instead (counted like completions, printed
// as `failed <id>` on stdout), to see replayed jobs die again.
const FAIL = args.fail === 'true';
const { mod: B, version } = L.loadBullmq(args.bullmq);
const IDLE_MS = L.intArg(args, 'until-idle-ms', 1);
const COUNT = L.intArg(args, 'count', 0); // 0 = no limit
const CONC = L.intArg(args, 'concurrency', 1);

async function main() {
  L.setPhase('connecting');
  const active = new Set(); // ids whose processor is running or finishing
  let started = 0;
  let completed = 0;
  let lastActivity = Date.now();
  let pausedForCount = false;
  const worker = L.track(new B.Worker(args.queue, async (job) => {
    active.add(String(job.id));
    started++;
    lastActivity = Date.now();
    // Stop fetching once enough jobs have been taken, so that finishing the
    // N-th job does not pull an (N+1)-th one into active.
    if (COUNT > 0 && started >= COUNT && !pausedForCount) {
      pausedForCount = true;
      worker.pause(true).catch(() => {});
    }
    if (FAIL) throw new Error(`still broken (job ${job.id})`);
    return { ok: true, by: 'bullwatch-tests/worker.js' };
  }, {
    connection: L.connectionFromUrl(args.redis),
    prefix: args.prefix,
    concurrency: CONC,
  }));

  let tick;
  let finish;
  const done = new Promise((resolve) => {
    finish = (why) => {
      clearInterval(tick);
      resolve(why);
    };
  });
  if (FAIL) {
    worker.on('failed', (job) => {
      if (!job) return;
      active.delete(String(job.id));
      completed++;
      lastActivity = Date.now();
      process.stdout.write(`failed ${job.id}\n`);
      if (COUNT > 0 && completed >= COUNT) finish(`failed ${completed} job(s)`);
    });
  }
  worker.on('completed', (job) => {
    active.delete(String(job.id));
    completed++;
    lastActivity = Date.now();
    process.stdout.write(`completed ${job.id}\n`);
    if (COUNT > 0 && completed >= COUNT) finish('count');
  });
  worker.on('failed', (job, err) => {
    if (job) active.delete(String(job.id));
    lastActivity = Date.now();
    process.stderr.write(`failed ${job ? job.id : '?'}: ${err ? err.message : ''}\n`);
    if (pausedForCount && completed < COUNT) {
      // A taken job did not complete: keep fetching.
      started = completed + active.size;
      pausedForCount = false;
      worker.resume();
    }
  });
  tick = setInterval(() => {
    if (active.size === 0 && Date.now() - lastActivity >= IDLE_MS) finish('idle');
  }, 25);

  await worker.waitUntilReady();
  lastActivity = Date.now();
  L.setPhase('processing');
  const why = await done;
  process.stderr.write(`worker.js (bullmq ${version}): exiting (${why}) after ${completed} completion(s)\n`);
}

L.run(main)(args);
