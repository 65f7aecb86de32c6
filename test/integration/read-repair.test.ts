// Read repair (Dynamo section 4.6/5): a replica that missed a write is brought up to date by the
// coordinator of a later read that asked it, after the read has answered its client. A read asks
// `r` replicas (and a spare only if one fails or is slow), so the read here is `r=all`: with r=2 it
// may ask only C, and then it is anti-entropy's job to bring X up to date.
//
// 3 nodes, N=3: every node is a primary of every key. C = n1 coordinates the write, Y = n2
// coordinates the read, X = n3 misses the write.
//
// How X is made to miss the write, and why only read repair can fix it afterwards:
// - A request sent to a SIGSTOPped process is not lost: the kernel accepts the connection and
//   buffers the bytes, and the process handles the request when it gets SIGCONT, although the
//   sender timed out long before. (Observed: a first version wrote `w=2&timeout=300` while X was
//   stopped, and X applied that timed-out replica write right after SIGCONT.) Nor can C be made to
//   skip X: a coordinator tries a primary it believes down when no fallback took the write (3
//   nodes: there is none). So X is SIGSTOPped while C writes (C sees a stalled replica whose call
//   times out, the "paused, not crashed" case) and then SIGKILLed while still stopped, which
//   discards the buffered request, and restarted from its data dir: it holds the old value.
// - The coordinator would keep a hint for X and hand it off when X is back, racing the read.
//   Every node runs with `--hints-per-peer-max 0`, so C refuses to keep it
//   (kvorum_hints_refused_total, asserted) and no node holds any hint. Anti-entropy runs every
//   600 s, i.e. never during the test (kvorum_ae_exchanges_total stays 0, asserted).
// - After the restart we wait until C and Y see X up and check X's copy is still the old value:
//   from then on only the read can repair it. One `GET r=all` through Y must bring X's own copy
//   (/replica/kv/K) to the new value and count in Y's kvorum_read_repairs_total.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { sleep, waitFor } from '../kit/wait.js';
import { clusterView, hintsHeldBy, metricValue, replicaCopy, singleValue, waitAllUp } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const kv = (n: TestNode, key: string, query: string) => `${n.url}/kv/${encodeURIComponent(key)}?${query}`;

describe('read repair (3 nodes, N=3, SIGSTOP then SIGKILL)', () => {
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      extraArgs: ['--anti-entropy-interval-ms', '600000', '--handoff-interval-ms', '200', '--probe-interval-ms', '200', '--hints-per-peer-max', '0'],
    });
  });
  after(async () => {
    // A stopped X is SIGCONTed (or killed) in the test's finally; stop() SIGKILLs, which also ends a stopped process.
    await cluster?.stop();
  });

  it('a read through another node that asks every replica repairs the one that missed the write', () =>
    withLogs(() => cluster?.logs() ?? '', async () => {
      const [c, y, x] = cluster!.nodes as [TestNode, TestNode, TestNode];
      const key = 'rr-key';

      const seesUp = async (observer: TestNode, member: TestNode) =>
        (await clusterView(observer)).members.find((m) => m.id === member.id)?.status === 'up';
      await waitAllUp(cluster!); // start-up probes may have found peers not yet listening

      // v1 everywhere.
      const put1 = await http('PUT', kv(c, key, 'w=all'), { body: 'v1', headers: { 'content-type': 'text/plain' } });
      assert.equal(put1.status, 204, `PUT v1 w=all: ${put1.status} ${put1.text()}`);
      const context1 = put1.headers.get('x-kvorum-context');
      assert.ok(context1, 'PUT returns X-Kvorum-Context');
      for (const n of cluster!.nodes) assert.equal(singleValue(await replicaCopy(n, key)), 'v1', `${n.id} holds v1 after w=all`);

      const xPid = x.pid();
      assert.ok(xPid !== undefined, 'X runs');
      const refusedBefore = await metricValue(c, 'kvorum_hints_refused_total');
      process.kill(xPid, 'SIGSTOP');
      try {
        const put2 = await http('PUT', kv(c, key, 'w=2&timeout=500'), {
          body: 'v2',
          headers: { 'content-type': 'text/plain', 'x-kvorum-context': context1 },
        });
        assert.equal(put2.status, 204, `PUT v2 w=2 with X stopped: ${put2.status} ${put2.text()}`);
        assert.equal(put2.headers.get('x-kvorum-node'), c.id);
        // C's call to X times out at the 500 ms deadline; C then tries to keep a hint and is refused.
        await waitFor(async () => (await metricValue(c, 'kvorum_hints_refused_total')) > refusedBefore, {
          timeoutMs: 5000,
          what: `${c.id} to give up on the stopped ${x.id} (and refuse to keep a hint for it)`,
        });
        // Crash X while it is still stopped: the replica write buffered in its socket dies with it.
        process.kill(xPid, 'SIGKILL');
        assert.equal((await x.waitExit(5000)).signal, 'SIGKILL');
      } finally {
        if (x.running()) process.kill(xPid, 'SIGCONT');
      }
      for (const n of cluster!.nodes) if (n.running()) assert.deepEqual(await hintsHeldBy(n), {}, `${n.id} keeps no hints`);

      await x.restart();
      // X is back and seen up by both other nodes, and still lags.
      await waitFor(async () => (await seesUp(c, x)) && (await seesUp(y, x)), {
        timeoutMs: 5000,
        what: `${c.id} and ${y.id} to see ${x.id} up after its restart`,
      });
      await sleep(300);
      const before = await replicaCopy(x, key);
      assert.equal(singleValue(before), 'v1', `${x.id} must still hold the old value before the read (got ${JSON.stringify(before)})`);
      for (const n of [c, y]) assert.equal(singleValue(await replicaCopy(n, key)), 'v2', `${n.id} holds v2`);
      for (const n of cluster!.nodes) assert.deepEqual(await hintsHeldBy(n), {}, `${n.id} keeps no hints`);

      const repairsBefore = await metricValue(y, 'kvorum_read_repairs_total');

      // ONE read, through Y (neither X nor the write's coordinator), that asks every replica.
      const read = await http('GET', kv(y, key, 'r=all'));
      assert.equal(read.status, 200, `GET r=all via ${y.id}: ${read.status} ${read.text()}`);
      assert.equal(read.body.toString('utf8'), 'v2');
      assert.equal(read.headers.get('x-kvorum-node'), y.id);

      await waitFor(async () => singleValue(await replicaCopy(x, key)) === 'v2', {
        timeoutMs: 5000,
        what: `${x.id}'s own copy to become v2 after one read through ${y.id}`,
      });
      assert.deepEqual(await replicaCopy(x, key), await replicaCopy(y, key), `${x.id}'s copy equals ${y.id}'s (same dot, same context)`);
      assert.deepEqual(await replicaCopy(x, key), await replicaCopy(c, key), `${x.id}'s copy equals ${c.id}'s`);

      const repairsAfter = await metricValue(y, 'kvorum_read_repairs_total');
      assert.ok(repairsAfter > repairsBefore, `kvorum_read_repairs_total on ${y.id} increased (${repairsBefore} -> ${repairsAfter})`);

      // Isolation: no hint was ever kept, and no anti-entropy exchange ran anywhere.
      for (const n of cluster!.nodes) {
        assert.equal(await metricValue(n, 'kvorum_ae_exchanges_total'), 0, `no anti-entropy exchange on ${n.id}`);
      }
    }));
});
