#!/usr/bin/env node
'use strict';
// Dead jobs in a Redis Cluster with real BullMQ over an ioredis Cluster
// connection: --jobs N jobs are added to each of --queues (comma-separated)
// under --prefix and failed by a Worker (attempts 1), then every queue's
// getJobCounts() and its failed job ids are written to --out.
//   clusterjobs.js --seeds h:p,h:p --bullmq 5|6 --prefix P --queues a,b --jobs N --out F
//   clusterjobs.js --seeds ... --prefix P --queues a,b --counts-only true --out F
//   (--url rediss+cluster://h:p,... instead of --seeds: over TLS, see lib.js)
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, {
  seeds: '', url: '', queues: undefined, out: undefined, jobs: '5', 'counts-only': 'false',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const N = L.intArg(args, 'jobs', 0);

// one ioredis Cluster per BullMQ object (lib.js tracks and closes each)
const cluster = () => L.connectionFromUrl(args.url || `redis+cluster://${args.seeds}`);

async function main() {
  const names = args.queues.split(',');
  const out = { bullmq: version, prefix: args.prefix, queues: {} };
  for (const name of names) {
    const queue = L.track(new B.Queue(name, { connection: cluster(), prefix: args.prefix }));
    await queue.waitUntilReady();
    if (args['counts-only'] !== 'true' && N > 0) {
      const before = (await queue.getJobCounts()).failed;
      const specs = [];
      for (let i = 0; i < N; i++) specs.push({ name: 'doomed', data: { i }, opts: { attempts: 1 } });
      await queue.addBulk(specs);
      const w = L.track(new B.Worker(name, async (job) => {
        throw new Error(`cluster boom ${name} ${job.data.i}`);
      }, { connection: cluster(), prefix: args.prefix, concurrency: 10 }));
      await w.waitUntilReady();
      let counts;
      await L.waitFor(async () => {
        counts = await queue.getJobCounts();
        return counts.failed === before + N;
      }, { timeoutMs: 60000, what: `every job of ${name} to die`, describe: () => JSON.stringify(counts) });
      await w.close();
    }
    const failed = await queue.getFailed(0, -1);
    out.queues[name] = { counts: await queue.getJobCounts(), dead: failed.map((j) => String(j.id)) };
  }
  L.writeJson(args.out, out);
  console.log(`clusterjobs bullmq ${version}: ${names.length} queue(s) under ${args.prefix}`);
}
L.run(main)(args);
