#!/usr/bin/env node
'use strict';
// Long-running demo traffic for bullwatch: queues `emails`, `payments`,
// `thumbnails`, a producer adding a steady trickle (~--rate jobs/s in total)
// and real Workers. Most jobs succeed after 50-400 ms, some fail once and are
// retried with backoff, some die after their attempts are exhausted, a few
// throw UnrecoverableError. A dead job that is later retried (e.g. by
// bullwatch) succeeds: the processor fails a job only as many times as planned,
// counting earlier failures from the job's stacktrace.
//
// Runs until SIGINT/SIGTERM (clean shutdown, exit 0), or for --duration SEC
// (0 = unlimited; then also a clean exit 0). --timeout (default 3600) is the
// hard deadline: error on stderr, exit 1.
//
// usage: demo.js --redis URL --bullmq 5|6 [--prefix bull] [--rate 7]
//        [--duration 0] [--status-every 10] [--concurrency 5] [--timeout 3600]

const L = require('./lib');

const args = L.parseArgs(Object.assign({}, L.COMMON, {
  timeout: '3600',
  rate: '7',
  duration: '0',
  'status-every': '10',
  concurrency: '5',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const { Queue, Worker, UnrecoverableError } = B;
const RATE = L.numArg(args, 'rate', 0.01);
const DURATION = L.numArg(args, 'duration', 0);
const STATUS_EVERY = L.numArg(args, 'status-every', 0);
const CONC = L.intArg(args, 'concurrency', 1);
const QNAMES = ['emails', 'payments', 'thumbnails'];

const rnd = Math.random;
const rint = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (a) => a[Math.floor(rnd() * a.length)];
const hex = (n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
const USERS = ['ana', 'bob', 'chen', 'dara', 'eli', 'fatima', 'gus', 'hiro', 'ines', 'jon'];

// Per queue: job factory + realistic error messages.
const KIND = {
  emails: {
    job: () => {
      const name = pick(['welcome', 'password-reset', 'receipt', 'receipt', 'digest']);
      const opts = {};
      if (name === 'digest') opts.delay = rint(1000, 5000);
      return { name, data: { to: `${pick(USERS)}${rint(1, 999)}@example.com`, template: name }, opts };
    },
    transient: () => pick([
      `SMTP 421 timeout after ${rint(2000, 9000)}ms`,
      `SMTP 451 temporary local problem (queue id ${hex(10).toUpperCase()})`,
      `ECONNREFUSED 10.0.3.${rint(2, 40)}:587`,
    ]),
    fatal: () => pick([
      'SMTP 550 mailbox unavailable',
      `invalid recipient address "${pick(USERS)}@@example.com"`,
    ]),
  },
  payments: {
    job: () => {
      const name = pick(['charge', 'charge', 'charge', 'refund', 'payout']);
      const opts = {};
      if (name === 'refund' || rnd() < 0.1) opts.priority = rint(1, 3);
      return { name, data: { account: uuid(), amount_cents: rint(100, 250000), currency: pick(['EUR', 'USD', 'GBP']) }, opts };
    },
    transient: () => pick([
      `card declined: insufficient funds (txn ${rint(1000, 99999)})`,
      `gateway timeout after ${rint(3000, 30000)}ms (txn ${rint(1000, 99999)})`,
      `ECONNREFUSED 10.0.3.${rint(2, 40)}:6379`,
    ]),
    fatal: () => pick([
      `fraud check rejected txn ${rint(1000, 99999)}`,
      `account ${uuid()} is closed`,
    ]),
  },
  thumbnails: {
    job: () => {
      const name = 'resize';
      return { name, data: { key: `uploads/${hex(2)}/${uuid()}.jpg`, sizes: [64, 256, 1024] }, opts: {} };
    },
    transient: () => pick([
      `ECONNREFUSED 10.0.3.${rint(2, 40)}:6379`,
      `S3 503 SlowDown after ${rint(100, 5000)}ms`,
      `image decode failed: truncated JPEG (${rint(1000, 900000)} bytes)`,
    ]),
    fatal: () => pick([
      `unsupported format: image/${pick(['heic', 'tiff', 'x-icon'])}`,
      `object uploads/${hex(2)}/${uuid()}.jpg not found`,
    ]),
  },
};

function makeJob(qname) {
  const k = KIND[qname];
  const { name, data, opts } = k.job();
  const r = rnd();
  data.ms = rint(50, 400);
  if (r < 0.75) {
    data.plan = 'ok';
    opts.attempts = 3;
    opts.backoff = { type: 'exponential', delay: 500 };
  } else if (r < 0.87) {
    data.plan = 'flaky'; // fails once, succeeds on retry
    data.err = k.transient();
    opts.attempts = 3;
    opts.backoff = { type: 'fixed', delay: rint(300, 1500) };
  } else if (r < 0.97) {
    data.plan = 'die'; // fails every attempt
    data.err = k.transient();
    opts.attempts = pick([2, 3]);
    if (rnd() < 0.7) opts.backoff = { type: 'fixed', delay: rint(200, 1000) };
  } else {
    data.plan = 'fatal'; // UnrecoverableError on the first attempt
    data.err = k.fatal();
    opts.attempts = 5;
  }
  opts.removeOnComplete = { count: 5000 };
  opts.removeOnFail = { count: 20000 };
  return { name, data, opts };
}

async function processor(job) {
  const d = job.data;
  await L.sleep(d.ms || 0);
  // Failures so far, including earlier "lives" of a replayed job.
  const failures = Array.isArray(job.stacktrace) ? job.stacktrace.length : 0;
  switch (d.plan) {
    case 'flaky':
      if (job.attemptsMade < 1 && failures < 1) throw new Error(d.err);
      break;
    case 'die':
      if (failures < (job.opts.attempts || 1)) throw new Error(d.err);
      break;
    case 'fatal':
      if (failures < 1) throw new UnrecoverableError(d.err);
      break;
    default:
      break;
  }
  return { ok: true, took_ms: d.ms };
}

async function main() {
  const prefix = args.prefix;
  L.setPhase('connecting');
  const queues = {};
  for (const q of QNAMES) queues[q] = L.track(new Queue(q, { connection: L.connectionFromUrl(args.redis), prefix }));
  const stats = { added: 0, completed: 0, retried: 0, dead: 0 };
  for (const q of QNAMES) {
    const w = L.track(new Worker(q, processor, { connection: L.connectionFromUrl(args.redis), prefix, concurrency: CONC }));
    w.on('completed', () => { stats.completed++; });
    w.on('failed', (job, err) => {
      if (job && L.isFinalFailure(job, err)) stats.dead++;
      else stats.retried++;
    });
  }
  await Promise.all(QNAMES.map((q) => queues[q].waitUntilReady()));
  L.setPhase('running');

  let stopping = false;
  let producerTimer = null;
  let statusTimer = null;
  let durationTimer = null;
  let resolveStop;
  const stopped = new Promise((r) => { resolveStop = r; });
  const stop = (why) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(producerTimer);
    clearInterval(statusTimer);
    clearTimeout(durationTimer);
    resolveStop(why);
  };

  const produce = async () => {
    if (stopping) return;
    const q = pick(QNAMES);
    const { name, data, opts } = makeJob(q);
    try {
      await queues[q].add(name, data, opts);
      stats.added++;
    } catch (e) {
      if (!stopping) process.stderr.write(`demo: add failed: ${e.message}\n`);
    }
    if (!stopping) producerTimer = setTimeout(produce, (1000 / RATE) * (0.5 + rnd()));
  };
  produce();

  if (STATUS_EVERY > 0) {
    statusTimer = setInterval(async () => {
      try {
        const parts = [];
        for (const q of QNAMES) {
          const c = await queues[q].getJobCounts();
          parts.push(`${q}: wait ${(c.waiting || 0) + (c.paused || 0)} prio ${c.prioritized} act ${c.active} dly ${c.delayed} ok ${c.completed} dead ${c.failed}`);
        }
        console.log(`[${new Date().toISOString()}] added ${stats.added} completed ${stats.completed} retries ${stats.retried} dead ${stats.dead} | ${parts.join(' | ')}`);
      } catch (e) { /* shutting down */ }
    }, STATUS_EVERY * 1000);
  }
  if (DURATION > 0) durationTimer = setTimeout(() => stop('duration'), DURATION * 1000);

  let signals = 0;
  const onSignal = (sig) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`demo: second ${sig}, exiting immediately\n`);
      process.exit(1);
    }
    stop(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  console.log(`demo (bullmq ${version}) running on ${args.redis} prefix ${prefix}: queues ${QNAMES.join(', ')}, ~${RATE} jobs/s; Ctrl-C to stop`);
  const why = await stopped;
  L.setPhase(`shutting down (${why})`);
  const t = Date.now();
  const ok = await L.closeAll(4000);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (!ok) throw new Error('could not close workers/queues within 4 s');
  console.log(`demo stopped (${why}) in ${Date.now() - t} ms: added ${stats.added}, completed ${stats.completed}, retries ${stats.retried}, dead ${stats.dead}`);
}

L.run(main)(args);
