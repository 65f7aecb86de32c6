// Transfers on the fake network. A late copy of a partition handed away is refused (found by a
// jepsen-like run with the membership nemesis); overlapping rounds start each partition once (found
// by the membership bench). transfers-stop.test.ts has the ones about logging and stopping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { partitionOf } from '../../src/core/ring.js';
import type { ClientOp } from '../../src/core/rpc.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

const put = (key: string): Extract<ClientOp, { op: 'put' }> => ({
  op: 'put', key, data: new TextEncoder().encode('v'), contentType: 'text/plain', context: undefined, w: 'quorum', pw: 0, timeoutMs: 1000,
});
const putAll = (key: string): ClientOp => ({ ...put(key), w: 'all' });

describe('transfers', () => {
  it('a copy that arrives for a partition the node has handed away is refused, leaving no stray row', async () => {
    const c = fakeCluster(4, { n: 3 });
    const claimant = c.node(asNodeId('n1')).core.membership;
    const n4 = c.node(asNodeId('n4'));
    const held = n4.core.membership.state().replicas.flatMap((r, p) => (r.includes(n4.id) ? [p] : []));
    assert.equal((await claimant.admin({ op: 'stage', change: { kind: 'leave', node: n4.id }, force: false })).ok, true);
    assert.equal((await claimant.admin({ op: 'commit' })).ok, true);
    await c.time.advance(3000);
    // A partition n4 held and, as its own ring says, has handed away (and dropped).
    const ring = n4.core.membership.state();
    const p = held.find((q) => !ring.replicas[q]!.includes(n4.id) && !ring.target[q]!.includes(n4.id));
    assert.ok(p !== undefined, 'n4 handed a partition away');
    const key = Array.from({ length: 5000 }, (_, i) => `k${i}`).find((k) => partitionOf(n4.core.membership.ring(), k) === p)!;
    const written = await c.node(asNodeId('n1')).coordinator.execute(put(key));
    assert.equal(written.ok, true);
    const object = (await c.node(ring.replicas[p]![0]!).storage.get(key))!;
    // A late arrival: a transfer page, an anti-entropy or read repair, a handoff whose check was made before the move.
    const outcome = await n4.core.replica.merge(key, object).then(() => 'stored', (err: { code?: string }) => err.code);
    assert.equal(outcome, 'not_replica');
    assert.equal(await n4.storage.get(key), undefined, 'no row outside the ring');
  });

  it('a conditional write whose partition moved away during its read answers unavailable, writing nothing (found by the simulator, seed 66)', async () => {
    const c = fakeCluster(4, { n: 3 });
    const claimant = c.node(asNodeId('n1')).core.membership;
    const n4 = c.node(asNodeId('n4'));
    const before = n4.core.membership.state();
    const key = Array.from({ length: 5000 }, (_, i) => `k${i}`).find((k) => before.replicas[partitionOf(n4.core.membership.ring(), k)]!.includes(n4.id))!;
    // The other replicas answer n4's read of the key only once the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    for (const id of c.ids.filter((i) => i !== n4.id)) {
      const handle = c.network.handlers.get(id)!;
      c.network.handlers.set(id, async (r) => {
        if ((r.type === 'read' || r.type === 'readDigest') && r.key === key) await gate;
        return handle(r);
      });
    }
    const answer = n4.coordinator.execute({ ...put(key), condition: { kind: 'absent' }, timeoutMs: 10_000 }).then(
      (result) => result,
      (err: Error) => err,
    );
    // Meanwhile n4 leaves and hands the key's partition away.
    assert.equal((await claimant.admin({ op: 'stage', change: { kind: 'leave', node: n4.id }, force: false })).ok, true);
    assert.equal((await claimant.admin({ op: 'commit' })).ok, true);
    await c.time.advance(3000);
    const p = partitionOf(n4.core.membership.ring(), key);
    assert.ok(!n4.core.membership.state().replicas[p]!.includes(n4.id), 'n4 handed the partition away');
    open();
    await c.time.advance(100);
    const result = await answer;
    assert.ok(!(result instanceof Error), `answered with a result, not a throw: ${String(result)}`);
    assert.deepEqual(result.ok ? 'written' : result.code, 'quorum_unavailable');
    assert.equal(await n4.storage.get(key), undefined, 'no row outside the ring');
  });

  it('starts each partition once when two rounds overlap (found by the membership bench: a node received 4 partitions twice)', async () => {
    const c = fakeCluster(4, { n: 3, partitions: 16 });
    const [n1, , , n4] = c.ids;
    for (let i = 0; i < 200; i++) assert.equal((await c.node(n1!).coordinator.execute(putAll(`key${i}`))).ok, true);
    for (const id of c.ids) await c.node(id).core.antiEntropy.takeUpTrees();
    // First pages asked for, by partition (n4 leaving: each of its partitions has one receiver).
    const firstPages = new Map<number, number>();
    for (const id of c.ids) {
      const handle = c.network.handlers.get(id)!;
      c.network.handlers.set(id, (r) => {
        if (r.type === 'transferPage' && r.afterKey === undefined) firstPages.set(r.partition, (firstPages.get(r.partition) ?? 0) + 1);
        return handle(r);
      });
    }
    // One partition at a time, and slowly (the byte budget makes each next page wait about a second).
    const limits = { concurrency: 1, bytesPerSecond: 1024 };
    for (const id of c.ids) c.node(id).core.transfers.setLimits(limits);
    const claimant = c.node(n1!).core.membership;
    assert.equal((await claimant.admin({ op: 'stage', change: { kind: 'leave', node: n4! }, force: false })).ok, true);
    assert.equal((await claimant.admin({ op: 'commit' })).ok, true);
    const state = claimant.state();
    const receivers = c.ids.filter((id: NodeId) => state.target.filter((t, p) => t.includes(id) && !state.replicas[p]!.includes(id)).length >= 3);
    assert.ok(receivers.length > 0, 'some node receives several partitions');
    await c.time.advance(10); // every node has the ring; each receiver is through its first partition and waits on the second
    // Two rounds at once on every receiver, each free to start one more partition.
    for (const id of receivers) {
      c.node(id).core.transfers.setLimits({ ...limits, concurrency: 2 });
      c.node(id).core.transfers.setLimits({ ...limits, concurrency: 2 });
    }
    for (let i = 0; i < 50; i++) await c.time.advance(200);
    const twice = [...firstPages].filter(([, n]) => n > 1).map(([p, n]) => `partition ${p}: ${n} times`);
    assert.deepEqual(twice, [], 'no partition is streamed from its first page more than once');
  });
});
