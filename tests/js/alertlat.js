#!/usr/bin/env node
'use strict';
// Benchmark: dead job in Redis -> webhook received. Serves a webhook
// receiver on 127.0.0.1:--port, creates --queues queues (their meta keys),
// waits for --go-file (the bench starts the agent and waits for it to
// discover them), then kills one job per queue, --gap-ms apart, the way
// BullMQ's moveToFinished does (hash fields, failed zset, `failed` event).
// The latency of each is the receipt time minus the `failed` entry's id
// time (both this host's clock). Prints one JSON line; bounded in count
// and time (--timeout-s).
//   alertlat.js --redis URL --port P --queues 1000 --go-file F [--gap-ms 5]
const http = require('http');
const fs = require('fs');
const L = require('./lib');
const IORedis = require('ioredis');
const args = L.parseArgs({ redis: undefined, port: undefined, queues: '1000', 'go-file': undefined,
  'gap-ms': '5', 'timeout-s': '120' });
const N = L.intArg(args, 'queues', 1);
const got = new Map();
const sent = new Map();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    try {
      const b = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (b.type === 'alert.firing' && !got.has(b.data.queue)) got.set(b.data.queue, at);
    } catch (e) { /* not ours */ }
    res.writeHead(200);
    res.end('ok');
  });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];

(async () => {
  const deadline = Date.now() + Number(args['timeout-s']) * 1000;
  await new Promise((r) => server.listen(Number(args.port), '127.0.0.1', r));
  const u = new URL(args.redis);
  const r = new IORedis({ host: u.hostname, port: Number(u.port) });
  for (let i = 0; i < N; i++)
    await r.hset(`bull:lat${i}:meta`, 'opts.maxLenEvents', 10000, 'version', 'bullmq:5.71.0');
  while (!fs.existsSync(args['go-file'])) {
    if (Date.now() > deadline) throw new Error('no go file');
    await sleep(50);
  }
  for (let i = 0; i < N; i++) {
    const q = `lat${i}`, k = `bull:${q}`;
    const now = Date.now();
    const res = await r.multi()
      .hset(`${k}:1`, 'name', 'job', 'data', '{}', 'opts', '{"attempts":1}', 'timestamp', now,
        'atm', 1, 'failedReason', 'boom', 'finishedOn', now, 'processedOn', now)
      .zadd(`${k}:failed`, now, '1')
      .xadd(`${k}:events`, '*', 'event', 'failed', 'jobId', '1', 'failedReason', 'boom', 'prev', 'active')
      .exec();
    sent.set(q, Number(String(res[2][1]).split('-')[0]));
    await sleep(Number(args['gap-ms']));
  }
  while (got.size < N && Date.now() < deadline) await sleep(20);
  const lat = [...sent].filter(([q]) => got.has(q)).map(([q, t]) => got.get(q) - t).sort((a, b) => a - b);
  console.log(JSON.stringify({ events: N, received: lat.length, p50_ms: lat.length ? pct(lat, 0.5) : null,
    p99_ms: lat.length ? pct(lat, 0.99) : null, max_ms: lat.length ? lat[lat.length - 1] : null }));
  r.disconnect();
  server.close();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
