// A primary that is back up must not be refused writes because a coordinator's failure detector
// still remembers it as down. The detector is "advice, never proof" (failure-detector.ts): a
// write to a peer marked down goes to a fallback, but when there is no fallback (3 nodes, N=3) the
// coordinator should still try the primary rather than answer 503 while every replica is healthy.
//
// Regression test: before commit 928facf, Coordinator.replicateSlot skipped a primary whose
// detector status was 'down' and, with no live fallback, failed the slot without calling it. A
// status only returns to 'up' on the next probe (every --probe-interval-ms) or a successful call,
// so for up to one probe interval after a replica came back (and right after cluster start-up,
// since FailureDetector.start() probes before the peers listen) w=all was answered 503 with every
// node healthy; test/integration/faults.test.ts failed intermittently that way ("healthy baseline
// write": PUT w=all -> 503 {"required":3,"acked":1}). The probe interval is 60 s here, so the
// coordinator's stale "down" lasts the whole test and the old behaviour fails deterministically.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { memberView } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const kv = (n: TestNode, key: string, query: string) => `${n.url}/kv/${encodeURIComponent(key)}?${query}`;

describe('failure detector recovery (3 nodes, N=3, probe every 60 s)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, extraArgs: ['--probe-interval-ms', '60000', '--anti-entropy-interval-ms', '600000'] });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a w=all write through a coordinator that saw a replica fail succeeds once the replica is back', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const [c, y, x] = cluster!.nodes as [TestNode, TestNode, TestNode];
      // Warm-up: a read through each node reaches every replica, and a successful replica call
      // marks the peer up (the start-up probe may have run before the peers listened).
      await waitFor(
        async () => {
          for (const n of cluster!.nodes) {
            if ((await http('GET', kv(n, `warmup-${n.id}`, 'r=all&timeout=1000'))).status !== 404) return false;
          }
          for (const n of cluster!.nodes) for (const m of cluster!.nodes) if ((await memberView(n, m.id)).status !== 'up') return false;
          return true;
        },
        { timeoutMs: 10_000, intervalMs: 200, what: 'every node to see every member up' },
      );

      x.kill('SIGKILL');
      assert.equal((await x.waitExit(5000)).signal, 'SIGKILL');
      // C's replica call to X is refused: C marks X down.
      const put = await http('PUT', kv(c, 'fd-1', 'w=2'), { body: 'one down' });
      assert.equal(put.status, 204, `PUT w=2 with ${x.id} down: ${put.status} ${put.text()}`);
      assert.equal((await memberView(c, x.id)).status, 'down');

      await x.restart();
      // Every node is healthy again. Y never saw X fail: its w=all write succeeds.
      const viaY = await http('PUT', kv(y, 'fd-2', 'w=all&timeout=1000'), { body: 'all back' });
      assert.equal(viaY.status, 204, `PUT w=all via ${y.id}: ${viaY.status} ${viaY.text()}`);
      // C still remembers X as down; it should nonetheless try X (no fallback exists) and succeed.
      const viaC = await http('PUT', kv(c, 'fd-3', 'w=all&timeout=1000'), { body: 'all back' });
      assert.equal(
        viaC.status,
        204,
        `PUT w=all via ${c.id} with all three nodes healthy (${c.id} sees ${x.id} as ${(await memberView(c, x.id)).status}): ${viaC.status} ${viaC.text()}`,
      );
    }));
});
