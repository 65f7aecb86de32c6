// Partition transfers on the fake network: each partition a node receives is streamed once, even
// when transfer rounds overlap (a ring change, a limits change and the timer each start one).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientOp } from '../../src/core/rpc.js';
import type { NodeId } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

const put = (key: string): ClientOp => ({ op: 'put', key, data: new TextEncoder().encode(key), contentType: 'text/plain', context: undefined, w: 'all', pw: 0, timeoutMs: 1000 });

describe('transfers', () => {
  it('starts each partition once when two rounds overlap (found by the membership bench: a node received 4 partitions twice)', async () => {
    const c = fakeCluster(4, { n: 3, partitions: 16 });
    const [n1, , , n4] = c.ids;
    for (let i = 0; i < 200; i++) assert.equal((await c.node(n1!).coordinator.execute(put(`key${i}`))).ok, true);
    for (const id of c.ids) await c.node(id).core.antiEntropy.rebuild();
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
