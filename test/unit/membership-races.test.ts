// Membership races the simulator found (jepsen-like/sim, membership seeds), each shown here on
// the fake network without the simulator.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cancelPartition, incomingOf, movingPartitions, planOf, stage } from '../../src/core/membership-plan.js';
import { checkRingContent } from '../../src/core/ring-state.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import { silentLogger, type Logger } from '../../src/core/ports.js';
import type { ClientOp, QuorumSpec } from '../../src/core/rpc.js';
import { asNodeId, asPartitionId, type NodeId } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

const put = (key: string, w: QuorumSpec = 1): Extract<ClientOp, { op: 'put' }> => ({
  op: 'put', key, data: new TextEncoder().encode('v'), contentType: 'text/plain', context: undefined, w, pw: 0, timeoutMs: 1000,
});

describe('membership races (found by the simulator)', () => {
  it('an anti-entropy exchange survives a partition handed away while it waits on the peer (seeds 32, 34)', async () => {
    const c = fakeCluster(2, { n: 2, partitions: 8 });
    const [a, b] = c.ids as [NodeId, NodeId];
    c.network.setNode(b, { kind: 'down' });
    for (let i = 0; i < 50; i++) await c.node(a).coordinator.execute(put(`key${i}`));
    c.network.setNode(b, { kind: 'slow', delayMs: 20 });
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    const ae = c.node(a).core.antiEntropy;
    const exchange = ae.exchange(b);
    // The drop of a partition removes its tree while the roots are on the wire.
    for (let p = 0; p < 8; p++) ae.removeTree(asPartitionId(p));
    await c.time.advance(100);
    const report = await exchange;
    assert.equal(report.partitionsDiffering, 0, 'nothing left to compare');
  });

  it('removing a dead claimant by force is refused, not thrown, when too few valid members would be left (seed 39)', async () => {
    const c = fakeCluster(3);
    const [n1, n2] = c.ids as [NodeId, NodeId];
    c.network.setNode(n1, { kind: 'down' });
    c.node(n2).core.detector.start();
    await c.time.advance(50);
    assert.equal(c.node(n2).core.detector.isUp(n1), false);
    const outcome = await c.node(n2).core.membership.admin({ op: 'stage', change: { kind: 'remove', node: n1 }, force: true });
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.code, 'membership_refused');
    assert.match(!outcome.ok ? outcome.message : '', /leaves 2 valid members, fewer than N=3/);
    assert.equal(c.node(n2).core.membership.state().claimant, n1, 'nothing changed: n2 did not take over');
  });

  it('a receiver with no live replica to stream from logs a condition, not a bug (seeds 6, 21)', async () => {
    const lines: { node: NodeId; level: string; failure: string | undefined }[] = [];
    const capture = (node: NodeId, level: string) => (fields: object) => void lines.push({ node, level, failure: (fields as { failure?: string }).failure });
    const log = (id: NodeId): Logger => ({ debug: () => {}, info: () => {}, warn: capture(id, 'warn'), error: capture(id, 'error') });
    const c = fakeCluster(5, { partitions: 8, log });
    const n1 = c.ids[0]!;
    const m = c.node(n1).core.membership;
    assert.ok((await m.admin({ op: 'stage', change: { kind: 'leave', node: c.ids[3]! }, force: false })).ok);
    // Every other node is gone as far as the claimant n1 can tell, when it commits.
    for (const id of c.ids) if (id !== n1) c.network.setNode(id, { kind: 'down' });
    c.node(n1).core.detector.isUp = (id) => id === n1;
    const committed = await m.admin({ op: 'commit' });
    assert.ok(committed.ok);
    const receives = Array.from({ length: 8 }, (_, p) => incomingOf(committed.after, asPartitionId(p))).some((incoming) => incoming.includes(n1));
    assert.ok(receives, 'n1 receives a partition of the leaving node');
    await c.time.advance(100);
    const logged = lines.filter((l) => l.node === n1 && l.failure !== undefined);
    assert.ok(logged.some((l) => l.failure === 'peer_unreachable'), 'the failed transfer was logged as an unreachable peer');
    assert.deepEqual(logged.filter((l) => l.level === 'error'), [], 'nothing logged as a bug');
  });

  it('a dead claimant is removed by force even while a plan moves: the remover takes over, the moves can end (seed 74)', async () => {
    const c = fakeCluster(5, { partitions: 8 });
    const [n1, n2, , , n5] = c.ids as [NodeId, NodeId, NodeId, NodeId, NodeId];
    for (let i = 0; i < 50; i++) assert.ok((await c.node(n1).coordinator.execute(put(`key${i}`, 'all'))).ok);
    const m1 = c.node(n1).core.membership;
    assert.ok((await m1.admin({ op: 'stage', change: { kind: 'leave', node: n5 }, force: false })).ok);
    // The leaving node, the receivers' source, stops answering: the committed plan keeps moving.
    c.network.setNode(n5, { kind: 'silent' });
    assert.ok((await m1.admin({ op: 'commit' })).ok);
    await c.time.advance(100);
    assert.ok(movingPartitions(c.node(n2).core.membership.state()).length > 0, 'the plan is moving');
    c.network.setNode(n1, { kind: 'down' });
    c.node(n2).core.detector.isUp = (id) => id !== n1;
    const m2 = c.node(n2).core.membership;
    const taken = await m2.admin({ op: 'stage', change: { kind: 'remove', node: n1 }, force: true });
    assert.ok(taken.ok, !taken.ok ? taken.message : '');
    assert.equal(m2.state().claimant, n2);
    const early = await m2.admin({ op: 'commit' });
    assert.match(!early.ok ? early.message : '', /still moving/, 'the removal waits for the moves');
    assert.ok((await m2.admin({ op: 'cancel' })).ok, 'the new claimant can cancel what cannot finish');
    const committed = await m2.admin({ op: 'commit' });
    assert.ok(committed.ok, !committed.ok ? committed.message : '');
    assert.equal(committed.after.members.find((m) => m.id === n1)?.status, 'removed');
  });

  it('a node stopped while it hands a partition away logs no bug (the next start drops what is left)', async () => {
    const lines: { level: string; failure: string | undefined }[] = [];
    const capture = (level: string) => (fields: object) => void lines.push({ level, failure: (fields as { failure?: string }).failure });
    const c = fakeCluster(4, { partitions: 8, log: (id) => (id === 'n4' ? { debug() {}, info() {}, warn: capture('warn'), error: capture('error') } : silentLogger) });
    const n4 = c.ids[3]!;
    for (let i = 0; i < 50; i++) assert.ok((await c.node(c.ids[0]!).coordinator.execute(put(`key${i}`, 'all'))).ok);
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    // Every call crawls, so n4 is caught handing its partitions away.
    for (const id of c.ids) c.network.setNode(id, { kind: 'slow', delayMs: 20 });
    const m1 = c.node(c.ids[0]!).core.membership;
    assert.ok((await m1.admin({ op: 'stage', change: { kind: 'leave', node: n4 }, force: false })).ok);
    const commit = m1.admin({ op: 'commit' });
    const transfers = c.node(n4).core.transfers;
    const handedOff = async () => {
      let done = false;
      void transfers.handedOff().then(() => (done = true));
      await c.time.settle();
      return done;
    };
    for (let i = 0; i < 500 && (await handedOff()); i++) await c.time.advance(5);
    assert.equal(await handedOff(), false, 'n4 is handing a partition away');
    c.node(n4).core.stop();
    await c.node(n4).storage.close();
    await c.time.advance(5000);
    assert.ok((await commit).ok);
    assert.equal(await handedOff(), true, 'handedOff resolves once the interrupted drops end');
    assert.deepEqual(lines.filter((l) => l.level === 'error'), [], 'nothing logged as a bug');
  });

  it('cancelling the moves of a leave keeps the leaving member serving them: valid again, a ring in shape (found with seed 74)', () => {
    const ids = ['n1', 'n2', 'n3', 'n4'].map(asNodeId);
    const staged = stage(genesisOfIds(ids, 8, 3), { kind: 'leave', node: ids[3]! }, { isUp: () => true, force: false });
    const { content } = planOf(staged);
    const moving = movingPartitions(content);
    assert.ok(moving.length > 0 && content.members.find((m) => m.id === 'n4')?.status === 'leaving');
    const cancelled = moving.reduce(cancelPartition, content);
    assert.doesNotThrow(() => checkRingContent(cancelled));
    assert.deepEqual(movingPartitions(cancelled), []);
    assert.equal(cancelled.members.find((m) => m.id === 'n4')?.status, 'valid', 'n4 still serves partitions: it may not be removed');
  });

  it('a read repair that lands after the partition moved away leaves no stray copy behind (seed 110)', async () => {
    const c = fakeCluster(3);
    const [n1, n2, n3] = c.ids as [NodeId, NodeId, NodeId];
    const value = (text: string): Extract<ClientOp, { op: 'put' }> => ({ ...put('k', 'all'), data: new TextEncoder().encode(text) });
    assert.ok((await c.node(n1).coordinator.execute(value('v1'))).ok);
    c.network.setNode(n1, { kind: 'down' });
    const read = await c.node(n2).coordinator.execute({ op: 'get', key: 'k', r: 2, pr: 0, timeoutMs: 1000 });
    assert.ok(read.ok);
    assert.ok((await c.node(n2).coordinator.execute({ ...value('v2'), w: 2, context: read.context })).ok, 'n1 missed v2');
    c.network.setNode(n1, { kind: 'up' });
    c.network.setNode(n3, { kind: 'slow', delayMs: 50 });
    // n1 answers a read from its stale copy; the repair waits for n3, and meanwhile the partition moves away from n1.
    assert.ok((await c.node(n1).coordinator.execute({ op: 'get', key: 'k', r: 1, pr: 0, timeoutMs: 1000 })).ok);
    c.node(n1).core.transfers.accepts = () => false;
    const before = await c.node(n1).storage.get('k');
    await c.time.advance(200);
    assert.deepEqual(await c.node(n1).storage.get('k'), before, 'n1 wrote nothing into a partition it no longer holds');
  });
});
