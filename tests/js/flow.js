#!/usr/bin/env node
'use strict';
// A real flow (FlowProducer): parent in --parent-queue, one child in
// --child-queue whose processor fails while --phase is "break", so the
// child dies and the parent waits in waiting-children. With --phase check,
// runs workers that succeed on both queues until the parent completes (or
// --timeout), for the replayed (or purged) child to release it. With --phase
// break-parent, the child completes and the parent's processor fails, so a
// dead parent has a completed child (--children N of them, each with a
// completed child of its own with --grandchildren 1).
//   flow.js --redis URL --bullmq 5|6 --parent-queue P --child-queue C
//           --phase break|break-parent|check --out FILE [--children N]
//           [--grandchildren 0|1]
const L = require('./lib');
const args = L.parseArgs(Object.assign({}, L.COMMON, {
  'parent-queue': undefined, 'child-queue': undefined, phase: undefined, out: '',
  children: '1', grandchildren: '0',
}));
const { mod: B, version } = L.loadBullmq(args.bullmq);
const PQ = args['parent-queue'], CQ = args['child-queue'];

async function main() {
  const c = () => L.connectionFromUrl(args.redis);
  const pq = L.track(new B.Queue(PQ, { connection: c(), prefix: args.prefix }));
  const cq = L.track(new B.Queue(CQ, { connection: c(), prefix: args.prefix }));
  if (args.phase === 'break') {
    const fp = L.track(new B.FlowProducer({ connection: c(), prefix: args.prefix }));
    const tree = await fp.add({ name: 'parent', queueName: PQ, data: { p: 1 },
      children: [{ name: 'child', queueName: CQ, data: { c: 1 }, opts: { attempts: 1 } }] });
    const w = L.track(new B.Worker(CQ, async () => { throw new Error('child broken'); },
      { connection: c(), prefix: args.prefix }));
    await L.waitFor(async () => (await cq.getFailedCount()) === 1, { timeoutMs: 20000, what: 'the child to die' });
    await w.close();
    const state = await (await B.Job.fromId(pq, tree.job.id)).getState();
    L.writeJson(args.out, { parent: String(tree.job.id), child: String(tree.children[0].job.id), parent_state: state });
    console.log(`flow bullmq ${version}: child died, parent is ${state}`);
  } else if (args.phase === 'break-parent') {
    const fp = L.track(new B.FlowProducer({ connection: c(), prefix: args.prefix }));
    const n = Number(args.children), g = args.grandchildren === '1';
    const kids = [];
    for (let i = 0; i < n; i++) {
      kids.push({ name: 'child', queueName: CQ, data: { c: i },
        children: g ? [{ name: 'grandchild', queueName: CQ, data: { g: i } }] : undefined });
    }
    const tree = await fp.add({ name: 'parent', queueName: PQ, data: { p: 1 }, opts: { attempts: 1 },
      children: kids });
    const wc = L.track(new B.Worker(CQ, async () => 'child ok',
      { connection: c(), prefix: args.prefix, concurrency: 50 }));
    const wp = L.track(new B.Worker(PQ, async () => { throw new Error('parent broken'); },
      { connection: c(), prefix: args.prefix }));
    await L.waitFor(async () => (await pq.getFailedCount()) === 1, { timeoutMs: 60000, what: 'the parent to die' });
    await wc.close();
    await wp.close();
    const cstate = await (await B.Job.fromId(cq, tree.children[0].job.id)).getState();
    L.writeJson(args.out, { parent: String(tree.job.id), child: String(tree.children[0].job.id), child_state: cstate,
      completed_children: await cq.getCompletedCount() });
    console.log(`flow bullmq ${version}: parent died, child is ${cstate}`);
  } else {
    const rec = require(require('path').resolve(args.out));
    const wc = L.track(new B.Worker(CQ, async () => 'fixed', { connection: c(), prefix: args.prefix }));
    const wp = L.track(new B.Worker(PQ, async () => 'parent done', { connection: c(), prefix: args.prefix }));
    let state;
    await L.waitFor(async () => {
      state = await (await B.Job.fromId(pq, rec.parent)).getState();
      return state === 'completed';
    }, { timeoutMs: 20000, what: 'the parent to complete', describe: () => state });
    await wc.close();
    await wp.close();
    console.log(`flow bullmq ${version}: parent completed after the child was replayed or purged`);
  }
}
L.run(main)(args);
