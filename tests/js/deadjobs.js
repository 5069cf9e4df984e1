#!/usr/bin/env node
'use strict';
// Makes dead jobs with real BullMQ: --jobs N jobs (every --prio-every-th one
// with priority 5) are added to --queue and failed by a Worker (attempts 2,
// no backoff, so each dies after a retry), then the worker is closed.
// --pause true pauses the queue afterwards. Prints {"dead":[ids],
// "last_failed_at":ms} to --out.
//   deadjobs.js --redis URL --bullmq 5|6 --queue Q --jobs N --out FILE
//               [--prio-every 0] [--pause false] [--reason "boom"]
//               [--worker-name NAME]   (the Worker's name option: processedBy)
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, {
  queue: undefined, out: undefined, jobs: '10', 'prio-every': '0', pause: 'false', reason: 'boom',
  'worker-name': '',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const N = L.intArg(args, 'jobs', 1);
const PE = L.intArg(args, 'prio-every', 0);

async function main() {
  const c = () => L.connectionFromUrl(args.redis);
  const queue = L.track(new B.Queue(args.queue, { connection: c(), prefix: args.prefix }));
  await queue.waitUntilReady();
  const before = (await queue.getJobCounts()).failed;
  const specs = [];
  for (let i = 0; i < N; i++) {
    const opts = { attempts: 2 };
    if (PE > 0 && i % PE === 0) opts.priority = 5;
    specs.push({ name: 'doomed', data: { i }, opts });
  }
  for (let i = 0; i < specs.length; i += 500) await queue.addBulk(specs.slice(i, i + 500));
  const w = L.track(new B.Worker(args.queue, async (job) => {
    throw new Error(`${args.reason} ${job.data.i}`);
  }, Object.assign({ connection: c(), prefix: args.prefix, concurrency: 50 },
    args['worker-name'] ? { name: args['worker-name'] } : {})));
  await w.waitUntilReady();
  let counts;
  await L.waitFor(async () => {
    counts = await queue.getJobCounts();
    return counts.failed === before + N;
  }, { timeoutMs: 60000, what: 'every job to die', describe: () => JSON.stringify(counts) });
  await w.close();
  if (args.pause === 'true') await queue.pause();
  const failed = await queue.getFailed(0, -1);
  // when the last one died (ms since the epoch): deadlines measured from the failure
  const lastFailedAt = failed.reduce((m, j) => Math.max(m, j.finishedOn || 0), 0);
  L.writeJson(args.out, { bullmq: version, queue: args.queue, dead: failed.map((j) => String(j.id)),
    last_failed_at: lastFailedAt });
  console.log(`deadjobs bullmq ${version}: ${N} dead in ${args.queue}${args.pause === 'true' ? ' (paused)' : ''}`);
}
L.run(main)(args);
