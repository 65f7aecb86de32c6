// Sloppy quorum with durable hinted handoff (Dynamo section 4.6): with two of a key's three
// primaries down, a w=3 write is taken by the live primary plus the first two fallbacks, which
// keep it as hints; the hints survive a crash of their holder; once the owners are back the hints
// are delivered and deleted. Anti-entropy runs only every 600 s and nothing reads the key, so
// handoff is the only way the value can reach the restarted primaries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import {
  assertPlacement,
  findKey,
  hintsHeldBy,
  memberView,
  metricValue,
  replicaCopy,
  ringOf,
  singleValue,
  type KeyPlacement,
  waitAllUp,
} from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const kv = (n: TestNode, key: string, query: string) => `${n.url}/kv/${encodeURIComponent(key)}?${query}`;

async function killAndWait(n: TestNode): Promise<void> {
  assert.ok(n.running(), `${n.id} is running before the kill`);
  n.kill('SIGKILL');
  const exit = await n.waitExit(5000);
  assert.equal(exit.signal, 'SIGKILL');
}

/** Hints for each target, summed over `holders`. */
async function hintsFor(holders: readonly TestNode[]): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const h of holders) for (const [target, count] of Object.entries(await hintsHeldBy(h))) total[target] = (total[target] ?? 0) + count;
  return total;
}

describe('hinted handoff (5 nodes, N=3, sloppy quorum)', () => {
  before(async () => {
    cluster = await startCluster({
      nodes: 5,
      n: 3,
      extraArgs: ['--handoff-interval-ms', '200', '--probe-interval-ms', '200', '--anti-entropy-interval-ms', '600000'],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('fallbacks keep hints across a crash and hand them off once the primaries are back', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const ring = ringOf(cluster!, 3);
      const k: KeyPlacement = findKey(ring, 'hh', () => true);
      const [p1, p2, p3] = k.primaries.map((id) => cluster!.node(id)) as [TestNode, TestNode, TestNode];
      const [f1, f2] = k.fallbacks.map((id) => cluster!.node(id)) as [TestNode, TestNode];
      assert.equal(k.fallbacks.length, 2);
      await assertPlacement(p1, k);
      // A second key with the same primaries, for the pw=3 write (a blind write to K would add a sibling).
      const k2 = findKey(ring, 'hh-pw', (p) => p.primaries.join() === k.primaries.join());

      await waitAllUp(cluster!); // start-up probes may have found peers not yet listening

      await Promise.all([killAndWait(p2), killAndWait(p3)]);
      await waitFor(async () => (await memberView(p1, p2.id)).status === 'down' && (await memberView(p1, p3.id)).status === 'down', {
        timeoutMs: 10_000,
        what: `${p1.id} to see ${p2.id} and ${p3.id} down`,
      });

      // w=3 is met by P1 and the two fallbacks (sloppy quorum).
      const put = await http('PUT', kv(p1, k.key, 'w=3'), { body: 'handed-off', headers: { 'content-type': 'text/plain' } });
      assert.equal(put.status, 204, `PUT w=3 with two primaries down: ${put.status} ${put.text()}`);
      assert.equal(put.headers.get('x-kvorum-node'), p1.id);
      assert.equal(singleValue(await replicaCopy(p1, k.key)), 'handed-off', `${p1.id} stored the write`);

      // Each fallback holds a hint for one of the dead primaries; P1 holds none.
      const onFallbacks = await hintsFor([f1, f2]);
      assert.ok((onFallbacks[p2.id] ?? 0) >= 1, `a fallback holds a hint for ${p2.id}: ${JSON.stringify(onFallbacks)}`);
      assert.ok((onFallbacks[p3.id] ?? 0) >= 1, `a fallback holds a hint for ${p3.id}: ${JSON.stringify(onFallbacks)}`);
      assert.deepEqual(await hintsHeldBy(p1), {}, `${p1.id} keeps no hints (the fallbacks took them)`);
      const stored = (await metricValue(f1, 'kvorum_hints_stored_total')) + (await metricValue(f2, 'kvorum_hints_stored_total'));
      assert.ok(stored >= 2, `kvorum_hints_stored_total on the fallbacks: ${stored}`);
      const pendingGauge =
        (await metricValue(f1, 'kvorum_hints_pending', { peer: p2.id })) + (await metricValue(f2, 'kvorum_hints_pending', { peer: p2.id }));
      assert.ok(pendingGauge >= 1, `kvorum_hints_pending{peer="${p2.id}"} on the fallbacks: ${pendingGauge}`);

      // pw=3 needs three primaries: refused, in bounded time.
      const started = performance.now();
      const strict = await http('PUT', kv(p1, k2.key, 'w=3&pw=3&timeout=1000'), { body: 'needs-primaries' });
      assert.equal(strict.status, 503, `PUT w=3&pw=3 with two primaries down: ${strict.status} ${strict.text()}`);
      assert.equal(strict.json<{ error: string }>().error, 'quorum_unavailable');
      assert.equal(strict.json<{ required: number }>().required, 3);
      assert.ok(performance.now() - started < 2000, 'the pw=3 refusal came within timeout + 1 s');

      // The holder of P2's hint crashes and restarts from its data dir: the hint is still there.
      const holder = (await hintsHeldBy(f1))[p2.id] ? f1 : f2;
      const heldBefore = await hintsHeldBy(holder);
      await killAndWait(holder);
      await holder.restart();
      const heldAfter = await hintsHeldBy(holder);
      assert.deepEqual(heldAfter, heldBefore, `${holder.id}'s hints survived SIGKILL + restart`);
      assert.ok((heldAfter[p2.id] ?? 0) >= 1);

      // The owners come back: within 20 s both hold the value and no node keeps any hint.
      await Promise.all([p2.restart(), p3.restart()]);
      await waitFor(
        async () => {
          for (const owner of [p2, p3]) if (singleValue(await replicaCopy(owner, k.key)) !== 'handed-off') return false;
          for (const n of cluster!.nodes) if (Object.keys(await hintsHeldBy(n)).length > 0) return false;
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: `${p2.id} and ${p3.id} to receive the hinted write and every hint to be deleted` },
      );
      const reference = await replicaCopy(p1, k.key);
      for (const owner of [p2, p3]) assert.deepEqual(await replicaCopy(owner, k.key), reference, `${owner.id}'s copy equals ${p1.id}'s`);
      for (const n of cluster!.nodes) {
        const view = await hintsHeldBy(n);
        assert.deepEqual(view, {}, `${n.id} keeps no hints`);
        assert.equal(await metricValue(n, 'kvorum_hints_pending'), 0, `kvorum_hints_pending on ${n.id} is 0`);
        assert.equal(await metricValue(n, 'kvorum_ae_exchanges_total'), 0, `no anti-entropy exchange ran on ${n.id}`);
      }
      let delivered = 0;
      for (const n of cluster!.nodes) delivered += await metricValue(n, 'kvorum_hints_delivered_total');
      assert.ok(delivered >= 2, `kvorum_hints_delivered_total over the cluster: ${delivered}`);
    }));
});
