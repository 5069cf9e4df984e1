#!/usr/bin/env node
'use strict';
// An alert storm with real BullMQ: --queues N queues (--name-prefix + i)
// each get one job that a Worker fails for good (attempts 1), one queue
// every --every-ms, so the deaths (and the firings of a rule on them)
// spread over N x every-ms. Prints {"queues":[names]} to --out when every
// job is dead.
//   storm.js --redis URL --bullmq 5|6 --queues N --every-ms MS --out FILE
//            [--name-prefix storm]
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, {
  queues: '20', 'every-ms': '100', out: undefined, 'name-prefix': 'storm',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const N = L.intArg(args, 'queues', 1);
const EVERY = L.intArg(args, 'every-ms', 0);

async function main() {
  const c = L.connectionFromUrl(args.redis);
  const names = [];
  for (let i = 0; i < N; i++) names.push(`${args['name-prefix']}${i}`);
  const queues = names.map((n) => L.track(new B.Queue(n, { connection: c, prefix: args.prefix })));
  const workers = names.map((n) => L.track(new B.Worker(n, async () => {
    throw new Error('storm');
  }, { connection: c, prefix: args.prefix })));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  for (let i = 0; i < N; i++) {
    await queues[i].add('doomed', { i }, { attempts: 1 });
    await L.sleep(EVERY);
  }
  await L.waitFor(async () => {
    const c2 = await Promise.all(queues.map((q) => q.getJobCounts('failed')));
    return c2.every((x) => x.failed >= 1);
  }, { timeoutMs: 60000, what: 'every storm job to die' });
  await Promise.all(workers.map((w) => w.close()));
  L.writeJson(args.out, { bullmq: version, queues: names });
  console.log(`storm bullmq ${version}: ${N} queues, one dead job each`);
}
L.run(main)(args);
