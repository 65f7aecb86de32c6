// Tombstones and reaping without resurrection: a key deleted while one replica (X) is down keeps
// its tombstone on the live primaries past the grace period, because X does not hold it; when X
// comes back with the old live value on disk, repair gives X the tombstone (the deleted value never
// comes back to a quorum read), and only then is the tombstone reaped everywhere. And a key written
// again after its reap starts a new version history: a context from before the delete cannot
// overwrite the new value unseen (Riak's KV679).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { sleep, waitFor } from '../kit/wait.js';
import { findKey, isTombstone, metricValue, replicaCopy, ringOf, singleValue, waitAllUp } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const graceMs = 1500;
const kv = (n: TestNode, key: string, query: string) => `${n.url}/kv/${encodeURIComponent(key)}?${query}`;

/**
 * Reads `key` with quorum reads (r=all and r=2, through every running node in turn) until stopped,
 * recording every status. Quorum overlap means no such read may ever see the deleted value: any 200
 * or 300 is a resurrection.
 */
function watchForResurrection(nodes: readonly TestNode[], key: string) {
  const seen = new Map<number, number>();
  const resurrections: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const node = nodes[i % nodes.length]!;
      const r = i % 2 === 0 ? 'all' : '2';
      if (node.running()) {
        try {
          const res = await http('GET', kv(node, key, `r=${r}&timeout=1000`), { timeoutMs: 3000 });
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          if (res.status === 200 || res.status === 300) {
            resurrections.push(`${new Date().toISOString()} GET r=${r} via ${node.id} -> ${res.status} ${res.text().slice(0, 200)}`);
          }
        } catch {
          // a node restarting: not a resurrection
        }
      }
      await sleep(50);
    }
  })();
  return {
    seen,
    resurrections,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

describe('tombstones (3 nodes, N=3, grace 1.5 s)', () => {
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      extraArgs: [
        '--tombstone-grace-ms', String(graceMs),
        '--anti-entropy-interval-ms', '100',
        '--handoff-interval-ms', '200',
        '--probe-interval-ms', '200',
      ],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a delete missed by a down replica is not reaped early and never resurrects', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const ring = ringOf(cluster!, 3);
      // X is not the first primary: the first primary drives reaping, so it stays alive and must
      // hold off on its own because X lacks the tombstone.
      const k = findKey(ring, 'ts', () => true);
      const [lead, other, x] = k.primaries.map((id) => cluster!.node(id)) as [TestNode, TestNode, TestNode];
      const live = [lead, other];

      await waitAllUp(cluster!); // start-up probes may have found peers not yet listening

      const put = await http('PUT', kv(lead, k.key, 'w=all'), { body: 'alive', headers: { 'content-type': 'text/plain' } });
      assert.equal(put.status, 204, `PUT w=all: ${put.status} ${put.text()}`);
      assert.equal(singleValue(await replicaCopy(x, k.key)), 'alive');

      x.kill('SIGKILL');
      assert.equal((await x.waitExit(5000)).signal, 'SIGKILL');

      const read = await http('GET', kv(lead, k.key, 'r=2'));
      assert.equal(read.status, 200, `GET r=2 before the delete: ${read.status} ${read.text()}`);
      const context = read.headers.get('x-kvorum-context');
      assert.ok(context, 'the read returns a context');
      const del = await http('DELETE', kv(lead, k.key, 'w=2'), { headers: { 'x-kvorum-context': context } });
      assert.equal(del.status, 204, `DELETE w=2 with ${x.id} down: ${del.status} ${del.text()}`);
      const deletedAt = Date.now();

      const watcher = watchForResurrection(cluster!.nodes, k.key);
      try {
        // Past the grace period (3x), the live primaries keep the tombstone: X does not hold it.
        while (Date.now() - deletedAt < 3 * graceMs) {
          for (const n of live) {
            const copy = await replicaCopy(n, k.key);
            assert.ok(isTombstone(copy), `${n.id} still holds the tombstone ${Date.now() - deletedAt} ms after the delete: ${JSON.stringify(copy)}`);
          }
          await sleep(100);
        }
        for (const n of live) assert.equal(await metricValue(n, 'kvorum_tombstones_reaped_total'), 0, `${n.id} reaped nothing while ${x.id} was down`);
        const deferred = await metricValue(lead, 'kvorum_tombstones_reap_deferred_total');
        assert.ok(deferred > 0, `${lead.id}, which drives reaping, counted the tombstone as deferred (${deferred})`);
        const r2 = await http('GET', kv(other, k.key, 'r=2'));
        assert.equal(r2.status, 404, `GET r=2 while ${x.id} is down: ${r2.status} ${r2.text()}`);

        // X comes back with the old live value on disk.
        await x.restart();

        // X's copy becomes the tombstone. (It may already be reaped when we look: a reap needs X to
        // have held exactly that tombstone, and then counts in X's kvorum_tombstones_reaped_total.)
        let sawTombstoneOnX = false;
        await waitFor(
          async () => {
            const copy = await replicaCopy(x, k.key);
            if (isTombstone(copy)) sawTombstoneOnX = true;
            assert.ok(copy === undefined || isTombstone(copy) || singleValue(copy) === 'alive', `${x.id}'s copy is the old value, the tombstone or nothing: ${JSON.stringify(copy)}`);
            return copy === undefined || isTombstone(copy);
          },
          { timeoutMs: 10_000, intervalMs: 20, what: `${x.id}'s copy to become the tombstone` },
        );

        // Then the tombstone is reaped on every primary.
        await waitFor(
          async () => {
            for (const n of cluster!.nodes) if ((await replicaCopy(n, k.key)) !== undefined) return false;
            return true;
          },
          { timeoutMs: 20_000, intervalMs: 100, what: 'the tombstone to be reaped on all three nodes' },
        );
        let reaped = 0;
        for (const n of cluster!.nodes) reaped += await metricValue(n, 'kvorum_tombstones_reaped_total');
        assert.ok(reaped > 0, `kvorum_tombstones_reaped_total over the cluster > 0, got ${reaped}`);
        const reapedOnX = await metricValue(x, 'kvorum_tombstones_reaped_total');
        assert.ok(sawTombstoneOnX || reapedOnX > 0, `${x.id} held the tombstone (seen: ${sawTombstoneOnX}, reaped there: ${reapedOnX})`);

        // Still gone for quorum reads after reaping, and it stays reaped (nothing brings it back).
        for (const n of cluster!.nodes) {
          const res = await http('GET', kv(n, k.key, 'r=all'));
          assert.equal(res.status, 404, `GET r=all via ${n.id} after reaping: ${res.status} ${res.text()}`);
        }
        await sleep(1000);
        for (const n of cluster!.nodes) assert.equal(await replicaCopy(n, k.key), undefined, `${n.id} still holds no copy 1 s after reaping`);
      } finally {
        await watcher.stop();
      }
      assert.deepEqual(watcher.resurrections, [], 'no quorum read ever returned the deleted value');
      assert.ok((watcher.seen.get(404) ?? 0) > 0, `the watcher saw 404s: ${JSON.stringify([...watcher.seen])}`);
    }));

  it('after a reap, a writer holding a context from before the delete cannot erase a new value it never saw', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      await waitAllUp(cluster!);
      const k = findKey(ringOf(cluster!, 3), 'kv679', () => true);
      const lead = cluster!.node(k.primaries[0]!); // every write through one coordinator: one actor
      const write = async (body: string, context?: string) => {
        const headers: Record<string, string> = { 'content-type': 'text/plain', ...(context ? { 'x-kvorum-context': context } : {}) };
        const res = await http('PUT', kv(lead, k.key, 'w=all'), { body, headers });
        assert.equal(res.status, 204, `PUT ${body}: ${res.status} ${res.text()}`);
      };
      await write('before-delete');
      const stale = (await http('GET', kv(lead, k.key, 'r=all'))).headers.get('x-kvorum-context');
      assert.ok(stale, 'the read returns a context');
      const del = await http('DELETE', kv(lead, k.key, 'w=all'), { headers: { 'x-kvorum-context': stale } });
      assert.equal(del.status, 204, `DELETE: ${del.status} ${del.text()}`);
      await waitFor(
        async () => {
          for (const n of cluster!.nodes) if ((await replicaCopy(n, k.key)) !== undefined) return false;
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'the tombstone to be reaped on all three nodes' },
      );

      await write('reborn'); // a new writer, no context
      await write('stale-writer', stale); // the old reader comes back with its context
      const res = await http('GET', kv(lead, k.key, 'r=all'));
      assert.equal(res.status, 300, `both values are siblings: the stale context did not cover 'reborn': ${res.status} ${res.text()}`);
      const values = res.json<{ siblings: { value: string }[] }>().siblings.map((s) => Buffer.from(s.value, 'base64').toString('utf8'));
      assert.deepEqual(values.sort(), ['reborn', 'stale-writer']);
    }));
});
