#!/usr/bin/env node
'use strict';
// Checks of t_newsig.sh over a receiver log (one JSON request a line):
//   --check count --text T --n N   firing webhook notices of rule
//                                  new_error_signature whose context's
//                                  signature text contains T: exactly N
//   --check names --text T --dead FILE   one such notice names a job id of
//                                  FILE's dead ({"dead": [ids]}), the
//                                  reason, and dlq list --signature ID
const fs = require('fs');
const L = require('./lib');
const args = L.parseArgs({ log: undefined, check: undefined, text: '', n: '0', dead: '' });

function notices() {
  if (!fs.existsSync(args.log)) return [];
  return fs.readFileSync(args.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((r) => r.path === '/webhook').map((r) => JSON.parse(r.body).data)
    .filter((d) => d.rule === 'new_error_signature' && d.status === 'firing' && d.context &&
      d.context.new_signature && d.context.top_errors.length === 1 &&
      d.context.top_errors[0].signature.includes(args.text));
}

const ns = notices();
if (args.check === 'count') {
  if (ns.length !== Number(args.n)) {
    console.error(`${ns.length} notices for '${args.text}', expected ${args.n}`);
    process.exit(1);
  }
} else if (args.check === 'names') {
  const dead = new Set(JSON.parse(fs.readFileSync(args.dead, 'utf8')).dead);
  const ok = ns.some((d) => {
    const c = d.context, sig = d.labels.signature;
    return sig === c.new_signature && c.jobs.length === 1 && dead.has(c.jobs[0].id) &&
      c.jobs[0].reason.includes(args.text) &&
      c.dlq_command === `bullwatch dlq list '${d.queue}' --signature ${sig}`;
  });
  if (!ok) {
    console.error(JSON.stringify(ns, null, 1));
    process.exit(1);
  }
} else {
  console.error(`unknown --check ${args.check}`);
  process.exit(2);
}
