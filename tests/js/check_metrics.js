#!/usr/bin/env node
'use strict';
// Checks a Prometheus text exposition from the agent's /metrics.
//   check_metrics.js counts METRICS.txt COUNTS.json   bullmq_job_count{queue,state} equals
//       every state of getJobCounts() (counts.js output) of each queue in COUNTS.json
//   check_metrics.js value METRICS.txt NAME LABELS    print the value of NAME{LABELS}
//       (LABELS as a JSON object), or "absent"
//   check_metrics.js lint PROMTOOL_OUTPUT            the only lint complaint allowed is
//       BullMQ's own name bullmq_job_count (kept for BullMQ's dashboards)
const fs = require('fs');

function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l;
    while ((l = re.exec(m[3] || ''))) labels[l[1]] = JSON.parse(`"${l[2]}"`);
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

function find(series, name, labels) {
  return series.find((s) => s.name === name &&
    Object.keys(labels).every((k) => s.labels[k] === labels[k]) &&
    Object.keys(s.labels).length === Object.keys(labels).length);
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'counts') {
  const series = parse(fs.readFileSync(a, 'utf8'));
  const counts = JSON.parse(fs.readFileSync(b, 'utf8'));
  let bad = 0;
  for (const [queue, states] of Object.entries(counts)) {
    if (queue.startsWith('_')) continue;
    for (const [state, n] of Object.entries(states)) {
      const s = find(series, 'bullmq_job_count', { queue, state });
      if (!s || s.value !== n) {
        console.log(`${queue} ${state}: getJobCounts ${n}, /metrics ${s ? s.value : 'absent'}`);
        bad++;
      }
    }
    const extra = series.filter((s) => s.name === 'bullmq_job_count' && s.labels.queue === queue &&
      !(s.labels.state in states));
    for (const s of extra) { console.log(`${queue}: extra state ${s.labels.state}`); bad++; }
  }
  process.exit(bad ? 1 : 0);
} else if (mode === 'value') {
  const s = find(parse(fs.readFileSync(a, 'utf8')), b, JSON.parse(c || '{}'));
  console.log(s ? s.value : 'absent');
} else if (mode === 'lint') {
  const lines = fs.readFileSync(a, 'utf8').split('\n').filter(Boolean);
  const other = lines.filter((l) => !/^bullmq_job_count non-histogram and non-summary metrics should not have "_count" suffix$/.test(l));
  if (other.length) console.log(other.join('\n'));
  process.exit(other.length ? 1 : 0);
} else {
  console.error('usage: check_metrics.js counts|value|lint ...');
  process.exit(2);
}
