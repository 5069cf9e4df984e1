#!/usr/bin/env node
'use strict';
// Checks the bodies receiver.js recorded against the receivers' published
// limits (t_sinks.sh). Exit 0 when the check holds, else 1 with the reason.
//   check_sinks.js --log FILE --check slack|pagerduty|webhook|tests
//                  [--queue Q] [--key ROUTING_KEY] [--secret whsec_...]
// slack: Slack's formatting rules and Block Kit limits: in every text, & < >
//   appear only as &amp; &lt; &gt; (so `<!channel>` cannot ping), valid
//   UTF-8, a section's text <= 3,000 characters, the fallback text <= 3,000,
//   the value and runbook lines present whatever the summary's length;
// pagerduty: Events API v2: routing_key (32), event_action, dedup_key <= 255,
//   payload.summary <= 1,024 characters and cut on a character boundary,
//   source/component/group <= 255, custom_details with the context;
// webhook: Standard Webhooks (the official package verifies it), the queue
//   name intact, reasons redacted and capped;
// tests: the `bullwatch sink test` requests say TEST.
const fs = require('fs');
const L = require('./lib');
const args = L.parseArgs({ log: undefined, check: undefined, queue: '', key: '', secret: '' });
const reqs = fs.existsSync(args.log)
  ? fs.readFileSync(args.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const fail = (why) => { console.error(`check_sinks ${args.check}: ${why}`); process.exit(1); };
const chars = (s) => [...s].length;
// the raw bytes were recorded as UTF-8 text: U+FFFD means bytes that were not UTF-8
const validUtf8 = (s) => !s.includes('\ufffd');
const isTest = (b) => JSON.stringify(b).includes('TEST') || JSON.stringify(b).includes('alert.test');

if (args.check === 'slack') {
  const rs = reqs.filter((r) => r.path.startsWith('/services/')).map((r) => JSON.parse(r.body))
    .filter((b) => !isTest(b));
  if (!rs.length) fail('no slack request');
  for (const b of rs) {
    const texts = [b.text, ...b.blocks.map((x) => x.text.text)];
    if (chars(b.text) > 3000) fail(`text has ${chars(b.text)} characters`);
    if (b.blocks.length > 50) fail(`${b.blocks.length} blocks`);
    for (const t of texts) {
      if (!validUtf8(t)) fail(`invalid UTF-8 in ${JSON.stringify(t.slice(0, 80))}`);
      if (/[<>]/.test(t)) fail(`a raw < or > in ${JSON.stringify(t.slice(0, 200))}`);
      if (/&(?!amp;|lt;|gt;)/.test(t)) fail(`a raw & in ${JSON.stringify(t.slice(0, 200))}`);
    }
    for (const x of b.blocks) if (chars(x.text.text) > 3000) fail(`a section has ${chars(x.text.text)} characters`);
    const all = texts.join('\n');
    if (!all.includes('pay &lt;!channel&gt; &amp; &lt;b&gt;x&lt;/b&gt;')) fail('the queue name is not there, escaped');
    if (!/value 3, threshold 0/.test(all)) fail('the value line is missing');
    if (!all.includes('runbook: https://runbooks.example/dead-letters?q=&lt;x&gt;&amp;y=1')) fail('the runbook line is missing');
    if (!all.includes('bullwatch dlq list')) fail('the dlq list command is missing');
    if (!all.includes('\u2026')) fail('the long summary was not visibly cut');
  }
  process.exit(0);
}
if (args.check === 'pagerduty') {
  const rs = reqs.filter((r) => r.path.startsWith('/pagerduty')).map((r) => JSON.parse(r.body))
    .filter((b) => !isTest(b));
  if (!rs.length) fail('no pagerduty request');
  for (const b of rs) {
    if (b.routing_key !== args.key || b.routing_key.length !== 32) fail(`routing_key ${b.routing_key}`);
    if (!['trigger', 'resolve'].includes(b.event_action)) fail(`event_action ${b.event_action}`);
    if (!b.dedup_key || b.dedup_key.length > 255) fail(`dedup_key ${b.dedup_key}`);
    if (b.event_action !== 'trigger') continue;
    const p = b.payload;
    if (chars(p.summary) > 1024) fail(`summary has ${chars(p.summary)} characters`);
    if (!validUtf8(p.summary)) fail('summary is not valid UTF-8');
    if (!p.summary.endsWith('\u2026') || !p.summary.startsWith(`${args.queue} has 3 dead jobs`))
      fail(`summary not cut as expected: ${p.summary.slice(0, 80)}...${p.summary.slice(-10)}`);
    for (const k of ['source', 'component', 'group'])
      if (!p[k] || chars(p[k]) > 255) fail(`payload.${k}: ${p[k]}`);
    if (!['critical', 'error', 'warning', 'info'].includes(p.severity)) fail(`severity ${p.severity}`);
    const c = p.custom_details;
    if (c.queue !== args.queue || c.value !== 3 || !c.context || c.context.jobs.length < 1 ||
        !c.context.top_errors.length || !c.context.dlq_command)
      fail(`custom_details: ${JSON.stringify(c).slice(0, 400)}`);
    for (const j of c.context.jobs) {
      if (chars(j.reason) > 300) fail(`a job's reason has ${chars(j.reason)} characters`);
      if (j.reason.includes('hunter2')) fail('a password in a reason was not redacted');
    }
  }
  process.exit(0);
}
if (args.check === 'webhook') {
  const { Webhook } = require('standardwebhooks');
  const rs = reqs.filter((r) => r.path === '/webhook');
  if (!rs.length) fail('no webhook request');
  for (const r of rs) {
    try { new Webhook(args.secret).verify(r.body, r.headers); } catch (e) { fail(`does not verify: ${e.message}`); }
    const b = JSON.parse(r.body);
    if (b.type === 'alert.test') continue;
    if (b.data.queue !== args.queue) fail(`data.queue ${JSON.stringify(b.data.queue)}`);
    if (!validUtf8(r.body)) fail('body is not valid UTF-8');
    const c = b.data.context;
    if (!c || !c.jobs.length) fail('no context');
    for (const j of c.jobs) {
      if (chars(j.reason) > 300) fail(`a job's reason has ${chars(j.reason)} characters`);
      if (j.reason.includes('hunter2') || !j.reason.includes('password=[redacted]')) fail(`reason not redacted: ${j.reason.slice(0, 100)}`);
    }
    if (!c.dlq_command.startsWith(`bullwatch dlq list '${args.queue}' --since `)) fail(`dlq_command ${c.dlq_command}`);
  }
  process.exit(0);
}
if (args.check === 'tests') {
  const rs = reqs.map((r) => ({ r, b: JSON.parse(r.body) })).filter(({ b }) => isTest(b));
  const paths = new Set(rs.map(({ r }) => r.path.replace(/\?.*/, '').replace(/^\/services\/.*/, '/services')));
  if (!['/webhook', '/services', '/pagerduty'].every((p) => paths.has(p))) fail(`test requests to ${[...paths]}`);
  const { Webhook } = require('standardwebhooks');
  for (const { r, b } of rs) {
    if (r.path === '/webhook') {
      new Webhook(args.secret).verify(r.body, r.headers);
      if (b.type !== 'alert.test' || b.data.rule !== 'bullwatch_test') fail(`webhook test body ${r.body}`);
    }
    if (r.path.startsWith('/services') && !b.text.startsWith('[TEST]')) fail(`slack test text ${b.text}`);
    if (r.path.startsWith('/pagerduty') && !b.payload.summary.startsWith('[TEST]')) fail(`pagerduty test ${r.body}`);
  }
  process.exit(0);
}
fail('unknown check');
