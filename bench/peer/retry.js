#!/usr/bin/env node
'use strict';
// BullMQ's own bulk operations on the same preloaded dead jobs, timed:
//   retry.js --redis URL --queue Q --op retry|clean
// retry: Queue.retryJobs({state: 'failed'}) until none is left;
// clean: Queue.clean(0, 0, 'failed'). Prints one JSON line.
const { Queue } = require('bullmq');
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const url = new URL(args.redis);
const timer = setTimeout(() => { console.error('retry.js: timed out'); process.exit(1); }, 600000);
(async () => {
  const q = new Queue(args.queue, { connection: { host: url.hostname, port: Number(url.port) }, skipMetasUpdate: true });
  await q.waitUntilReady();
  const before = await q.getFailedCount();
  const t = process.hrtime.bigint();
  if (args.op === 'retry') await q.retryJobs({ state: 'failed', count: 1000 });
  else await q.clean(0, 0, 'failed');
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const after = await q.getFailedCount();
  console.log(JSON.stringify({ op: args.op, jobs: before - after, seconds: +secs.toFixed(3), left: after }));
  clearTimeout(timer);
  await q.close();
})().catch((e) => { console.error(e); process.exit(1); });
