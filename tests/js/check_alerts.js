#!/usr/bin/env node
'use strict';
// Checks what receiver.js recorded. Exit 0 when the check holds, else 1
// with the reason on stderr.
//   check_alerts.js --log FILE --check formats|signature|count|spacing
//                   [--secret whsec_...] [--path /x] [--kind firing|resolved]
//                   [--queue Q] [--n N] [--min-gap-ms MS]
// formats: each of /webhook /slack /pagerduty /alertmanager got a
//   well-formed body of --kind for --queue;
// signature: every /webhook request verifies under --secret (Standard
//   Webhooks, with Node's crypto: an implementation independent of ours);
// count: exactly --n requests to --path (of --kind, for --queue when given);
// spacing: the requests to --path are at least --min-gap-ms apart;
// amapi: an alertmanager /api/v2/alerts push for --queue;
// order: per alert, the firing arrived before the resolved;
// swh: every /webhook request verifies with the official `standardwebhooks`
//   package (Webhook(secret).verify) and carries a msg_ id;
// ids: webhook-ids (of --path, default /webhook) are one per transition:
//   the requests of one (type, rule, queue, starts_at|ends_at) share an id,
//   different ones never do (also across agents and stores);
// context: the firing bodies for --queue carry what died (top errors with
//   counts, jobs with reasons, the `bullwatch dlq list` command).
const fs = require('fs');
const crypto = require('crypto');
const L = require('./lib');
const args = L.parseArgs({ log: undefined, check: undefined, secret: '', path: '', kind: '',
  queue: '', n: '0', 'min-gap-ms': '0' });

const reqs = fs.existsSync(args.log)
  ? fs.readFileSync(args.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const fail = (why) => { console.error(`check_alerts ${args.check}: ${why}`); process.exit(1); };
const body = (r) => { try { return JSON.parse(r.body); } catch (e) { fail(`${r.path}: body is not JSON: ${r.body.slice(0, 200)}`); } };

function kindOf(r) {
  const b = body(r);
  switch (r.path) {
    case '/webhook': return b.type === 'alert.resolved' ? 'resolved' : 'firing';
    case '/slack': return /^\[RESOLVED\]/.test(b.text) ? 'resolved' : 'firing';
    case '/pagerduty': return b.event_action === 'resolve' ? 'resolved' : 'firing';
    case '/alertmanager': return b.status;
    default: return b.type === 'alert.resolved' ? 'resolved' : b.status || 'firing';
  }
}
const queueOf = (r) => { const b = body(r); return (b.data && b.data.queue) || ''; };
const want = (r) => (!args.path || r.path === args.path) && (!args.kind || kindOf(r) === args.kind) &&
  (!args.queue || queueOf(r) === args.queue);

if (args.check === 'formats') {
  const q = args.queue, k = args.kind;
  // a pagerduty resolve carries only its dedup_key: matched by fingerprint
  let fp = null;
  const one = (path) => {
    const r = reqs.find((x) => x.path === path && kindOf(x) === k &&
      (path === '/pagerduty' && fp ? body(x).dedup_key.startsWith(`bw-${fp}-`) : x.body.includes(q)));
    if (!r) fail(`no ${k} request to ${path} for queue ${q} (got ${reqs.map((x) => x.path).join(' ')})`);
    if (!/application\/json/.test(r.headers['content-type'] || '')) fail(`${path}: content-type ${r.headers['content-type']}`);
    return body(r);
  };
  const w = one('/webhook');
  fp = w.data && w.data.fingerprint;
  if (w.type !== `alert.${k}` || !w.timestamp || w.data.queue !== q || w.data.status !== k ||
      typeof w.data.rule !== 'string' || !/^[0-9a-f]{16}$/.test(w.data.fingerprint) || !('value' in w.data))
    fail(`webhook body: ${JSON.stringify(w)}`);
  const s = one('/slack');
  if (typeof s.text !== 'string' || !Array.isArray(s.blocks) || s.blocks[0].type !== 'section' ||
      s.blocks[0].text.type !== 'mrkdwn' || !s.blocks[0].text.text.includes(q))
    fail(`slack body: ${JSON.stringify(s)}`);
  const p = one('/pagerduty');
  if (p.routing_key !== process.env.BW_T_PD_KEY || p.event_action !== (k === 'firing' ? 'trigger' : 'resolve') ||
      !p.dedup_key.startsWith(`bw-${w.data.fingerprint}-`) ||
      (k === 'firing' && !(p.payload && p.payload.summary && p.payload.source && ['critical', 'warning', 'info', 'error'].includes(p.payload.severity))))
    fail(`pagerduty body: ${JSON.stringify(p)}`);
  const a = one('/alertmanager');
  if (a.version !== '4' || a.status !== k || !a.groupKey || !Array.isArray(a.alerts) || a.alerts.length !== 1 ||
      a.alerts[0].labels.alertname !== w.data.rule || a.alerts[0].labels.queue !== q ||
      a.alerts[0].status !== k || !a.alerts[0].startsAt || a.alerts[0].fingerprint !== w.data.fingerprint ||
      (k === 'resolved' && a.alerts[0].endsAt.startsWith('0001')))
    fail(`alertmanager body: ${JSON.stringify(a)}`);
  process.exit(0);
}
if (args.check === 'signature') {
  const key = Buffer.from(args.secret.replace(/^whsec_/, ''), 'base64');
  const hooks = reqs.filter((r) => r.path === '/webhook');
  if (!hooks.length) fail('no /webhook request');
  for (const r of hooks) {
    const id = r.headers['webhook-id'], ts = r.headers['webhook-timestamp'], sig = r.headers['webhook-signature'];
    if (!id || !ts || !sig) fail(`missing webhook headers: ${JSON.stringify(r.headers)}`);
    if (Math.abs(Number(ts) * 1000 - r.at) > 300000) fail(`timestamp ${ts} is not near ${r.at}`);
    const mac = crypto.createHmac('sha256', key).update(`${id}.${ts}.${r.body}`).digest('base64');
    const given = sig.split(' ').filter((s) => s.startsWith('v1,')).map((s) => s.slice(3));
    if (!given.some((g) => g.length === mac.length && crypto.timingSafeEqual(Buffer.from(g), Buffer.from(mac))))
      fail(`signature ${sig} does not verify (expected v1,${mac})`);
  }
  process.exit(0);
}
if (args.check === 'swh') {
  const { Webhook } = require('standardwebhooks');
  const hooks = reqs.filter((r) => r.path === (args.path || '/webhook'));
  if (!hooks.length) fail('no webhook request');
  for (const r of hooks) {
    try {
      // verify() checks the timestamp against now: the log is read at once
      new Webhook(args.secret).verify(r.body, r.headers);
    } catch (e) {
      fail(`request at ${r.at} (webhook-id ${r.headers['webhook-id']}) does not verify: ${e.message}`);
    }
    if (!/^msg_[0-9a-f]{32}$/.test(r.headers['webhook-id'])) fail(`webhook-id ${r.headers['webhook-id']}`);
    if (r.verified === false) fail(`refused on arrival by the receiver: ${r.verify_error}`);
  }
  process.exit(0);
}
if (args.check === 'ids') {
  const byT = new Map(), byId = new Map();
  for (const r of reqs.filter((x) => x.path === (args.path || '/webhook'))) {
    const b = body(r), d = b.data;
    const t = `${b.type}|${d.rule}|${d.queue}|${b.type === 'alert.resolved' ? d.ends_at : d.starts_at}|${d.repeat || 0}`;
    const id = r.headers['webhook-id'];
    if (byT.has(t) && byT.get(t) !== id) fail(`transition ${t}: two ids ${byT.get(t)} and ${id}`);
    if (byId.has(id) && byId.get(id) !== t) fail(`id ${id} used by ${byId.get(id)} and by ${t}`);
    byT.set(t, id);
    byId.set(id, t);
  }
  if (byT.size < Number(args.n || 1)) fail(`only ${byT.size} transition(s) seen`);
  console.log(`${byT.size} transitions, ${byId.size} ids`);
  process.exit(0);
}
if (args.check === 'context') {
  const f = reqs.filter((x) => kindOf(x) === 'firing');
  const hook = f.find((x) => x.path === '/webhook' && body(x).data.queue === args.queue);
  if (!hook) fail('no webhook firing');
  const c = body(hook).data.context;
  if (!c || !c.top_errors.length || !c.top_errors[0].count || !c.jobs.length || !c.jobs[0].id ||
      !c.jobs[0].reason || !c.dlq_command.startsWith(`bullwatch dlq list '${args.queue}'`))
    fail(`webhook context: ${JSON.stringify(c)}`);
  const slack = f.find((x) => x.path === '/slack' && x.body.includes(args.queue));
  if (!slack || !body(slack).blocks.some((bl) => bl.text.text.includes('bullwatch dlq list')))
    fail(`slack context: ${slack && slack.body}`);
  const pd = f.find((x) => x.path === '/pagerduty' && body(x).payload);
  const pc = pd && body(pd).payload.custom_details.context;
  if (!pc || !pc.jobs.length) fail(`pagerduty custom_details: ${pd && pd.body}`);
  const am = f.find((x) => x.path === '/alertmanager');
  if (!am || !body(am).alerts[0].annotations.dlq_command) fail(`alertmanager annotations: ${am && am.body}`);
  process.exit(0);
}
if (args.check === 'amapi') {
  const r = reqs.find((x) => x.path === '/api/v2/alerts');
  if (!r) fail('no request to /api/v2/alerts');
  const b = body(r);
  if (!Array.isArray(b) || b.length !== 1 || b[0].labels.queue !== args.queue || !b[0].labels.alertname ||
      !b[0].startsAt || !b[0].annotations.summary)
    fail(`/api/v2/alerts body: ${r.body}`);
  process.exit(0);
}
if (args.check === 'order') {
  // per alert (fingerprint): the firing reaches the receiver before its resolved
  const seen = new Map();
  for (const r of reqs.filter((x) => x.path === args.path && x.status >= 200 && x.status < 300)) {
    const b = body(r), fp = b.data.fingerprint, k = kindOf(r);
    if (k === 'resolved' && !seen.has(fp)) fail(`resolved of ${fp} arrived before its firing`);
    seen.set(fp, k);
  }
  if (![...seen.values()].includes('resolved')) fail('no resolved arrived');
  process.exit(0);
}
if (args.check === 'count') {
  const n = reqs.filter(want).length;
  if (n !== Number(args.n)) fail(`${n} request(s) to ${args.path || '*'} ${args.kind}, wanted ${args.n}`);
  process.exit(0);
}
if (args.check === 'spacing') {
  const at = reqs.filter(want).map((r) => r.at);
  for (let i = 1; i < at.length; i++)
    if (at[i] - at[i - 1] < Number(args['min-gap-ms'])) fail(`requests ${at[i] - at[i - 1]} ms apart`);
  if (at.length < 2) fail(`only ${at.length} request(s)`);
  process.exit(0);
}
fail('unknown check');
