#!/usr/bin/env node
'use strict';
// A webhook receiver on loopback for the alert tests: records every request
// (one JSON line: at ms, method, path, headers, body) to --log, and answers
// with the statuses of --script in order ("500,500,200"), then --status.
// A 429 carries Retry-After: --retry-after. --hang never answers. Writes
// its port to --port-file once listening. Stops after --max-seconds.
// --whsec SECRET: every /webhook request is verified on arrival with the
// official `standardwebhooks` package, as a Standard Webhooks receiver does
// (signature, and the timestamp within its tolerance of now); one that does
// not verify is answered 401 and logged with verified: false and why.
//   receiver.js --log FILE --port-file FILE [--script 500,200] [--status 200]
//               [--retry-after 2] [--hang] [--port 0] [--max-seconds 300]
//               [--whsec whsec_...]
const http = require('http');
const fs = require('fs');
const L = require('./lib');
const args = L.parseArgs({
  log: undefined, 'port-file': undefined, script: '', status: '200', 'retry-after': '',
  hang: false, port: '0', 'max-seconds': '300', whsec: '',
});
const verifier = args.whsec ? new (require('standardwebhooks').Webhook)(args.whsec) : null;
const script = args.script ? args.script.split(',').map(Number) : [];
const held = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const rec = { at: Date.now(), method: req.method, path: req.url, headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8') };
    if (verifier && req.url === '/webhook') {
      try {
        verifier.verify(rec.body, req.headers);
        rec.verified = true;
      } catch (e) {
        rec.verified = false;
        rec.verify_error = e.message;
        rec.status = 401;
        fs.appendFileSync(args.log, JSON.stringify(rec) + '\n');
        res.writeHead(401, { 'Content-Type': 'text/plain' });
        res.end(`standardwebhooks: ${e.message}`);
        return;
      }
    }
    if (args.hang) {
      rec.status = 'hang';
      fs.appendFileSync(args.log, JSON.stringify(rec) + '\n');
      held.push(res);
      return;
    }
    const status = script.length ? script.shift() : Number(args.status);
    rec.status = status;
    fs.appendFileSync(args.log, JSON.stringify(rec) + '\n');
    const headers = { 'Content-Type': 'text/plain' };
    if (status === 429 && args['retry-after']) headers['Retry-After'] = args['retry-after'];
    res.writeHead(status, headers);
    res.end(status >= 200 && status < 300 ? 'ok' : `scripted ${status}`);
  });
});
server.listen(Number(args.port), '127.0.0.1', () => {
  fs.writeFileSync(args['port-file'], String(server.address().port));
});
setTimeout(() => process.exit(0), Number(args['max-seconds']) * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
