#!/usr/bin/env node
'use strict';
// Writes hostile input for the agent into queue `bad` (raw XADD/HSET, no
// BullMQ): entries missing fields, unknown events, binary and escape
// sequences, job hashes with non-JSON data, a 5 MB payload, secrets to
// redact, a job key of the wrong type; then one ordinary failure `last`.
// Also makes queue `weird` whose events key is not a stream.
// usage: badinput.js --redis URL --out FILE   (writes {name: streamId})
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, { out: undefined, bullmq: '6' }));

async function main() {
  const r = L.track(L.rawClient(args.redis));
  const P = 'bull:bad:';
  const ids = {};
  const now = Date.now();
  const job = async (id, fields) => {
    const flat = [];
    for (const [k, v] of Object.entries(fields)) flat.push(k, v);
    await r.hset(Buffer.concat([Buffer.from(P), Buffer.isBuffer(id) ? id : Buffer.from(id)]), ...flat);
    await r.zadd(P + 'failed', now, id);
  };
  const base = (data) => ({ name: 'bad-job', data, opts: '{"attempts":2}', atm: '2', ats: '2',
    timestamp: String(now - 1000), processedOn: String(now - 10), finishedOn: String(now),
    failedReason: 'boom', stacktrace: '["Error: boom\\n    at x (y.js:1:1)"]' });
  const xadd = async (name, ...fv) => { ids[name] = await r.xadd(P + 'events', '*', ...fv); };

  await r.hset(P + 'meta', 'opts.maxLenEvents', '10000', 'version', 'bullmq:6.7.0');
  await xadd('first', 'event', 'added', 'jobId', 'first', 'name', 'x');
  await job('nonjson', base('this is {not json'));
  await job('big', base(JSON.stringify({ blob: 'x'.repeat(5 * 1024 * 1024), n: 1 })));
  await job('secret', base(JSON.stringify({ user: 'u1', password: 'hunter2', nested: { apiSecretKey: 's3cr3t', token: 'tok-123' } })));
  await job('bin', base(Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x07])));
  await r.set(P + 'wrongtype', 'a string, not a hash');
  await xadd('no_event', 'jobId', 'x1', 'failedReason', 'no event field');
  await xadd('no_jobid', 'event', 'failed', 'failedReason', 'failed without jobId', 'prev', 'active');
  await xadd('custom', 'event', 'my-custom-event', 'foo', 'bar');
  await xadd('empty_event', 'event', '', 'jobId', 'e1');
  await xadd('nonjson', 'event', 'failed', 'jobId', 'nonjson', 'failedReason', 'bad data', 'prev', 'active');
  await xadd('big', 'event', 'failed', 'jobId', 'big', 'failedReason', 'too big', 'prev', 'active');
  await xadd('secret', 'event', 'failed', 'jobId', 'secret', 'failedReason', 'leaky', 'prev', 'active');
  await xadd('bin', 'event', 'failed', 'jobId', 'bin', 'failedReason',
    Buffer.from('\x1b]0;pwned\x07\x1b[2J reason with NUL \x00 and \xff', 'latin1'), 'prev', 'active');
  await xadd('wrongtype', 'event', 'failed', 'jobId', 'wrongtype', 'failedReason', 'hash is a string', 'prev', 'active');
  await xadd('gone', 'event', 'failed', 'jobId', 'gone', 'failedReason', 'hash never existed', 'prev', 'active');
  await xadd('binfield', Buffer.from([0xc3, 0x28]), Buffer.from([0x00, 0x01]), 'event', 'completed', 'jobId', 'c1', 'returnvalue', '{}');
  await r.hset('bull:weird:meta', 'opts.maxLenEvents', '10000');
  await r.set('bull:weird:events', 'not a stream');
  await job('last', base('{"ok":1}'));
  await xadd('last', 'event', 'failed', 'jobId', 'last', 'failedReason', 'ordinary failure after the bad input', 'prev', 'active');
  L.writeJson(args.out, ids);
  console.log(`badinput: ${Object.keys(ids).length} entries written to ${P}events`);
}
L.run(main)(args);
