#!/usr/bin/env node
'use strict';
// The pattern users run today, measured on the same stream as bullwatch:
// BullMQ's own QueueEvents (reading from lastEventId 0-0) and one
// better-sqlite3 row per failure, with the job fetched by Job.fromId as an
// app does. Stops after --expect-events events; prints one JSON line.
//   peer.js --redis URL --queue NAME --db FILE --expect-events N [--timeout 600]
const { QueueEvents, Queue, Job } = require('bullmq');
const Database = require('better-sqlite3');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const url = new URL(args.redis || 'redis://127.0.0.1:6379/0');
const connection = { host: url.hostname, port: Number(url.port || 6379), db: Number((url.pathname || '/0').slice(1) || 0),
  maxRetriesPerRequest: null };
const expect = Number(args['expect-events']);
const deadline = setTimeout(() => { console.error('peer: timed out'); process.exit(1); }, Number(args.timeout || 600) * 1000);

const KNOWN = new Set(['added', 'waiting', 'waiting-children', 'delayed', 'active', 'progress', 'completed',
  'failed', 'retries-exhausted', 'stalled', 'removed', 'drained', 'paused', 'resumed', 'duplicated',
  'deduplicated', 'debounced', 'cleaned']);

async function main() {
  const db = new Database(args.db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS failures (id INTEGER PRIMARY KEY, queue TEXT, job_id TEXT,
    stream_id TEXT, event_time INTEGER, failed_reason TEXT, name TEXT, data TEXT, opts TEXT,
    stacktrace TEXT, attempts_made INTEGER, finished_on INTEGER)`);
  const ins = db.prepare(`INSERT INTO failures (queue, job_id, stream_id, event_time, failed_reason,
    name, data, opts, stacktrace, attempts_made, finished_on) VALUES (?,?,?,?,?,?,?,?,?,?,?)`);
  const queue = new Queue(args.queue, { connection });
  await queue.waitUntilReady();
  const qe = new QueueEvents(args.queue, { connection, lastEventId: '0-0', autorun: false });
  let events = 0, rows = 0, t0 = 0, tEnd = 0;
  const pending = new Set();
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  const maybeDone = () => { if (events >= expect && pending.size === 0) resolveDone(); };
  const emit = qe.emit.bind(qe);
  qe.emit = (name, ...rest) => {
    if (KNOWN.has(name)) {
      if (!t0) t0 = process.hrtime.bigint();
      events++;
      tEnd = process.hrtime.bigint();
    }
    const r = emit(name, ...rest);
    if (KNOWN.has(name)) maybeDone();
    return r;
  };
  qe.on('failed', ({ jobId, failedReason }, id) => {
    const p = (async () => {
      const job = await Job.fromId(queue, jobId);
      ins.run(args.queue, jobId, id, Number(id.split('-')[0]), failedReason,
        job ? job.name : null, job ? JSON.stringify(job.data) : null, job ? JSON.stringify(job.opts) : null,
        job ? JSON.stringify(job.stacktrace) : null, job ? job.attemptsMade : null, job ? job.finishedOn : null);
      rows++;
      tEnd = process.hrtime.bigint();
    })();
    pending.add(p);
    p.finally(() => { pending.delete(p); maybeDone(); });
  });
  await qe.waitUntilReady();
  qe.run();
  await done;
  const secs = Number(tEnd - t0) / 1e9;
  const ru = process.resourceUsage();
  console.log(JSON.stringify({ events, failures: rows, seconds: +secs.toFixed(3),
    events_per_s: Math.round(events / secs), rows_per_s: Math.round(rows / secs),
    peak_rss_mb: +(ru.maxRSS / 1024).toFixed(1), cpu_s: +((ru.userCPUTime + ru.systemCPUTime) / 1e6).toFixed(3) }));
  clearTimeout(deadline);
  await qe.close();
  await queue.close();
  db.close();
}
main().catch((e) => { console.error(`peer: ${e.stack || e}`); process.exit(1); });
