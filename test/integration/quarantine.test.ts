// A node whose SQLite file holds a row it cannot decode still starts: the row is moved to the
// quarantine table, logged and counted, and anti-entropy restores the key from the other replicas.
// Nothing reads the key through the client API, so no read repair can have helped.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import type { ReplicaCopyView } from '../../src/api/views.js';
import { hintsHeldBy, mapLimit, memberView, metricValue, replicaCopy, waitAllUp } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const keys = Array.from({ length: 20 }, (_, i) => `q-${i}`);
const [atStart, atRunTime] = ['q-0', 'q-1'];
const hinted = 'q-hinted';
const garbage = Buffer.from('definitely not msgpack \xff\xc1');
// The stored array form, except that a value's data is a string where bytes belong.
const stringData = Buffer.from(new Packr({ useRecords: false }).pack([2, [['a.1', 1]], [], [['a.1', 1, 'not bytes', 'text/plain']]]));
const restoreDeadlineMs = 20_000;

const put = (n: TestNode, key: string, value: string, query: string) =>
  http('PUT', `${n.url}/kv/${encodeURIComponent(key)}?${query}`, { body: value, headers: { 'content-type': 'text/plain' } });

/** Runs `fn` on a second connection to `node`'s database (the node may be running: WAL allows it). */
function onDisk<T>(node: TestNode, fn: (db: Database.Database) => T): T {
  const db = new Database(join(node.dataDir, 'kvorum.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const quarantined = (node: TestNode) =>
  onDisk(node, (db) => db.prepare<[], { kind: string; target: string | null; key: string }>('SELECT kind, target, key FROM quarantine ORDER BY id').all());

async function stop(node: TestNode): Promise<void> {
  node.kill('SIGTERM');
  assert.deepEqual(await node.waitExit(15_000), { code: 0, signal: null }, `${node.id} stopped cleanly`);
}

/** Polls until `node`'s own copy of `key` exists and equals every other running node's copy; returns it. */
async function restored(node: TestNode, key: string): Promise<ReplicaCopyView> {
  const others = cluster!.nodes.filter((n) => n !== node && n.running());
  let last = '';
  return waitFor(
    async () => {
      const copies = await Promise.all([node, ...others].map((n) => replicaCopy(n, key)));
      last = JSON.stringify(copies);
      const [mine, ...theirs] = copies;
      return mine !== undefined && theirs.every((c) => JSON.stringify(c) === JSON.stringify(mine)) ? mine : undefined;
    },
    { timeoutMs: restoreDeadlineMs, intervalMs: 100, what: `${node.id} to hold ${key} again, as the others do` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; copies (${node.id} first): ${last}`);
  });
}

describe('storage quarantine (3 nodes, N=3, AE every 200 ms)', () => {
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      extraArgs: ['--anti-entropy-interval-ms', '200', '--handoff-interval-ms', '200', '--probe-interval-ms', '200'],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a node with a corrupt object row and a corrupt hint starts, quarantines both, and gets the key back by anti-entropy', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const [a, b, x] = cluster!.nodes as [TestNode, TestNode, TestNode];
      await waitAllUp(cluster!);
      await mapLimit(keys, 8, async (key) => {
        const res = await put(a, key, `value of ${key}`, 'w=all');
        assert.equal(res.status, 204, `PUT ${key} w=all: ${res.status} ${res.text()}`);
      });
      // A second, concurrent write (no context): the key to be corrupted holds two siblings.
      assert.equal((await put(b, atStart, 'concurrent', 'w=all')).status, 204);
      const before = await replicaCopy(a, atStart);
      assert.equal(before?.siblings.length, 2);

      // With B down and no fallback (3 nodes, N=3), X keeps a hint for B.
      await stop(b);
      await waitFor(async () => (await memberView(x, b.id)).status === 'down', { what: `${x.id} to see ${b.id} down` });
      const hintedPut = await put(x, hinted, 'for b', 'w=2');
      assert.equal(hintedPut.status, 204, `PUT ${hinted} w=2 with ${b.id} down: ${hintedPut.status} ${hintedPut.text()}`);
      await waitFor(async () => (await hintsHeldBy(x))[b.id] === 1, { what: `${x.id} to hold a hint for ${b.id}` });

      await stop(x);
      onDisk(x, (db) => {
        assert.equal(db.prepare('UPDATE objects SET object = ? WHERE key = ?').run(garbage, atStart).changes, 1);
        assert.equal(db.prepare('UPDATE hints SET object = ? WHERE target = ? AND key = ?').run(stringData, b.id, hinted).changes, 1);
      });

      // Before the fix the tree rebuild threw on the row and X never became healthy. Trees are
      // persisted now, so start-up reads no row: the first read of it (here, or a reaper scan) meets it.
      await x.restart();
      await replicaCopy(x, atStart);
      assert.equal(await metricValue(x, 'kvorum_storage_quarantined_total', { kind: 'object' }), 1);
      await waitFor(
        () => x.logs().split('\n').some((l) => l.includes('"level":50') && l.includes(`"key":"${atStart}"`) && l.includes('quarantined')),
        { what: `${x.id}'s log to carry the error line for ${atStart}` },
      );
      assert.deepEqual(await restored(x, atStart), before, `${x.id}'s copy of ${atStart} is back with both siblings`);

      // The hint is met when X hands off to B, once B is back: quarantined, not delivered.
      await b.restart();
      await waitFor(async () => (await metricValue(x, 'kvorum_storage_quarantined_total', { kind: 'hint' })) === 1, {
        what: `${x.id} to quarantine the hint for ${b.id}`,
      });
      await waitFor(async () => (await hintsHeldBy(x))[b.id] === undefined, { what: `${x.id} to count no hint for ${b.id}` });
      assert.equal((await restored(b, hinted)).siblings.length, 1, `${b.id} got ${hinted} from anti-entropy instead`);
      // In either order: the hint may be met first (a handoff attempt right after the restart, before
      // the detector has seen B down) or the object first (its read above).
      assert.deepEqual(
        quarantined(x).sort((p, q) => p.kind.localeCompare(q.kind)),
        [
          { kind: 'hint', target: b.id, key: hinted },
          { kind: 'object', target: null, key: atStart },
        ],
      );

      let readRepairs = 0;
      for (const n of cluster!.nodes) readRepairs += await metricValue(n, 'kvorum_read_repairs_total');
      assert.equal(readRepairs, 0, 'no read repair happened (no client read)');
    }));

  it('a row found corrupt at run time leaves the Merkle tree too, so anti-entropy restores it', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const x = cluster!.nodes[2]!;
      const before = await replicaCopy(x, atRunTime);
      assert.ok(before, `${x.id} holds ${atRunTime}`);
      const quarantinedBefore = await metricValue(x, 'kvorum_storage_quarantined_total', { kind: 'object' });
      onDisk(x, (db) => assert.equal(db.prepare('UPDATE objects SET object = ? WHERE key = ?').run(garbage, atRunTime).changes, 1));

      // X's own copy (no quorum, no repair) meets the row: it reads as absent.
      assert.equal(await replicaCopy(x, atRunTime), undefined);
      assert.equal(await metricValue(x, 'kvorum_storage_quarantined_total', { kind: 'object' }), quarantinedBefore + 1);
      // Had the tree kept counting the key, its root would still match the peers' and nothing
      // would ever repair it.
      assert.deepEqual(await restored(x, atRunTime), before);
    }));
});
