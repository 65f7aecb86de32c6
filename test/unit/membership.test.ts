// Membership on the fake network. A node whose ring says it was removed stops (node/node.ts); it
// must first hand the ring that removes it to a member that stays. Found by a jepsen-like run
// with the membership nemesis (seed 101): the claimant left; the switch of its last partition
// removed it and named a new claimant, it stopped at once, its push of that ring was cut, and the
// others kept a ring with one partition moving forever and the gone node as claimant (every
// membership change then answered claimant_unreachable; r=all reads of that partition failed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { movingPartitions } from '../../src/core/membership-plan.js';
import { sameDigest, type RingState } from '../../src/core/ring-state.js';
import type { RpcRequest } from '../../src/core/rpc.js';
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

  it('gossip sends the version clocks first: a settled cluster exchanges no ring, a stale node pulls a change and pushes back one it alone has', async () => {
    const c = fakeCluster(4, { n: 3, partitions: 256 });
    /** Every gossip call, as [receiver, the request carried a ring, the answer carried one]. */
    const calls: [NodeId, boolean, boolean][] = [];
    for (const id of c.ids) {
      const handle = c.network.handlers.get(id)!;
      c.network.handlers.set(id, async (r: RpcRequest) => {
        const reply = await handle(r);
        if (r.type === 'ringGossip' && reply.type === 'ring') calls.push([id, r.ring !== undefined, reply.ring !== undefined]);
        return reply;
      });
    }
    const membership = (id: string) => c.node(asNodeId(id)).core.membership;
    const ringBytes = JSON.stringify(membership('n1').state()).length;
    for (const id of c.ids) await membership(id).gossipOnce();
    assert.deepEqual(calls.map(([, sent, answered]) => [sent, answered]), c.ids.map(() => [false, false]), `a settled round carries no ring (one is ${ringBytes} bytes)`);

    // n4 misses the claimant's push of a change: it pulls it at its next round.
    c.network.setNode(asNodeId('n4'), { kind: 'down' });
    assert.equal((await membership('n1').admin({ op: 'stage', change: { kind: 'leave', node: asNodeId('n3') }, force: false })).ok, true);
    await c.time.advance(100); // the claimant's pushes to the others land
    c.network.setNode(asNodeId('n4'), { kind: 'up' });
    calls.length = 0;
    await membership('n4').gossipOnce();
    assert.deepEqual(calls.map(([, sent, answered]) => [sent, answered]), [[false, true]], 'n4 sent its digest and got the newer ring back');
    assert.ok(sameDigest(membership('n4').state(), membership('n1').state()));

    // n2 misses a change again; n1's rounds push it: n2 answers with its stale ring, then takes n1's.
    c.network.setNode(asNodeId('n2'), { kind: 'down' });
    assert.equal((await membership('n1').admin({ op: 'clear' })).ok, true);
    await c.time.advance(100);
    c.network.setNode(asNodeId('n2'), { kind: 'up' });
    calls.length = 0;
    for (let round = 0; round < 50 && !sameDigest(membership('n2').state(), membership('n1').state()); round++) await membership('n1').gossipOnce();
    assert.ok(sameDigest(membership('n2').state(), membership('n1').state()), 'n2 has the change');
    const toN2 = calls.filter(([to]) => to === 'n2').map(([, sent, answered]) => [sent, answered]);
    assert.deepEqual(toN2, [[false, true], [true, false]], 'digest, stale ring back, then the ring pushed');
    assert.ok(calls.filter(([to]) => to !== 'n2').every(([, sent, answered]) => !sent && !answered), 'no ring to or from the nodes that had it');
  });

  it('the id of a removed member may join again (as a new node, from an empty data directory); a member\'s id may not', async () => {
    const c = fakeCluster(4, { n: 3 });
    const claimant = c.node(asNodeId('n1')).core.membership;
    assert.equal((await claimant.admin({ op: 'stage', change: { kind: 'leave', node: asNodeId('n4') }, force: false })).ok, true);
    assert.equal((await claimant.admin({ op: 'commit' })).ok, true);
    for (let i = 0; i < 100 && statusOf(claimant.state(), asNodeId('n4')) !== 'removed'; i++) await c.time.advance(200);
    assert.equal(statusOf(claimant.state(), asNodeId('n4')), 'removed');
    const register = (id: string, url: string) => claimant.admin({ op: 'register', id: asNodeId(id), url, partitions: 16, n: 3 });
    const taken = await register('n3', 'http://10.0.0.3:7001');
    assert.ok(!taken.ok && /node id n3 is already taken \(valid/.test(taken.message), JSON.stringify(taken));
    const again = await register('n4', 'http://10.0.0.9:7001');
    assert.ok(again.ok, JSON.stringify(again));
    assert.deepEqual(again.after.members.filter((m) => m.id === 'n4'), [{ id: 'n4', url: 'http://10.0.0.9:7001', status: 'joining' }]);
    assert.deepEqual(again.after.staged, [{ kind: 'join', node: 'n4' }]);
  });
});
