#!/usr/bin/env node
'use strict';
// Kills the agent's stream link (the client named bullwatch:stream in CLIENT
// LIST) --kills times: each time the link (re)appears, it is killed with
// CLIENT KILL ID a random --min-ms..--max-ms later. Just before each kill the
// end of every --queues stream is taken (XINFO STREAM last-generated-id);
// just after, the agent's committed cursors are read from --db (sqlite3
// CLI). A kill is "behind" when some cursor is older than its stream's end:
// entries that existed at the kill were not committed yet (a window was open
// or about to be). One JSON line per kill goes to --log; a summary to stdout.
//   linkkill.js --redis URL --db FILE --queues a,b --log FILE
//               [--kills 8] [--min-ms 10] [--max-ms 60] [--timeout 30] [--ready FILE]
// --ready: written once connected, so the agent can be started after it.
const { execFileSync } = require('child_process');
const fs = require('fs');
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, {
  bullmq: '6', db: undefined, queues: undefined, log: undefined, ready: '', kills: '8', 'min-ms': '10', 'max-ms': '60',
}));
const QN = args.queues.split(',');
const K = L.intArg(args, 'kills', 1);
const MIN = L.intArg(args, 'min-ms', 0);
const MAX = L.intArg(args, 'max-ms', MIN);

const idLess = (a, b) => {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am < bm || (am === bm && as < bs);
};

async function streamLink(r) {
  const list = await r.client('LIST');
  const line = list.split('\n').find((l) => / name=bullwatch:stream /.test(l));
  const m = line && line.match(/^id=(\d+) /);
  return m ? m[1] : null;
}

async function main() {
  const r = L.track(L.rawClient(args.redis));
  await r.ping();
  if (args.ready) fs.writeFileSync(args.ready, 'ready\n');
  let prev = null;
  let kills = 0;
  let behind = 0;
  const deadline = Date.now() + Number(args.timeout) * 1000 - 2000;
  while (kills < K && Date.now() < deadline) {
    const id = await streamLink(r);
    if (!id || id === prev) { await L.sleep(2); continue; }
    prev = id;
    await L.sleep(MIN + Math.floor(Math.random() * (MAX - MIN + 1)));
    const ends = {};
    for (const q of QN) {
      const len = await r.xlen(`${args.prefix}:${q}:events`);
      ends[q] = len ? (await r.xrevrange(`${args.prefix}:${q}:events`, '+', '-', 'COUNT', 1))[0][0] : '0-0';
    }
    const killed = await r.client('KILL', 'ID', id);
    if (killed !== 1) continue;
    kills++;
    let cursors = {};
    try {
      const out = execFileSync('sqlite3', [args.db, 'SELECT queue, stream_id FROM cursors'], { encoding: 'utf8' });
      for (const l of out.split('\n').filter(Boolean)) { const [q, c] = l.split('|'); cursors[q] = c; }
    } catch (e) { cursors = {}; }
    const b = QN.some((q) => idLess(cursors[q] || '0-0', ends[q]));
    if (b) behind++;
    fs.appendFileSync(args.log, JSON.stringify({ at: Date.now(), id, behind: b, ends, cursors }) + '\n');
  }
  console.log(`linkkill: ${kills} kill(s), ${behind} while the agent was behind`);
}
L.run(main)(args);
