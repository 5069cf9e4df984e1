#!/usr/bin/env node
'use strict';
// BullMQ's own way to read depths: Queue.getJobCounts() for N queues
// (pq0..pqN-1), all through one shared ioredis connection, timed per round.
//   poll.js --redis URL --queues N [--prefix-name pq] [--rounds 21]
const { Queue } = require('bullmq');
const IORedis = require('ioredis');
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const url = new URL(args.redis || 'redis://127.0.0.1:6379/0');
const n = Number(args.queues || 1000), rounds = Number(args.rounds || 21), pfx = args['prefix-name'] || 'pq';
const timer = setTimeout(() => { console.error('poll: timed out'); process.exit(1); }, 300000);

async function main() {
  const conn = new IORedis({ host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null });
  const queues = [];
  for (let i = 0; i < n; i++) queues.push(new Queue(`${pfx}${i}`, { connection: conn, skipMetasUpdate: true }));
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  const ms = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    await Promise.all(queues.map((q) => q.getJobCounts()));
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  console.log(JSON.stringify({ queues: n, ms_min: +ms[0].toFixed(2), ms_median: +ms[Math.floor(rounds / 2)].toFixed(2),
    peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1) }));
  clearTimeout(timer);
  await Promise.all(queues.map((q) => q.close()));
  await conn.quit();
}
main().catch((e) => { console.error(`poll: ${e.stack || e}`); process.exit(1); });
