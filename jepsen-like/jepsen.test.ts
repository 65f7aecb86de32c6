// Tests of the harness: the PRNG's determinism and the fault plan's reproducibility, the link
// proxy's modes against a local echo server, then two real runs (5 nodes, kill/pause/partition,
// same seed): the safe client loses nothing and the replicas converge; the unsafe client (keeps one
// sibling instead of merging) loses acknowledged adds, and the checker catches it. Then a run with
// the membership nemesis as well: nodes join, leave and are removed, nothing acknowledged is lost,
// and the ring settles.
// Needs `npm run build` first (the nodes run dist/cli/kvorum.js).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Op } from './history.js';
import { planFaults } from './nemesis.js';
import { Prng } from './prng.js';
import { LinkProxy } from './proxy.js';
import { runJepsen } from './run.js';

describe('prng', () => {
  it('is deterministic per seed, and seeds differ', () => {
    const seq = (seed: number) => {
      const p = new Prng(seed);
      return Array.from({ length: 20 }, () => p.nextUint32());
    };
    assert.deepEqual(seq(42), seq(42));
    assert.notDeepEqual(seq(42), seq(43));
    assert.deepEqual(new Prng(7).fork('client-3').shuffle([1, 2, 3, 4, 5, 6]), new Prng(7).fork('client-3').shuffle([1, 2, 3, 4, 5, 6]));
    assert.notDeepEqual(seq(0), new Array(20).fill(0));
  });

  it('int stays in bounds and reaches both ends; pick and shuffle keep the elements', () => {
    const p = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = p.int(3, 7);
      assert.ok(x >= 3 && x <= 7 && Number.isInteger(x));
      seen.add(x);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7]);
    assert.ok(['a', 'b'].includes(p.pick(['a', 'b'])));
    assert.deepEqual(p.shuffle([5, 1, 4, 2, 3]).sort(), [1, 2, 3, 4, 5]);
  });

  it('plans the same fault schedule for the same seed', () => {
    const plan = (seed: number) => planFaults(new Prng(seed).fork('nemesis'), { ids: ['n1', 'n2', 'n3', 'n4', 'n5'], kinds: ['kill', 'pause', 'partition'], maxDown: 2, count: 20 });
    assert.deepEqual(plan(9), plan(9));
    assert.notDeepEqual(plan(9), plan(10));
    for (const f of plan(9)) if (f.kind !== 'partition') assert.ok(f.nodes.length >= 1 && f.nodes.length <= 2, 'at most maxDown nodes down');
  });
});

/** Sends `data` on the socket and resolves with the first reply, or 'silence' after `waitMs`, or the error/close. */
function roundTrip(socket: Socket, data: string, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('silence'), waitMs);
    socket.once('data', (d) => { clearTimeout(timer); resolve(`data:${d.toString()}`); });
    socket.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(`error:${e.code}`); });
    socket.once('close', () => { clearTimeout(timer); resolve('closed'); });
    socket.write(data);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('link proxy', () => {
  let echo: Server;
  let proxy: LinkProxy;
  const sockets: Socket[] = [];
  const client = async () => {
    const s = await open(proxy.port);
    s.on('error', () => undefined);
    sockets.push(s);
    return s;
  };

  before(async () => {
    echo = createServer((s) => { s.on('error', () => undefined); s.pipe(s); });
    await new Promise<void>((resolve) => echo.listen({ port: 0, host: '127.0.0.1' }, () => resolve()));
    const port = (echo.address() as import('node:net').AddressInfo).port;
    proxy = await LinkProxy.start('a->b', port);
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('passes data both ways', async () => {
    assert.equal(await roundTrip(await client(), 'hello', 2000), 'data:hello');
  });

  it('drop: cuts existing connections, then accepts new ones and never answers', async () => {
    const existing = await client();
    assert.equal(await roundTrip(existing, 'x', 2000), 'data:x');
    proxy.setMode({ kind: 'drop' });
    const cut = await roundTrip(existing, 'y', 2000);
    assert.ok(cut === 'error:ECONNRESET' || cut === 'closed', `existing connection cut, got ${cut}`);
    const fresh = await client(); // the TCP connection is accepted...
    assert.equal(await roundTrip(fresh, 'z', 300), 'silence'); // ...and blackholed
    proxy.setMode({ kind: 'pass' });
    assert.equal(await roundTrip(await client(), 'back', 2000), 'data:back');
  });

  it('refuse: closes existing and new connections at once', async () => {
    const existing = await client();
    assert.equal(await roundTrip(existing, 'x', 2000), 'data:x');
    proxy.setMode({ kind: 'refuse' });
    const cut = await roundTrip(existing, 'y', 2000);
    assert.ok(cut === 'error:ECONNRESET' || cut === 'closed', `existing connection cut, got ${cut}`);
    const started = Date.now();
    const fresh = await client().catch((e: NodeJS.ErrnoException) => e.code ?? 'error');
    if (typeof fresh === 'object') {
      const r = await roundTrip(fresh, 'z', 2000);
      assert.ok(r === 'error:ECONNRESET' || r === 'closed' || r === 'error:EPIPE', `new connection reset, got ${r}`);
    }
    assert.ok(Date.now() - started < 1000, 'fails fast');
    proxy.setMode({ kind: 'pass' });
  });

  it('delay: still forwards, but later', async () => {
    proxy.setMode({ kind: 'delay', ms: 150 });
    const s = await client();
    const started = Date.now();
    assert.equal(await roundTrip(s, 'slow', 3000), 'data:slow');
    assert.ok(Date.now() - started >= 280, `connection setup and data delayed, took ${Date.now() - started} ms`);
    proxy.setMode({ kind: 'pass' });
    assert.equal(await roundTrip(await client(), 'fast', 2000), 'data:fast');
  });
});

describe('runs against a real cluster', () => {
  // Seed 6 plans a pause, a kill and an isolated node within the first 20 s.
  const common = { nodes: 5, timeSec: 20, workload: 'set', nemeses: ['kill', 'pause', 'partition'], seed: 6, keys: 2, concurrency: 10 } as const;
  const dirs: string[] = [];
  const outDir = async (name: string) => {
    const dir = await mkdtemp(join(tmpdir(), `kvorum-jepsen-test-${name}-`));
    dirs.push(dir);
    return dir;
  };
  let failed = false;
  after(async () => {
    if (failed) console.error(`run directories kept for inspection: ${dirs.join(' ')}`);
    else for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('safe client: no acknowledged add is lost, replicas converge, artefacts written', async () => {
    try {
      // Churn keys with a short grace: overwrites, deletes and reaping race with the faults.
      const { dir, results } = await runJepsen({ ...common, client: 'safe', churnKeys: 50, tombstoneGraceMs: 1000, out: await outDir('safe') });
      assert.ok(results.set, 'set results');
      assert.ok(results.supersession, 'churn-key results');
      assert.equal(results.supersession.resurrected.count, 0, `superseded versions: ${JSON.stringify(results.supersession.resurrected.examples.slice(0, 3))}`);
      // Enough churn for the check to mean something. Throughput-bound: this asked for more than 20,
      // which a quiet 2-core machine gave; at load average ~25 a run acknowledged 12.
      assert.ok(results.supersession.acknowledged > 5, `enough overwrites and deletes acknowledged (${results.supersession.acknowledged})`);
      console.log(`# churn keys: ${results.supersession.acknowledged} overwrites/deletes acknowledged, ${results.supersession.tombstonesReaped} tombstones reaped`);
      assert.equal(results.set.lost.count, 0, `lost adds: ${JSON.stringify(results.set.lost.examples.slice(0, 3))}`);
      assert.ok(results.set.acknowledged > 100, `enough adds acknowledged (${results.set.acknowledged})`);
      assert.ok(results.convergence.converged && results.convergence.convergenceMs !== null, 'converged after healing');
      assert.ok(results.valid, `valid: ${results.reasons.join('; ')}`);
      const history = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Op);
      assert.ok(history.some((op) => op.f === 'add' && op.type === 'ok'));
      assert.equal(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).valid, true);
      const faults = JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8')) as { kind: string }[];
      assert.ok(faults.length >= 2, `faults were injected: ${JSON.stringify(faults)}`);
      assert.ok(existsSync(join(dir, 'report.html')), 'report.html written');
      assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<html/i);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  it('unsafe client (last writer wins over siblings): the checker finds lost adds', async () => {
    try {
      const { results } = await runJepsen({ ...common, client: 'unsafe', out: await outDir('unsafe') });
      assert.ok(results.set, 'set results');
      assert.ok(results.set.lost.count > 0, 'the unsafe client lost acknowledged adds');
      assert.equal(results.valid, false);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  it('membership nemesis: nodes join and leave amid kill/pause/partition, nothing acknowledged is lost, the ring settles', async () => {
    try {
      // Seed 18 draws join, leave, remove as its first membership changes. Each waits for the last
      // one's transfers: 8 partitions, and faults a little further apart, let them end in time on a
      // loaded machine.
      const membershipRun = {
        ...common, seed: 18, timeSec: 60, partitions: 8, nemeses: ['kill', 'pause', 'partition', 'membership'],
        membershipMs: [1000, 2000], quietMs: [3000, 5000],
      } as const;
      const { dir, results } = await runJepsen({ ...membershipRun, client: 'safe', churnKeys: 20, out: await outDir('membership') });
      const m = results.membership;
      assert.ok(results.set && m, 'set and membership results');
      console.log(`# membership: committed ${JSON.stringify(m.committed)}, ring version ${m.ringVersionStart} -> ${m.ringVersionEnd}, settled in ${m.settleMs} ms, members ${m.finalMembers.join(' ')}`);
      assert.equal(results.set.lost.count, 0, `lost adds: ${JSON.stringify(results.set.lost.examples.slice(0, 3))}`);
      assert.ok(results.set.acknowledged > 100, `enough adds acknowledged (${results.set.acknowledged})`);
      assert.ok(m.settled, `the ring settled: ${m.settleProblem}`);
      assert.ok(m.ringVersionEnd !== null && m.ringVersionEnd > m.ringVersionStart, 'the ring version grew');
      assert.ok(m.committed.join >= 1 && m.committed.leave >= 1, `a join and a leave committed: ${JSON.stringify(m.committed)}`);
      assert.ok(results.valid, `valid: ${results.reasons.join('; ')}`);
      const events = readFileSync(join(dir, 'membership.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string });
      assert.ok(events.filter((e) => e.action === 'commit' && e.outcome === 'ok').length >= 2, 'commits recorded');
      assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /Membership changes[\s\S]*commit \(join\)[\s\S]*commit \(leave\)/);
    } catch (err) {
      failed = true;
      throw err;
    }
  });
});
