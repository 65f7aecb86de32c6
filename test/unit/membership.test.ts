// Membership on the fake network. A node whose ring says it was removed stops (node/node.ts); it
// must first hand the ring that removes it to a member that stays. Found by a jepsen-like run
// with the membership nemesis (seed 101): the claimant left; the switch of its last partition
// removed it and named a new claimant, it stopped at once, its push of that ring was cut, and the
// others kept a ring with one partition moving forever and the gone node as claimant (every
// membership change then answered claimant_unreachable; r=all reads of that partition failed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { movingPartitions } from '../../src/core/membership-plan.js';
import type { RingState } from '../../src/core/ring-state.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

const statusOf = (ring: RingState, id: NodeId) => ring.members.find((m) => m.id === id)?.status;

describe('membership', () => {
  it('a claimant that leaves hands the ring that removes it to a member that stays before it stops', async () => {
    const c = fakeCluster(4, { n: 3 });
    const n1 = c.node(asNodeId('n1'));
    assert.equal(n1.core.membership.state().claimant, n1.id);
    // What node.ts does once the ring says this node was removed: hand the ring over, then stop.
    let stopping = false;
    n1.core.membership.onChange((_ring, state) => {
      if (stopping || statusOf(state, n1.id) !== 'removed') return;
      stopping = true;
      void n1.core.membership.handOver().then(() => c.network.halt(n1.id));
    });
    assert.equal((await n1.core.membership.admin({ op: 'stage', change: { kind: 'leave', node: n1.id }, force: false })).ok, true);
    assert.equal((await n1.core.membership.admin({ op: 'commit' })).ok, true);
    await c.time.advance(5000);
    assert.equal(stopping, true, 'n1 was removed');
    for (const id of ['n2', 'n3', 'n4'].map(asNodeId)) {
      const ring = c.node(id).core.membership.state();
      assert.equal(statusOf(ring, n1.id), 'removed', `${id} knows n1 is gone`);
      assert.notEqual(ring.claimant, n1.id, `${id} has the new claimant`);
      assert.deepEqual(movingPartitions(ring), [], `${id}: nothing moves`);
    }
  });
});
