// Forwarding (docs/api.md section 2, "Defaults and headers"): a node that is not a replica of the key
// forwards to a primary, and X-Kvorum-Node names the node that coordinated.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterView } from '../../src/api/views.js';
import { createRing, partitionOf } from '../../src/core/ring.js';
import type { NodeId } from '../../src/core/types.js';
import { http } from '../kit/http.js';
import { waitAllUp } from '../helpers/convergence.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';

let cluster: TestCluster | undefined;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));


/** The first key `prefix-i` whose primaries (per the node's /cluster ring) exclude `receiver`. */
function keyNotReplicatedBy(view: ClusterView, receiver: string, prefix: string): { key: string; owners: readonly string[] } {
  const ring = createRing(view.members.map((m) => m.id as NodeId), view.partitions, view.n);
  for (let i = 0; i < 1000; i++) {
    const key = `${prefix}-${i}`;
    const owners = view.ring[partitionOf(ring, key)]!.owners;
    if (!owners.includes(receiver)) return { key, owners };
  }
  throw new Error(`no key among 1000 avoids ${receiver}`);
}

describe('forwarding (4 nodes, N=2)', () => {
  let view: ClusterView;
  let receiver: TestNode;

  before(async () => {
    cluster = await startCluster({ nodes: 4, n: 2 });
    // A member not yet seen up is skipped for a fallback: w=2 could then be met by a hint, not both primaries.
    await waitAllUp(cluster);
    receiver = cluster.nodes[0]!;
    view = (await http('GET', `${receiver.url}/cluster`)).json<ClusterView>();
  });
  after(async () => {
    await cluster?.stop();
  });

  test('/cluster: N=2 owners per partition, the same ring on every node', async () => {
    assert.equal(view.n, 2);
    assert.equal(view.members.length, 4);
    for (const entry of view.ring) {
      assert.equal(entry.owners.length, 2);
      assert.equal(new Set(entry.owners).size, 2);
    }
    for (const n of cluster!.nodes.slice(1)) {
      const other = (await http('GET', `${n.url}/cluster`)).json<ClusterView>();
      assert.deepEqual(other.ring, view.ring, `${n.id}'s ring`);
    }
  });

  test('PUT and GET through a non-replica succeed; X-Kvorum-Node names a primary, not the receiver', async () => {
    for (const [i, w] of ['1', '2', 'quorum', 'all'].entries()) {
      const { key, owners } = keyNotReplicatedBy(view, receiver.id, `fwd${i}`);
      const put = await http('PUT', `${receiver.url}/kv/${key}?w=${w}`, { body: `forwarded ${w}`, headers: { 'content-type': 'text/x-fwd' } });
      assert.equal(put.status, 204, `PUT ${key} w=${w} via ${receiver.id}: ${put.status} ${put.text()}`);
      const putNode = put.headers.get('x-kvorum-node');
      assert.ok(putNode && owners.includes(putNode), `PUT coordinated by ${putNode}; primaries are ${owners.join(',')}`);
      assert.ok(put.headers.get('x-kvorum-context'), 'a forwarded PUT returns the context');

      const get = await http('GET', `${receiver.url}/kv/${key}?r=${w}`);
      assert.equal(get.status, 200, `GET ${key} via ${receiver.id}: ${get.status} ${get.text()}`);
      assert.equal(get.body.toString('utf8'), `forwarded ${w}`);
      assert.equal(get.headers.get('content-type'), 'text/x-fwd');
      assert.ok(get.headers.get('x-kvorum-context'));
      const getNode = get.headers.get('x-kvorum-node');
      assert.ok(getNode && owners.includes(getNode), `GET coordinated by ${getNode}; primaries are ${owners.join(',')}`);

      if (w === 'all' || w === '2') {
        // Both primaries hold it: each answers r=1 itself (it is a replica, so it coordinates).
        for (const owner of owners) {
          const n = cluster!.node(owner);
          const res = await http('GET', `${n.url}/kv/${key}?r=1`);
          assert.equal(res.status, 200, `GET r=1 via primary ${owner}`);
          assert.equal(res.headers.get('x-kvorum-node'), owner);
          assert.equal(res.body.toString('utf8'), `forwarded ${w}`);
        }
      }
    }
  });

  test('forwarded siblings, context writes, deletes and not_found behave as on a replica', async () => {
    const { key, owners } = keyNotReplicatedBy(view, receiver.id, 'fwd-ctx');
    const other = cluster!.nodes.find((n) => n.id !== receiver.id && !owners.includes(n.id))!;
    assert.equal((await http('PUT', `${receiver.url}/kv/${key}?w=all`, { body: 'a' })).status, 204);
    assert.equal((await http('PUT', `${other.url}/kv/${key}?w=all`, { body: 'b' })).status, 204);
    const siblings = await http('GET', `${receiver.url}/kv/${key}?r=all`);
    assert.equal(siblings.status, 300);
    const body = siblings.json<{ context: string; siblings: { value: string }[] }>();
    assert.deepEqual(body.siblings.map((s) => Buffer.from(s.value, 'base64').toString('utf8')).sort(), ['a', 'b']);
    assert.ok(owners.includes(siblings.headers.get('x-kvorum-node')!));

    const merged = await http('PUT', `${receiver.url}/kv/${key}?w=all`, { body: 'ab', headers: { 'x-kvorum-context': body.context } });
    assert.equal(merged.status, 204);
    const read = await http('GET', `${other.url}/kv/${key}?r=all`);
    assert.equal(read.status, 200);
    assert.equal(read.body.toString('utf8'), 'ab');

    const del = await http('DELETE', `${receiver.url}/kv/${key}?w=all`, { headers: { 'x-kvorum-context': read.headers.get('x-kvorum-context')! } });
    assert.equal(del.status, 204);
    assert.ok(owners.includes(del.headers.get('x-kvorum-node')!));
    const gone = await http('GET', `${receiver.url}/kv/${key}?r=all`);
    assert.equal(gone.status, 404);
    assert.equal(gone.json().error, 'not_found');
    assert.ok(gone.headers.get('x-kvorum-context'), 'the tombstone context survives forwarding');
    assert.ok(owners.includes(gone.headers.get('x-kvorum-node')!));

    const { key: fresh, owners: freshOwners } = keyNotReplicatedBy(view, receiver.id, 'fwd-none');
    const missing = await http('GET', `${receiver.url}/kv/${fresh}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-kvorum-context'), null);
    assert.ok(freshOwners.includes(missing.headers.get('x-kvorum-node')!), 'a forwarded 404 names the primary that coordinated');
  });

  test('quorum bounds are N=2: w=3 is 400 invalid_quorum, returnbody works when forwarded', async () => {
    const { key, owners } = keyNotReplicatedBy(view, receiver.id, 'fwd-bounds');
    const tooMany = await http('PUT', `${receiver.url}/kv/${key}?w=3`, { body: 'x' });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json().error, 'invalid_quorum');
    const rb = await http('PUT', `${receiver.url}/kv/${key}?w=all&returnbody=true`, { body: 'rb', headers: { 'content-type': 'text/plain' } });
    assert.equal(rb.status, 200);
    assert.equal(rb.body.toString('utf8'), 'rb');
    assert.ok(owners.includes(rb.headers.get('x-kvorum-node')!));
  });

  test('with the first primary killed, a non-replica forwards to the next primary (w=1 / r=1)', async () => {
    const { key, owners } = keyNotReplicatedBy(view, receiver.id, 'fwd-down');
    const [first, second] = owners as [string, string];
    const victim = cluster!.node(first);
    victim.kill('SIGKILL');
    await victim.waitExit(5000);
    const put = await http('PUT', `${receiver.url}/kv/${key}?w=1&timeout=1000`, { body: 'second' });
    assert.equal(put.status, 204, `PUT w=1 with ${first} down: ${put.status} ${put.text()}`);
    assert.equal(put.headers.get('x-kvorum-node'), second);
    const get = await http('GET', `${receiver.url}/kv/${key}?r=1&timeout=1000`);
    assert.equal(get.status, 200, `GET r=1 with ${first} down: ${get.status} ${get.text()}`);
    assert.equal(get.body.toString('utf8'), 'second');
    assert.equal(get.headers.get('x-kvorum-node'), second);
    // Sloppy quorum: a fallback stands in for the dead primary, so w=all is met...
    const all = await http('PUT', `${receiver.url}/kv/${key}?w=all&timeout=1000`, { body: 'x' });
    assert.equal(all.status, 204, `w=all through a fallback: ${all.status} ${all.text()}`);
    // ...unless the client insists on primaries.
    const strict = await http('PUT', `${receiver.url}/kv/${key}?w=all&pw=all&timeout=1000`, { body: 'x' });
    assert.equal(strict.status, 503, 'pw=all cannot be met with a primary down');
    assert.equal(strict.json().error, 'quorum_unavailable');
    assert.equal(strict.json().required, 2);
  });
});
