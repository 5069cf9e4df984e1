'use strict';
// Shared helpers for the bullwatch Node.js test/demo scripts.
// CommonJS, plain node (>= 18). No dependencies besides bullmq5/bullmq6/ioredis.

const path = require('path');

// ---------------------------------------------------------------------------
// Argument parsing: `--key value`, `--key=value`, boolean `--flag`.
// spec: { key: defaultValue }. A default of `false` marks a boolean flag.
// Unknown keys are an error (catches typos in test harnesses).
// ---------------------------------------------------------------------------
function parseArgs(spec, argv = process.argv.slice(2)) {
  const out = Object.assign({}, spec);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) usage(`unexpected argument: ${a}`);
    let key = a.slice(2);
    let val;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      val = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    if (key === 'help' || key === 'h') usage(null, spec);
    if (!Object.prototype.hasOwnProperty.call(spec, key)) usage(`unknown option --${key}`, spec);
    if (spec[key] === false) {
      // boolean flag
      out[key] = val === undefined ? true : !/^(0|false|no)$/i.test(val);
      continue;
    }
    if (val === undefined) {
      if (i + 1 >= argv.length) usage(`option --${key} needs a value`, spec);
      val = argv[++i];
    }
    out[key] = val;
  }
  for (const k of Object.keys(spec)) {
    if (out[k] === undefined) usage(`option --${k} is required`, spec);
  }
  return out;
}

function usage(msg, spec) {
  const me = path.basename(process.argv[1] || 'script');
  if (msg) process.stderr.write(`${me}: ${msg}\n`);
  if (spec) {
    const parts = Object.keys(spec).map((k) =>
      spec[k] === false ? `[--${k}]` : spec[k] === undefined ? `--${k} V` : spec[k] === '' ? `[--${k} V]` : `[--${k} ${spec[k]}]`);
    process.stderr.write(`usage: ${me} ${parts.join(' ')}\n`);
  }
  process.exit(msg ? 2 : 0);
}

function intArg(args, key, min = 0) {
  const n = Number(args[key]);
  if (!Number.isInteger(n) || n < min) usage(`--${key} must be an integer >= ${min}`);
  return n;
}

function numArg(args, key, min = 0) {
  const n = Number(args[key]);
  if (!Number.isFinite(n) || n < min) usage(`--${key} must be a number >= ${min}`);
  return n;
}

// Common options shared by every script.
const COMMON = {
  redis: 'redis://127.0.0.1:6379/0',
  bullmq: undefined,
  prefix: 'bull',
  timeout: '120',
};

// ---------------------------------------------------------------------------
// BullMQ loading
// ---------------------------------------------------------------------------
function loadBullmq(v) {
  const s = String(v).trim();
  let pkg;
  if (s === '5' || s.startsWith('5.')) pkg = 'bullmq5';
  else if (s === '6' || s.startsWith('6.')) pkg = 'bullmq6';
  else usage(`--bullmq must be 5 or 6 (got ${v})`);
  const mod = require(pkg);
  const version = require(`${pkg}/package.json`).version;
  return { mod, version, major: pkg === 'bullmq5' ? 5 : 6 };
}

// ---------------------------------------------------------------------------
// Connection options from redis://[user:pass@]host:port/db (or rediss://).
// Returns a fresh plain object each time, so each BullMQ class creates (and
// on close() closes) its own ioredis connection.
// ---------------------------------------------------------------------------
function connectionFromUrl(url) {
  if (url.startsWith('redis+cluster://') || url.startsWith('rediss+cluster://')) return clusterFromUrl(url);
  let u;
  try {
    u = new URL(url);
  } catch (e) {
    usage(`bad --redis URL: ${url}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') usage(`--redis must be redis:// or rediss:// (got ${url})`);
  const opts = {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: 0,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  };
  const dbPart = u.pathname.replace(/^\//, '');
  if (dbPart !== '') {
    const db = Number(dbPart);
    if (!Number.isInteger(db) || db < 0) usage(`bad db number in --redis URL: ${url}`);
    opts.db = db;
  }
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  // rediss://: the CA (and a client certificate) from BW_TLS_CA,
  // BW_TLS_CERT and BW_TLS_KEY (files), so that every script speaks TLS
  // to a test's own server without an option of its own
  if (u.protocol === 'rediss:') opts.tls = tlsFromEnv();
  return opts;
}

function tlsFromEnv() {
  const fs = require('fs');
  const tls = {};
  if (process.env.BW_TLS_CA) tls.ca = fs.readFileSync(process.env.BW_TLS_CA);
  if (process.env.BW_TLS_CERT) tls.cert = fs.readFileSync(process.env.BW_TLS_CERT);
  if (process.env.BW_TLS_KEY) tls.key = fs.readFileSync(process.env.BW_TLS_KEY);
  return tls;
}

// redis+cluster://host:port,host:port (rediss+cluster://: over TLS, as
// rediss:// above): an ioredis Cluster (BullMQ takes the
// instance; it is tracked here because BullMQ does not close what it was given).
function clusterFromUrl(url) {
  const IORedis = require('ioredis');
  const tls = url.startsWith('rediss+');
  const nodes = url.slice(url.indexOf('://') + 3).replace(/\/.*$/, '').split(',').map((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  });
  const redisOptions = { maxRetriesPerRequest: null };
  if (tls) redisOptions.tls = tlsFromEnv();
  return track(new IORedis.Cluster(nodes, { redisOptions }));
}

// A raw ioredis client (the same single ioredis copy bullmq uses).
function rawClient(url) {
  const IORedis = require('ioredis');
  return new IORedis(Object.assign(connectionFromUrl(url), { maxRetriesPerRequest: 3, lazyConnect: false }));
}

// ---------------------------------------------------------------------------
// Closables registry + global deadline
// ---------------------------------------------------------------------------
const closables = [];
let phase = 'starting';

function track(obj) {
  closables.push(obj);
  if (obj && typeof obj.on === 'function') {
    // An unhandled 'error' event would crash the process; log instead.
    obj.on('error', (err) => {
      process.stderr.write(`[${path.basename(process.argv[1])}] ${obj.constructor && obj.constructor.name} error: ${err && err.message}\n`);
    });
  }
  return obj;
}

function setPhase(p) {
  phase = p;
}

// Close everything (workers first, then the rest), bounded by limitMs.
// Returns true when everything closed in time.
async function closeAll(limitMs = 10000) {
  const list = closables.splice(0);
  const isWorker = (o) => o && o.constructor && o.constructor.name === 'Worker';
  const closeOne = async (o) => {
    try {
      if (typeof o.close === 'function') await o.close();
      else if (typeof o.quit === 'function') await o.quit();
    } catch (e) {
      process.stderr.write(`close error: ${e && e.message}\n`);
    }
  };
  const work = (async () => {
    await Promise.all(list.filter(isWorker).map(closeOne));
    await Promise.all(list.filter((o) => !isWorker(o)).map(closeOne));
  })();
  let timer;
  const ok = await Promise.race([
    work.then(() => true),
    new Promise((r) => { timer = setTimeout(() => r(false), limitMs); }),
  ]);
  clearTimeout(timer);
  if (!ok) {
    for (const o of list) {
      try {
        if (typeof o.disconnect === 'function') o.disconnect();
      } catch (_) { /* ignore */ }
    }
  }
  return ok;
}

// Hard global deadline: print an error and exit 1. The timer is unref'd so it
// never keeps the process alive by itself. onDeadline (optional) may try a
// quick cleanup; it is bounded to 3 s.
function startDeadline(seconds, onDeadline) {
  const ms = Math.round(Number(seconds) * 1000);
  if (!Number.isFinite(ms) || ms <= 0) usage('--timeout must be a positive number of seconds');
  const t = setTimeout(async () => {
    process.stderr.write(`${path.basename(process.argv[1])}: ERROR: global deadline of ${seconds}s exceeded (phase: ${phase})\n`);
    const hard = setTimeout(() => process.exit(1), 3000);
    try {
      if (onDeadline) await onDeadline();
      else await closeAll(2500);
    } catch (_) { /* ignore */ }
    clearTimeout(hard);
    process.exit(1);
  }, ms);
  t.unref();
  return t;
}

function installCrashHandlers() {
  const die = (what) => (err) => {
    process.stderr.write(`${path.basename(process.argv[1])}: ERROR (${what}, phase: ${phase}): ${(err && err.stack) || err}\n`);
    process.exit(1);
  };
  process.on('unhandledRejection', die('unhandledRejection'));
  process.on('uncaughtException', die('uncaughtException'));
}

// Standard main() wrapper: deadline, crash handlers, closeAll at the end,
// exit code 1 on error. The process then exits by itself (no process.exit on
// success) unless something is still open, in which case we fail loudly.
function run(main, { timeout } = {}) {
  installCrashHandlers();
  return async function (args) {
    startDeadline(timeout !== undefined ? timeout : args.timeout);
    let code = 0;
    try {
      await main(args);
    } catch (err) {
      process.stderr.write(`${path.basename(process.argv[1])}: ERROR (phase: ${phase}): ${(err && err.stack) || err}\n`);
      code = 1;
    }
    setPhase('closing');
    const ok = await closeAll(10000);
    if (!ok) {
      process.stderr.write(`${path.basename(process.argv[1])}: ERROR: could not close all connections in time\n`);
      code = 1;
    }
    process.exitCode = code;
    if (code !== 0) process.exit(code);
  };
}

// ---------------------------------------------------------------------------
// Polling helpers
// ---------------------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll `cond` (async, returns truthy when done) every intervalMs until
// timeoutMs; throws on timeout with `what` and the last value seen by
// `describe` (optional).
async function waitFor(cond, { timeoutMs = 30000, intervalMs = 50, what = 'condition', describe } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) {
      let extra = '';
      if (describe) {
        try { extra = `: ${await describe()}`; } catch (_) { /* ignore */ }
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra}`);
    }
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// Deterministic PRNG (mulberry32) so workloads are reproducible with --seed.
// ---------------------------------------------------------------------------
function prng(seed) {
  let a = (Number(seed) >>> 0) || 1;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  next.uuid = () => {
    const h = () => Math.floor(next() * 65536).toString(16).padStart(4, '0');
    const v4 = (0x4000 | (Math.floor(next() * 65536) & 0x0fff)).toString(16);
    const var_ = (0x8000 | (Math.floor(next() * 65536) & 0x3fff)).toString(16);
    return `${h()}${h()}-${h()}-${v4}-${var_}-${h()}${h()}${h()}`;
  };
  return next;
}

// Is this failure (as seen in a Worker 'failed' handler) the final one?
// In both 5.71 and 6.7 the handler runs after job.moveToFailed() has
// incremented job.attemptsMade.
function isFinalFailure(job, err) {
  if (err && (err.name === 'UnrecoverableError')) return true;
  const attempts = Math.max(1, Number(job.opts && job.opts.attempts) || 1);
  return job.attemptsMade >= attempts;
}

function writeJson(file, obj) {
  const fs = require('fs');
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(obj, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

module.exports = {
  COMMON,
  parseArgs,
  usage,
  intArg,
  numArg,
  loadBullmq,
  connectionFromUrl,
  rawClient,
  track,
  setPhase,
  closeAll,
  startDeadline,
  installCrashHandlers,
  run,
  sleep,
  waitFor,
  prng,
  isFinalFailure,
  writeJson,
};
