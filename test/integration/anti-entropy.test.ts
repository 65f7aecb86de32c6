// Merkle anti-entropy (Dynamo section 4.7): a node that lost its whole disk comes back empty with
// the same id and is refilled by tree exchanges with its peers alone: no client read (so no read
// repair) and no write while it was away (so no hints) can have helped.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import type { ReplicaCopyView } from '../../src/api/views.js';
import { mapLimit, metricValue, replicaCopy, singleValue, waitAllUp } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const keyCount = 300;
const keys = Array.from({ length: keyCount }, (_, i) => `ae-${i}`);
const valueOf = (key: string) => `value of ${key}`;

describe('anti-entropy (3 nodes, N=3, AE every 100 ms)', () => {
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      extraArgs: ['--anti-entropy-interval-ms', '100', '--handoff-interval-ms', '200', '--probe-interval-ms', '200'],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a node restarted with an empty data dir is refilled without any client read', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const [a, b, x] = cluster!.nodes as [TestNode, TestNode, TestNode];
      // A node probes its peers as it starts, possibly before they listen, and holds them "down"
      // until its next probe (before commit 928facf that made w=all below fail with 503 right after
      // every node answered /health; see detector-recovery.test.ts). Start from a settled view.
      await waitAllUp(cluster!);

      await mapLimit(keys, 16, async (key) => {
        const res = await http('PUT', `${a.url}/kv/${key}?w=all`, { body: valueOf(key), headers: { 'content-type': 'text/plain' } });
        assert.equal(res.status, 204, `PUT ${key} w=all: ${res.status} ${res.text()}`);
      });

      x.kill('SIGKILL');
      assert.equal((await x.waitExit(5000)).signal, 'SIGKILL');
      await x.restart({ wipeData: true });
      assert.ok(existsSync(x.dataDir), `${x.id} recreated its data dir`);
      const repairedBefore = (await Promise.all([a, b].map((n) => metricValue(n, 'kvorum_ae_keys_repaired_total')))).reduce((s, v) => s + v, 0);
      assert.equal(repairedBefore, 0, 'no anti-entropy repair was needed before the wipe (writes were w=all)');

      // Poll X's own copies only (GET /replica is not a quorum read and repairs nothing).
      let missing = [...keys];
      const started = performance.now();
      await waitFor(
        async () => {
          const present = await mapLimit(missing, 16, async (key) => (await replicaCopy(x, key)) !== undefined);
          missing = missing.filter((_, i) => !present[i]);
          return missing.length === 0;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${x.id} to hold every key again` },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; still missing ${missing.length}/${keyCount}: ${missing.slice(0, 10).join(', ')}`);
      });
      const refillMs = performance.now() - started;

      // Every copy on X equals the others' copies.
      await mapLimit(keys, 16, async (key) => {
        const copies = (await Promise.all([x, a, b].map((n) => replicaCopy(n, key)))) as (ReplicaCopyView | undefined)[];
        assert.equal(singleValue(copies[0]), valueOf(key), `${x.id}'s value of ${key}`);
        assert.deepEqual(copies[0], copies[1], `${key}: ${x.id}'s copy equals ${a.id}'s`);
        assert.deepEqual(copies[0], copies[2], `${key}: ${x.id}'s copy equals ${b.id}'s`);
      });

      let repaired = 0;
      let readRepairs = 0;
      for (const n of cluster!.nodes) {
        repaired += await metricValue(n, 'kvorum_ae_keys_repaired_total');
        readRepairs += await metricValue(n, 'kvorum_read_repairs_total');
        assert.ok((await metricValue(n, 'kvorum_ae_exchanges_total')) > 0, `anti-entropy exchanges ran on ${n.id}`);
      }
      assert.ok(repaired >= keyCount, `kvorum_ae_keys_repaired_total over the cluster >= ${keyCount}, got ${repaired}`);
      assert.equal(readRepairs, 0, 'no read repair happened (no client read)');
      const bytes = (await Promise.all(cluster!.nodes.map((n) => metricValue(n, 'kvorum_ae_payload_bytes_total')))).reduce((s, v) => s + v, 0);
      assert.ok(bytes > 0, `kvorum_ae_payload_bytes_total > 0, got ${bytes}`);
      console.log(`${x.id} refilled ${keyCount} keys in ${refillMs.toFixed(0)} ms; ${repaired} AE key repairs, ${bytes} AE payload bytes`);
    }));
});
