#!/usr/bin/env node
'use strict';
// The dead-letter-queue pattern of BullMQ guides: a Worker of --queue whose
// jobs die (attempts 1) copies each dead job into the --dlq queue as a
// wrapper {originalQueue, originalJobId, jobName, jobData, failedReason,
// failedAt}. Writes {"wrapped":[original ids]} to --out.
//   dlqwrap.js --redis URL --bullmq 5|6 --queue Q --dlq DLQ --jobs N --out FILE
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, { queue: undefined, dlq: undefined, jobs: '10', out: undefined }));
const { mod: B } = L.loadBullmq(args.bullmq);
const N = L.intArg(args, 'jobs', 1);

async function main() {
  const c = () => L.connectionFromUrl(args.redis);
  const queue = L.track(new B.Queue(args.queue, { connection: c(), prefix: args.prefix }));
  const dlq = L.track(new B.Queue(args.dlq, { connection: c(), prefix: args.prefix }));
  await queue.waitUntilReady();
  await dlq.waitUntilReady();
  // the dead-letter queue may hold other queues' wrappers already: N more
  const before = await dlq.getWaitingCount();
  const wrapped = [];
  const w = L.track(new B.Worker(args.queue, async (job) => {
    throw new Error(`payment provider down (order ${job.data.order})`);
  }, { connection: c(), prefix: args.prefix, concurrency: 10 }));
  w.on('failed', async (job, err) => {
    await dlq.add('dead-letter', {
      originalQueue: args.queue, originalJobId: job.id, jobName: job.name, jobData: job.data,
      failedReason: err.message, failedAt: Date.now(),
    }, { jobId: `dlq-${args.queue}-${job.id}` });
    wrapped.push(String(job.id));
  });
  await w.waitUntilReady();
  for (let i = 0; i < N; i++) await queue.add('charge', { order: 1000 + i, amount: 5 * i }, { attempts: 1 });
  await L.waitFor(async () => (await dlq.getWaitingCount()) === before + N && wrapped.length === N,
    { timeoutMs: 30000, what: 'every wrapper' });
  await w.close();
  L.writeJson(args.out, { wrapped });
  console.log(`dlqwrap: ${N} dead jobs of ${args.queue} wrapped into ${args.dlq}`);
}
L.run(main)(args);
