// Convergence mechanisms on the fake network (Dynamo sections 4.6-4.7): sloppy quorum and
// hinted handoff, read repair, Merkle anti-entropy, tombstone reaping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveValues, sameVersion } from '../../src/core/dvv.js';
import { preferenceListForKey } from '../../src/core/ring.js';
import type { ClientOp, QuorumSpec } from '../../src/core/rpc.js';
import { asPartitionId, type CausalContext, type NodeId } from '../../src/core/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noMetrics } from '../../src/core/metrics.js';
import { LocalReplica } from '../../src/core/replica.js';
import { silentLogger } from '../../src/core/ports.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { fakeCluster } from './fakes.js';

const put = (key: string, value: string, w: QuorumSpec = 'quorum', pw: QuorumSpec = 0): ClientOp => ({
  op: 'put', key, data: new TextEncoder().encode(value), contentType: 'text/plain', context: undefined, w, pw, timeoutMs: 1000,
});
const get = (key: string, r: QuorumSpec = 'quorum'): ClientOp => ({ op: 'get', key, r, pr: 0, timeoutMs: 1000 });
const del = (w: QuorumSpec, context?: CausalContext): ClientOp => ({ op: 'delete', key: 'k', context, w, pw: 0, timeoutMs: 1000 });
/** Lets every node's failure detector probe the network again, so it sees healed peers as up. */
async function redetect(c: ReturnType<typeof fakeCluster>): Promise<void> {
  for (const id of c.ids) c.node(id).core.detector.start();
  await c.time.advance(150);
}

const text = async (c: ReturnType<typeof fakeCluster>, node: NodeId, key: string) =>
  liveValues(await c.node(node).storage.get(key), c.time.runtime.wallClockMs()).map((v) => new TextDecoder().decode(v.data)).sort();

describe('sloppy quorum and hinted handoff', () => {
  it('fallbacks stand in for dead primaries, keep hints, and hand them off when the owner returns', async () => {
    const c = fakeCluster(5);
    const { primaries, fallbacks } = preferenceListForKey(c.ring, 'k');
    const [p1, p2, p3] = primaries;
    c.network.setNode(p2!, { kind: 'down' });
    c.network.setNode(p3!, { kind: 'down' });
    const res = await c.node(p1!).coordinator.execute(put('k', 'v', 3));
    assert.equal(res.ok, true, JSON.stringify(res));
    const holders = fallbacks.filter((f) => (c.node(f).storage.hintCounts().size ?? 0) > 0);
    assert.equal(holders.length, 2, 'each dead primary has a distinct fallback');
    const strict = await c.node(p1!).coordinator.execute(put('k', 'v2', 3, 3));
    assert.ok(!strict.ok && strict.details['required'] === 3, 'pw=3 counts primaries only: fallback acks do not help');

    c.network.setNode(p2!, { kind: 'up' });
    c.network.setNode(p3!, { kind: 'up' });
    await redetect(c);
    for (const f of [...fallbacks, p1!]) {
      await c.node(f).core.handoff.round();
    }
    for (const p of [p2!, p3!]) assert.ok((await text(c, p, 'k')).includes('v'), `${p} received its hint`);
    for (const id of c.ids) assert.equal(c.node(id).storage.hintCounts().size, 0, `${id} holds no hint`);
  });

  it('with no fallback (3 nodes) the coordinator keeps the hint itself and counts once', async () => {
    const c = fakeCluster(3);
    const [p1, , p3] = preferenceListForKey(c.ring, 'k').primaries;
    c.network.setNode(p3!, { kind: 'down' });
    assert.equal((await c.node(p1!).coordinator.execute(put('k', 'v', 2))).ok, true);
    const all = await c.node(p1!).coordinator.execute(put('k', 'v', 3));
    assert.equal(all.ok, false, 'the coordinator never counts twice');
    await c.time.settle();
    assert.ok((c.node(p1!).storage.hintCounts().get(p3!) ?? 0) > 0);
    c.network.setNode(p3!, { kind: 'up' });
    await redetect(c);
    await c.node(p1!).core.handoff.round();
    assert.ok((await text(c, p3!, 'k')).includes('v'));
    assert.equal(c.node(p1!).storage.hintCounts().size, 0);
  });
});

describe('read repair', () => {
  it('after a quorum read, a replica that missed the write gets the merged object', async () => {
    const c = fakeCluster(3);
    const [p1, , p3] = preferenceListForKey(c.ring, 'k').primaries;
    c.network.setNode(p3!, { kind: 'silent' });
    const w = c.node(p1!).coordinator.execute(put('k', 'new', 2));
    await c.time.settle();
    assert.equal((await w).ok, true);
    c.network.setNode(p3!, { kind: 'up' });
    await c.time.advance(2000); // the silent call times out; its late hint is irrelevant here
    await c.node(p3!).storage.update('k', preferenceListForKey(c.ring, 'k').partition, () => null); // undo any hint delivery
    assert.deepEqual(await text(c, p3!, 'k'), []);
    assert.equal((await c.node(p1!).coordinator.execute(get('k', 2))).ok, true);
    await c.time.settle();
    assert.deepEqual(await text(c, p3!, 'k'), ['new']);
  });
});

describe('anti-entropy', () => {
  it('repairs exactly the differing keys, both ways, with bytes that grow with the difference', async () => {
    const c = fakeCluster(2, { n: 2 });
    const [a, b] = c.ids;
    // Same 500 keys on both sides through normal writes.
    for (let i = 0; i < 500; i++) assert.equal((await c.node(a!).coordinator.execute(put(`key${i}`, `v${i}`, 'all'))).ok, true);
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    const inSync = await c.node(a!).core.antiEntropy.exchange(b!);
    assert.equal(inSync.keysRepaired, 0);
    assert.equal(inSync.partitionsDiffering, 0);

    const diverge = async (count: number, tag: string) => {
      for (let i = 0; i < count; i++) {
        // A write only `a` saw, and one only `b` saw.
        c.network.setNode(b!, { kind: 'down' });
        await c.node(a!).coordinator.execute(put(`key${i}`, `${tag}a${i}`, 1));
        c.network.setNode(b!, { kind: 'up' });
        c.network.setNode(a!, { kind: 'down' });
        await c.node(b!).coordinator.execute(put(`${tag}only-b-${i}`, 'x', 1));
        c.network.setNode(a!, { kind: 'up' });
      }
      // Drop the hints the coordinators kept, so that only anti-entropy can repair.
      for (const id of c.ids) for (const h of await c.node(id).storage.listHints(id === a ? b! : a!, 10_000)) await c.node(id).storage.removeHint(h.target, h.key, h.version);
    };
    await diverge(5, 's');
    const small = await c.node(a!).core.antiEntropy.exchange(b!);
    assert.equal(small.keysRepaired, 10);
    for (let i = 0; i < 5; i++) {
      assert.ok(sameVersion(await c.node(a!).storage.get(`key${i}`), await c.node(b!).storage.get(`key${i}`)));
      assert.deepEqual(await text(c, a!, `sonly-b-${i}`), ['x']);
    }
    assert.equal((await c.node(a!).core.antiEntropy.exchange(b!)).keysRepaired, 0, 'converged');

    await diverge(50, 'l');
    const large = await c.node(a!).core.antiEntropy.exchange(b!);
    assert.equal(large.keysRepaired, 100);
    assert.ok(large.payloadBytes > 5 * small.payloadBytes, `${large.payloadBytes} vs ${small.payloadBytes}`);
  });

  it('compares only partitions both nodes serve: one this node is receiving is left to its transfer (found by the membership bench)', async () => {
    const c = fakeCluster(4, { n: 3, partitions: 16 });
    const [n1, , , n4] = c.ids;
    for (let i = 0; i < 200; i++) assert.equal((await c.node(n1!).coordinator.execute(put(`key${i}`, `v${i}`, 'all'))).ok, true);
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    const claimant = c.node(n1!).core.membership;
    assert.equal((await claimant.admin({ op: 'stage', change: { kind: 'leave', node: n4! }, force: false })).ok, true);
    assert.equal((await claimant.admin({ op: 'commit' })).ok, true);
    // A node receiving a partition from a peer that serves it (n4 leaving hands its partitions to the others).
    const pairs = c.ids.flatMap((r) => {
      const state = c.node(r).core.membership.state();
      return state.replicas.flatMap((replicas, p) => (state.target[p]!.includes(r) && !replicas.includes(r) ? replicas.map((q) => [r, q] as const) : []));
    });
    assert.ok(pairs.length > 0, 'the commit moves partitions');
    const [r, q] = pairs[0]!;
    const state = c.node(r).core.membership.state();
    const bothServe = state.replicas.filter((replicas) => replicas.includes(r) && replicas.includes(q)).length;
    const report = await c.node(r).core.antiEntropy.exchange(q);
    assert.equal(report.partitionsCompared, bothServe, `${r} compares with ${q} only the partitions both serve, not the ones ${r} receives`);
  });

  it('syncPartition (a transfer\'s check) counts only keys this node lacked; one only the peer lacked is repaired, not counted', async () => {
    const c = fakeCluster(2, { n: 2 });
    const [a, b] = c.ids;
    for (let i = 0; i < 50; i++) assert.equal((await c.node(a!).coordinator.execute(put(`key${i}`, `v${i}`, 'all'))).ok, true);
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    /** A key only `writer` holds: its copy to `other` is lost, and so is the hint the coordinator kept. */
    const only = async (writer: NodeId, other: NodeId, key: string) => {
      c.network.setNode(other, { kind: 'down' });
      assert.equal((await c.node(writer).coordinator.execute(put(key, `new-${key}`, 1))).ok, true);
      c.network.setNode(other, { kind: 'up' });
      for (const h of await c.node(writer).storage.listHints(other, 100)) await c.node(writer).storage.removeHint(h.target, h.key, h.version);
      assert.deepEqual(await text(c, other, key), []);
      return preferenceListForKey(c.ring, key).partition;
    };
    // As when a write reached this node before its peer (the source of a transfer): nothing lacked here.
    const pushed = await only(a!, b!, 'fresh1');
    assert.equal(await c.node(a!).core.antiEntropy.syncPartition(b!, pushed), 0);
    assert.deepEqual(await text(c, b!, 'fresh1'), ['new-fresh1'], 'the peer got it all the same');
    const pulled = await only(b!, a!, 'fresh2');
    assert.equal(await c.node(a!).core.antiEntropy.syncPartition(b!, pulled), 1);
    assert.deepEqual(await text(c, a!, 'fresh2'), ['new-fresh2']);
  });

  it('skips a partition whose tree is removed while the exchange waits for the peer (it was handed away meanwhile)', async () => {
    const c = fakeCluster(2, { n: 2 });
    const [a, b] = c.ids;
    assert.equal((await c.node(a!).coordinator.execute(put('k', 'v', 'all'))).ok, true);
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    const { partition } = preferenceListForKey(c.ring, 'k');
    const exchange = c.node(a!).core.antiEntropy.exchange(b!);
    c.node(a!).core.antiEntropy.removeTree(partition); // before the peer's roots arrive
    const report = await exchange; // was: TypeError reading the removed tree's root
    assert.equal(report.keysRepaired, 0);
  });
});

describe('tombstone reaping', () => {
  const setup = async () => {
    const c = fakeCluster(3, { settings: { tombstoneGraceMs: 5000 } });
    const [p1, p2, p3] = preferenceListForKey(c.ring, 'k').primaries;
    assert.equal((await c.node(p1!).coordinator.execute(put('k', 'v', 'all'))).ok, true);
    return { c, p1: p1!, p2: p2!, p3: p3! };
  };

  it('reaps a tombstone every primary holds, once the grace period has passed', async () => {
    const { c, p1, p2, p3 } = await setup();
    assert.equal((await c.node(p1).coordinator.execute(del('all'))).ok, true);
    assert.equal(await c.node(p1).core.reaper.round(), 0, 'not before the grace period');
    await c.time.advance(5001);
    assert.equal(await c.node(p1).core.reaper.round(), 1);
    for (const p of [p1, p2, p3]) assert.equal(await c.node(p).storage.get('k'), undefined, `${p} reaped`);
  });

  it('never reaps while a primary lacks the tombstone, so the key cannot come back', async () => {
    const { c, p1, p3 } = await setup();
    c.network.setNode(p3, { kind: 'down' });
    assert.equal((await c.node(p1).coordinator.execute(del(2))).ok, true);
    await c.time.advance(60_000);
    c.network.setNode(p3, { kind: 'up' });
    await c.node(p1).storage.listHints(p3, 10).then((hs) => Promise.all(hs.map((h) => c.node(p1).storage.removeHint(h.target, h.key, h.version))));
    assert.equal(await c.node(p1).core.reaper.round(), 0, 'p3 still has the live value');
    const read = await c.node(p1).coordinator.execute(get('k', 'all'));
    assert.ok(read.ok);
    assert.deepEqual(liveValues(read.object, c.time.runtime.wallClockMs()), [], 'the tombstone wins over the stale value');
    await c.time.settle(); // read repair gives p3 the tombstone
    assert.equal(await c.node(p1).core.reaper.round(), 1);
    assert.equal((await c.node(p1).coordinator.execute(get('k', 'all'))).ok && true, true);
    assert.deepEqual(await text(c, p3, 'k'), []);
  });
});

describe('tombstone reaping and hints', () => {
  /** 5 nodes; 'k' written, read and deleted with that context everywhere; the grace long past. */
  const deletedPastGrace = async () => {
    const c = fakeCluster(5, { settings: { tombstoneGraceMs: 5000 } });
    const { primaries, fallbacks } = preferenceListForKey(c.ring, 'k');
    const p1 = primaries[0]!;
    assert.equal((await c.node(p1).coordinator.execute(put('k', 'v', 'all'))).ok, true);
    const read = await c.node(p1).coordinator.execute(get('k', 'all'));
    assert.ok(read.ok);
    assert.equal((await c.node(p1).coordinator.execute(del('all', read.context))).ok, true);
    await c.time.advance(60_000);
    return { c, p1, fallbacks };
  };

  it('waits while any node holds a hint for the key; the hint, older than the grace, is still delivered', async () => {
    const c = fakeCluster(5, { settings: { tombstoneGraceMs: 5000 } });
    const { primaries, fallbacks } = preferenceListForKey(c.ring, 'k');
    const [p1, p2, p3] = primaries as [NodeId, NodeId, NodeId];
    c.network.setNode(p3, { kind: 'down' });
    assert.equal((await c.node(p1).coordinator.execute(put('k', 'old', 3))).ok, true);
    const holder = fallbacks.find((f) => (c.node(f).storage.hintCounts().get(p3) ?? 0) > 0);
    assert.ok(holder, 'a fallback holds the hint for p3');
    c.node(holder).core.handoff.stop(); // holds on to it while p3 is back
    c.network.setNode(p3, { kind: 'up' });
    await redetect(c);
    // The client read 'old' and deletes it; every primary takes the tombstone directly.
    const read = await c.node(p1).coordinator.execute(get('k', 'all'));
    assert.ok(read.ok);
    assert.equal((await c.node(p1).coordinator.execute(del('all', read.context))).ok, true);
    await c.time.advance(60_000);
    assert.equal(await c.node(p1).core.reaper.round(), 0, `${holder} still holds a hint carrying 'old'`);
    for (const p of [p1, p2, p3]) assert.notEqual(await c.node(p).storage.get('k'), undefined, `${p} keeps the tombstone`);

    c.node(holder).core.handoff.start();
    await c.node(holder).core.handoff.round();
    assert.equal(c.node(holder).storage.hintCounts().size, 0, 'delivered, not dropped, although older than the grace');
    assert.deepEqual(await text(c, p3, 'k'), [], 'the tombstone covers the delivered write');
    assert.equal(await c.node(p1).core.reaper.round(), 1);
    for (const id of c.ids) assert.equal(await c.node(id).storage.get('k'), undefined, `${id} has nothing for k`);
  });

  it('waits while a member has a copy of the key in flight (a write that may end in a hint, a repair)', async () => {
    const { c, p1, fallbacks } = await deletedPastGrace();
    let release!: () => void;
    const sending = c.node(fallbacks[1]!).core.replica.sendingWhile('k', new Promise<void>((resolve) => (release = resolve)));
    assert.equal(await c.node(p1).core.reaper.round(), 0);
    release();
    await sending;
    assert.equal(await c.node(p1).core.reaper.round(), 1);
  });

  it('a late copy of a superseded version arriving after the reap stays dead; a concurrent write survives', async () => {
    const c = fakeCluster(3, { settings: { tombstoneGraceMs: 5000 } });
    const [p1, p2] = preferenceListForKey(c.ring, 'k').primaries as [NodeId, NodeId];
    assert.equal((await c.node(p1).coordinator.execute(put('k', 'old', 'all'))).ok, true);
    const old = (await c.node(p2).storage.get('k'))!;
    const read = await c.node(p1).coordinator.execute(get('k', 'all'));
    assert.ok(read.ok);
    assert.equal((await c.node(p1).coordinator.execute(del('all', read.context))).ok, true);
    await c.time.advance(6000);
    assert.equal(await c.node(p1).core.reaper.round(), 1);
    // A duplicated or long-delayed delivery of 'old' (e.g. a hint's) lands on a reaped replica.
    await c.node(p2).core.rpc.handle({ type: 'replicate', key: 'k', object: old });
    assert.equal(await c.node(p2).storage.get('k'), undefined, 'the reaped tombstone still supersedes it');
    // A write the delete never saw is not superseded: it is stored.
    const concurrent = await c.node(p1).coordinator.execute(put('k', 'new', 'all'));
    assert.ok(concurrent.ok);
    assert.deepEqual(await text(c, p2, 'k'), ['new']);
  });

  it('waits while a member that could hold a hint is unreachable', async () => {
    const { c, p1, fallbacks } = await deletedPastGrace();
    c.network.setNode(fallbacks[0]!, { kind: 'down' });
    assert.equal(await c.node(p1).core.reaper.round(), 0);
    c.network.setNode(fallbacks[0]!, { kind: 'up' });
    assert.equal(await c.node(p1).core.reaper.round(), 1);
  });
});

describe('hint bound', () => {
  it('concurrent hint stores never exceed hintsPerPeerMax, also when the engine counts only committed hints (found by the simulator)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvorum-hints-'));
    const storage = SqliteStorage.open({ dir });
    try {
      const c = fakeCluster(3);
      const [a, b] = c.ids;
      const replica = new LocalReplica({ self: a!, storage, ring: () => c.ring, runtime: c.time.runtime, log: silentLogger, metrics: noMetrics, hintsPerPeerMax: 2, reapedMemoryMs: 0 });
      const object = { context: { vv: [], cloud: [] }, siblings: [] };
      const stores = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => replica.storeHint(b!, `key${i}`, object)));
      assert.equal(stores.filter((s) => s.status === 'fulfilled').length, 2);
      assert.equal(storage.hintCounts().get(b!), 2);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
