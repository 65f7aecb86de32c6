// Membership with real processes (issue 12): a 3-node cluster grows to 5 (two nodes started with
// --join, plan, commit) and shrinks back to 3 (leave, commit; the leaving nodes stop themselves)
// while a writer keeps writing at w=quorum. Every acknowledged key is then readable and held by
// exactly its N replicas, no other node. Bad membership input is refused and changes nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { cliPath } from '../kit/paths.js';
import { freePorts } from '../kit/ports.js';
import { Proc } from '../kit/proc.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { admin, adminOk, assertPlacedExactly, steadyWriter, waitSettled } from '../helpers/membership.js';
import { clusterView, waitAllUp } from '../helpers/convergence.js';

const run = promisify(execFile);
const secret = 'membership-test';
const settleMs = 60_000;
const fast = ['--gossip-interval-ms', '200', '--anti-entropy-interval-ms', '1000', '--probe-interval-ms', '250', '--log-level', 'warn'];
let cluster: TestCluster | undefined;

describe('membership: grow 3 -> 5 and shrink 5 -> 3 under writes', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, secret, extraArgs: fast });
    await waitAllUp(cluster);
  });
  after(async () => cluster?.stop());

  it('moves partitions to joining nodes and away from leaving ones, losing no acknowledged write', async () => {
    const c = cluster!;
    await withLogs(c.logs, async () => {
      const writer = steadyWriter(() => c.nodes, 'grow');
      await c.join('n4', c.node('n2').url);
      await c.join('n5', c.node('n3').url);
      const plan = (await run(process.execPath, [cliPath, 'admin', 'plan', '--url', c.node('n1').url])).stdout;
      assert.match(plan, /changes: join n4, join n5/);
      assert.match(plan, /n4 +valid +0 -> 3[89]/);
      assert.match(plan, /claimed owners moved: (\d+) \(the fewest possible: \1\)/);
      const committed = await adminOk(c.node('n3'), 'POST', '/admin/commit', {});
      assert.ok(committed.partitionsMoving > 0, 'the commit moves partitions');
      const grown = await waitSettled(c.nodes, settleMs);
      assert.deepEqual(grown.members.map((m) => `${m.id}:${m.membership}`), ['n1:valid', 'n2:valid', 'n3:valid', 'n4:valid', 'n5:valid']);
      const shares = ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => grown.ring.filter((p) => p.owners.includes(id)).length);
      assert.ok(shares.every((s) => s >= 36 && s <= 40), `every member serves about 3/5 of 64 partitions: ${shares}`);

      await adminOk(c.node('n1'), 'POST', '/admin/leave', { node: 'n4' });
      await adminOk(c.node('n2'), 'POST', '/admin/leave', { node: 'n5' });
      await adminOk(c.node('n5'), 'POST', '/admin/commit', {});
      await Promise.all(['n4', 'n5'].map(async (id) => assert.equal((await c.node(id).waitExit(settleMs)).code, 0, `${id} stops itself once removed`)));
      await writer.stop();
      const shrunk = await waitSettled(c.nodes, settleMs);
      assert.deepEqual(shrunk.members.map((m) => m.id), ['n1', 'n2', 'n3']);
      assert.ok(writer.acked.length > 100, `the writer kept writing (${writer.acked.length} acknowledged, ${writer.failures()} failed)`);
      await assertPlacedExactly(c, shrunk, writer.acked);
      const [port] = await freePorts(1);
      // Restarted on its old data (as after a crash right after it learned of its removal), a removed
      // node opens no port: it hands over what it still holds and stops, saying how to bring it back.
      const restart = new Proc('n4-restarted', [cliPath, 'start', '--id', 'n4', '--listen', `127.0.0.1:${port}`, '--data-dir', c.node('n4').dataDir, '--secret', secret]);
      const restarted = await restart.waitExit(20_000).finally(() => restart.kill('SIGKILL'));
      const output = restart.logs();
      assert.equal(restarted.code, 0, 'a removed node restarted on its old data stops by itself');
      assert.match(output, /n4 was removed from the cluster: it hands over what it still holds, then stops; to bring it back, start it with an empty --data-dir and --join/);
      assert.doesNotMatch(output, /node ready/, 'it did not serve');
      assert.deepEqual((await clusterView(c.node('n1'))).members.map((m) => m.id), ['n1', 'n2', 'n3'], 'the cluster is as it was');
    });
  });

  it('refuses bad membership input with a clear error and changes nothing', async () => {
    const c = cluster!;
    const before = (await clusterView(c.node('n1'))).ringVersion;
    const refused = async (path: string, body: object, pattern: RegExp) => {
      const { status, json } = await admin(c.node('n2'), 'POST', path, body);
      assert.equal(status, 409, `${path} ${JSON.stringify(body)}: ${JSON.stringify(json)}`);
      assert.equal(json.error, 'membership_refused');
      assert.match(json.message, pattern);
    };
    await refused('/admin/commit', {}, /nothing is staged/);
    await refused('/admin/join', { node: 'n9' }, /n9 is not a member/);
    await refused('/admin/remove', { node: 'n3' }, /n3 is up/);
    await refused('/admin/leave', { node: 'n3' }, /leaves 2 valid members, fewer than N=3/);
    assert.equal((await admin(c.node('n2'), 'POST', '/admin/leave', { nod: 'n3' })).status, 400, 'a malformed body is a bad request');
    assert.equal((await clusterView(c.node('n1'))).ringVersion, before, 'nothing changed');
  });

  it('refuses a node joining with another partition count or a taken id; it exits 2 and says why', async () => {
    const c = cluster!;
    const tryJoin = async (id: string, extra: string[]) => {
      const [port] = await freePorts(1);
      const args = [cliPath, 'start', '--id', id, '--listen', `127.0.0.1:${port}`, '--data-dir', join(dirname(c.node('n1').dataDir), `${id}-refused`), '--join', c.node('n1').url, '--secret', secret, ...extra];
      return run(process.execPath, args, { timeout: 20_000 }).then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => err);
    };
    const otherQ = await tryJoin('n7', ['--partitions', '128']);
    assert.equal(otherQ.code, 2);
    assert.match(otherQ.stderr, /the cluster has 64 partitions and N=3; the joining node was started with 128/);
    const taken = await tryJoin('n2', []);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /node id n2 is already taken/);
  });
});
