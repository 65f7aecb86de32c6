// Membership under faults, with real processes (issue 12): a transfer whose source is SIGKILLed
// finishes from another replica, a receiver SIGKILLed mid-transfer resumes from its last page
// (not from zero), a cancelled transfer leaves the old replicas serving everything, and a replace
// and a remove end with every acknowledged key on exactly its replicas.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { clusterView, mapLimit, metricValue, waitAllUp } from '../helpers/convergence.js';
import { admin, adminOk, assertPlacedExactly, waitSettled } from '../helpers/membership.js';

const settleMs = 90_000;
// 8 partitions of ~500 keys: each takes two pages, so a transfer can be caught between pages.
const partitions = 8;
const keyCount = 4000;
const slowBytesPerSecond = 32 * 1024;
const fast = ['--gossip-interval-ms', '200', '--anti-entropy-interval-ms', '1000', '--probe-interval-ms', '250', '--log-level', 'warn'];
let cluster: TestCluster | undefined;
const keys = Array.from({ length: keyCount }, (_, i) => `mf-${i}`);

interface Progress {
  readonly partition: number;
  readonly state: string;
  readonly from: string;
  readonly keys: number;
}

const transfersOf = async (node: TestNode): Promise<Progress[]> => (await adminOk(node, 'GET', '/admin/transfers/local')).transfers;
const streamingOn = async (node: TestNode) => (await transfersOf(node)).find((t) => t.state === 'streaming' && t.keys > 0);
/** Keys this process of `node` has received in transfers. */
const keysReceived = (node: TestNode) => metricValue(node, 'kvorum_transfer_keys_total');

async function joinSlowly(c: TestCluster, id: string): Promise<TestNode> {
  return c.join(id, c.node('n1').url, ['--transfer-bytes-per-second', String(slowBytesPerSecond), '--transfer-concurrency', '1']);
}

interface ShownTransfer extends Progress {
  readonly to: string;
  readonly keysTotal: number | null;
  readonly keysPerSecond: number;
  readonly etaSeconds: number | null;
}

/** `GET /admin/transfers` (any member) shows n4's transfer of `partition` with its total from the plan and an ETA at its rate. */
async function assertTransferShown(member: TestNode, partition: number, plan: { transfers: { partition: number; to: string; keys: number | null }[] }) {
  const view = await adminOk(member, 'GET', '/admin/transfers');
  const shown = (view.transfers as ShownTransfer[]).find((t) => t.partition === partition && t.to === 'n4');
  assert.ok(shown, `partition ${partition} to n4 is listed: ${JSON.stringify(view)}`);
  const planned = plan.transfers.find((t) => t.partition === partition && t.to === 'n4')!.keys!;
  assert.equal(shown.keysTotal, planned, 'the partition\'s key count, as the plan gave it (nothing writes meanwhile)');
  assert.ok(shown.keysTotal !== null);
  if (shown.state === 'streaming' && shown.keysPerSecond > 0) {
    assert.equal(shown.etaSeconds, Math.ceil(Math.max(0, shown.keysTotal - shown.keys) / shown.keysPerSecond), `ETA at its rate: ${JSON.stringify(shown)}`);
    assert.ok(typeof view.etaSeconds === 'number' && view.keysLeft >= shown.keysTotal - shown.keys, `overall: ${view.keysLeft} keys left, ETA ${view.etaSeconds}`);
  }
}

describe('membership under faults', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, extraArgs: [...fast, '--partitions', String(partitions)] });
    await waitAllUp(cluster);
    await mapLimit(keys, 16, async (key) => {
      const res = await http('PUT', `${cluster!.node('n1').url}/kv/${key}?w=all`, { body: `value of ${key}`.padEnd(100, '.') });
      assert.equal(res.status, 204);
    });
  });
  after(async () => cluster?.stop());

  it('a transfer survives its source and its receiver being SIGKILLed, resuming from the last page kept', async () => {
    const c = cluster!;
    await withLogs(c.logs, async () => {
      const n4 = await joinSlowly(c, 'n4');
      const plan = await adminOk(c.node('n2'), 'GET', '/admin/plan');
      await adminOk(c.node('n2'), 'POST', '/admin/commit', {});
      const streaming = await waitFor(() => streamingOn(n4), { timeoutMs: 20_000, intervalMs: 100, what: 'n4 streaming a partition' });
      await assertTransferShown(c.node('n3'), streaming.partition, plan);
      // The source dies mid-stream: the next attempt takes the partition from another replica.
      const source = c.node(streaming.from);
      source.kill('SIGKILL');
      await source.waitExit(5000);
      const receivedThen = await keysReceived(n4);
      await waitFor(async () => (await keysReceived(n4)) > receivedThen + 100, { timeoutMs: 30_000, what: 'n4 streaming again from another replica' });
      await source.restart();
      // The receiver dies mid-transfer: it comes back from the pages it made durable.
      const interrupted = await waitFor(() => streamingOn(n4), { timeoutMs: 20_000, intervalMs: 100, what: 'n4 streaming a partition' });
      const receivedByFirstProcess = await keysReceived(n4);
      n4.kill('SIGKILL');
      await n4.waitExit(5000);
      await n4.restart();
      // Seen again before it finishes, it carries on from the pages kept (checked below for every partition, by the keys fetched).
      const resumed = await waitFor(
        async () => (await transfersOf(n4)).find((t) => t.partition === interrupted.partition) ?? ((await clusterView(n4)).ring[interrupted.partition]!.pending.includes('n4') ? undefined : 'switched'),
        { timeoutMs: 20_000, intervalMs: 100, what: `n4 taking partition ${interrupted.partition} up again` },
      );
      if (resumed !== 'switched') assert.ok(resumed.keys >= interrupted.keys, `partition ${interrupted.partition} resumed at ${resumed.keys} keys, not from zero (had ${interrupted.keys})`);
      await adminOk(n4, 'PUT', '/admin/transfer-limits', { bytesPerSecond: 64 * 1024 * 1024, concurrency: 4 });
      const settled = await waitSettled(c.nodes, settleMs);
      const refetched = receivedByFirstProcess + (await keysReceived(n4));
      // Each interruption may fetch one page (256 keys) again; a restart from zero would refetch everything.
      assert.ok(refetched <= plan.keysMoving + 3 * 256, `n4 fetched ${refetched} keys for ${plan.keysMoving} to move`);
      await assertPlacedExactly(c, settled, keys);
    });
  });

  it('a cancelled transfer leaves the old replicas serving everything, and the receiver drops what it got', async () => {
    const c = cluster!;
    await withLogs(c.logs, async () => {
      const before = await clusterView(c.node('n1'));
      const n5 = await joinSlowly(c, 'n5');
      await adminOk(c.node('n3'), 'POST', '/admin/commit', {});
      await waitFor(async () => (await keysReceived(n5)) > 0, { timeoutMs: 20_000, what: 'n5 receiving' });
      const cancelled = await adminOk(c.node('n2'), 'POST', '/admin/transfers/cancel', {});
      assert.equal(cancelled.partitionsMoving, 0);
      assert.ok(cancelled.partitionsCancelled.length > 0, 'some partitions were still moving');
      const settled = await waitSettled(c.nodes, settleMs);
      for (const p of cancelled.partitionsCancelled as number[]) {
        assert.deepEqual(settled.ring[p]!.owners, before.ring[p]!.owners, `cancelled partition ${p} is served by its replicas from before the commit`);
      }
      await waitFor(async () => (await adminOk(n5, 'GET', '/admin/transfers/local')).dropping.length === 0, { timeoutMs: 20_000, what: 'n5 done dropping what it received' });
      await assertPlacedExactly(c, settled, keys);
    });
  });

  it('replace and remove end with every key on exactly its replicas', async () => {
    const c = cluster!;
    await withLogs(c.logs, async () => {
      const n6 = await c.join('n6', c.node('n2').url);
      await adminOk(c.node('n1'), 'POST', '/admin/replace', { node: 'n4', by: 'n6' });
      const plan = await adminOk(c.node('n1'), 'GET', '/admin/plan');
      assert.deepEqual(plan.changes, [{ kind: 'replace', node: 'n4', by: 'n6' }]);
      await adminOk(c.node('n1'), 'POST', '/admin/commit', {});
      assert.equal((await c.node('n4').waitExit(settleMs)).code, 0, 'the replaced node stops itself');
      const replaced = await waitSettled(c.nodes, settleMs);
      assert.ok(replaced.ring.every((p) => !p.owners.includes('n4')));
      await assertPlacedExactly(c, replaced, keys);

      const n5 = c.node('n5');
      n5.kill('SIGKILL');
      await n5.waitExit(5000);
      const removal = await waitFor(async () => {
        const res = await admin(c.node('n2'), 'POST', '/admin/remove', { node: 'n5' });
        return res.status === 200 ? res : undefined;
      }, { timeoutMs: 20_000, what: 'the claimant to see n5 down and stage its removal' });
      assert.equal(removal.json.staged[0].kind, 'remove');
      await adminOk(c.node('n2'), 'POST', '/admin/commit', {});
      const removed = await waitSettled(c.nodes, settleMs);
      assert.deepEqual(removed.members.map((m) => m.id).sort(), ['n1', 'n2', 'n3', 'n6']);
      await assertPlacedExactly(c, removed, keys);
    });
  });
});
