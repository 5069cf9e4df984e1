#!/usr/bin/env node
'use strict';
// Hostile jobs through real BullMQ, for tests/it/t_hostile.sh. Queue `hq`:
// each job is added by a Queue and failed by a Worker; names, data and
// failure reasons carry terminal escape sequences (OSC 0 title, OSC 52
// clipboard, CSI clear), bidi controls, C1 controls and a 5 MB payload.
// Job data that no Node client writes (invalid UTF-8, NaN/Infinity as
// Python's json.dumps writes them, a BOM, trailing bytes, text that is not
// JSON) is written into the job hash by the processor before it throws, the
// way a non-Node BullMQ client's job looks to the agent. Every secret value
// contains "LEAK" (the test greps the store's files for it).
//   hostile.js --redis URL --bullmq 6 --out FILE     writes {key: jobId}
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, { out: undefined, bullmq: '6' }));
const { mod: B, version } = L.loadBullmq(args.bullmq);

const ESC = '\x1b';
const SPECS = {
  esc: {
    name: `esc${ESC}]0;pwned-title${ESC}\\name`,
    data: { note: `${ESC}]52;c;cHduZWQ=\x07 ${ESC}[2J${ESC}[31mred`, password: 'pw-LEAK-1' },
    reason: `reason ${ESC}]0;pwned-title\x07 ${ESC}]52;c;Y2xpcA==\x07 ${ESC}[2J${ESC}[31mred \u009b2J`,
  },
  bidi: {
    name: 'invoice\u202Egnp.exe',
    data: { file: 'abc\u2066def\u2069 \u200e\u200f\u061c \u202a\u202b\u202c\u202d', 'X-Token': 'tk-LEAK-2' },
    reason: 'bidi \u202Edesrever\u202C and \u2067isolate\u2069 \u200f',
  },
  badutf8: {
    name: 'badutf8',
    raw: Buffer.concat([Buffer.from('{"api_token":"tk-LEAK-3","blob":"'),
      Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xc2, 0x9b, 0x1b]), Buffer.from('"}')]),
    rawName: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xc2, 0x9b, 0x1b, 0x5b, 0x32, 0x4a]),
    reason: 'invalid utf-8 in data and name',
  },
  nan: {
    name: 'python-client',
    raw: Buffer.from('{"score": NaN, "hi": Infinity, "lo": -Infinity, "DB_Password": "pw-LEAK-4", "ok": 1}'),
    reason: 'NaN data',
  },
  bom: {
    name: 'bom-trailing',
    raw: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"Password":"pw-LEAK-5","n":1}\n'),
      Buffer.from([0]), Buffer.from('trailing bytes, token=tk-LEAK-6')]),
    reason: 'BOM and trailing bytes',
  },
  unreadable: {
    name: 'form-encoded',
    raw: Buffer.from('user=bob&password=pw-LEAK-7&x=1'),
    reason: 'not JSON at all',
  },
  longkey: {
    name: 'long-key',
    data: { ['k'.repeat(300) + '_SECRET_value']: 'pw-LEAK-8', [`pass\tword`]: 'ok', apiToken: 'tk-LEAK-9' },
    reason: 'a key of 313 bytes',
  },
  big: {
    name: 'big',
    data: { blob: 'A'.repeat(5 * 1024 * 1024) + `${ESC}]0;big-title\x07`, token: 'tk-LEAK-10' },
    reason: `big ${ESC}[2J`,
  },
};

async function main() {
  const c = () => L.connectionFromUrl(args.redis);
  const raw = L.track(L.rawClient(args.redis));
  const queue = L.track(new B.Queue('hq', { connection: c(), prefix: args.prefix }));
  await queue.waitUntilReady();
  const ids = {};
  for (const [key, s] of Object.entries(SPECS)) {
    const job = await queue.add(s.name, s.data || { placeholder: key, kind: key }, { attempts: 1 });
    ids[key] = String(job.id);
  }
  const byId = {};
  for (const [key, id] of Object.entries(ids)) byId[id] = SPECS[key];
  const w = L.track(new B.Worker('hq', async (job) => {
    const s = byId[String(job.id)];
    const k = `${args.prefix}:hq:${job.id}`;
    if (s.raw) await raw.hset(k, 'data', s.raw);
    if (s.rawName) await raw.hset(k, 'name', s.rawName);
    throw new Error(s.reason);
  }, { connection: c(), prefix: args.prefix, concurrency: 1 }));
  await w.waitUntilReady();
  let counts;
  const n = Object.keys(SPECS).length;
  await L.waitFor(async () => {
    counts = await queue.getJobCounts();
    return counts.failed === n;
  }, { timeoutMs: 60000, what: 'every hostile job to die', describe: () => JSON.stringify(counts) });
  await w.close();
  L.writeJson(args.out, ids);
  console.log(`hostile bullmq ${version}: ${n} dead in hq`);
}
L.run(main)(args);
