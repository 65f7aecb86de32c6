// Per-key TTL end to end (docs/api.md section 2, Expiry), on 3 real nodes (N=3): the ttl forms a PUT
// accepts and refuses, the expiry a read shows (X-Kvorum-Expires-At, "expiresAt" in a 300), and a
// key written with a short ttl while a replica is down: once expired it is 404 through every node,
// the returning replica only ever gets the expired version (hinted handoff, anti-entropy, read
// repair), nothing is reaped while it lacks it, and then the key is reaped everywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReplicaCopyView } from '../../src/api/views.js';
import { ttlSecondsMax } from '../../src/core/limits.js';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { sleep, waitFor } from '../kit/wait.js';
import { findKey, metricValue, replicaCopy, ringOf, waitAllUp } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const graceMs = 1500;
const kv = (n: TestNode, key: string, query = '') => `${n.url}/kv/${encodeURIComponent(key)}${query ? `?${query}` : ''}`;
const text = { 'content-type': 'text/plain' };
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

/** True when a replica's own copy holds no live value at `nowMs`: every sibling deleted or expired. */
function holdsNothingLive(copy: ReplicaCopyView | undefined, nowMs: number): boolean {
  return copy === undefined || copy.siblings.every((s) => s.deleted === true || (s.expiresAt !== undefined && Date.parse(s.expiresAt) <= nowMs));
}

/**
 * Until stopped, reads `key` through every running node (r=1: the node's own copy, r=2, r=all) and
 * looks at every node's own copy (/replica/kv), recording anything live: after the expiry, any 200,
 * 300 or live copy is a value come back.
 */
function watchForLiveValue(nodes: readonly TestNode[], key: string) {
  const seen = new Map<number, number>();
  const live: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const node = nodes[i % nodes.length]!;
      const r = ['1', '2', 'all'][i % 3]!;
      if (!node.running()) continue;
      try {
        const res = await http('GET', kv(node, key, `r=${r}&timeout=1000`), { timeoutMs: 3000 });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        if (res.status === 200 || res.status === 300) live.push(`GET r=${r} via ${node.id} -> ${res.status} ${res.text().slice(0, 200)}`);
        const copy = await replicaCopy(node, key);
        if (!holdsNothingLive(copy, Date.now())) live.push(`${node.id}'s own copy holds a live value: ${JSON.stringify(copy)}`);
      } catch {
        // a node restarting: nothing was read
      }
      await sleep(50);
    }
  })();
  return {
    seen,
    live,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

describe('ttl (3 nodes, N=3, grace 1.5 s)', () => {
  before(async () => {
    cluster = await startCluster({
      nodes: 3,
      extraArgs: ['--tombstone-grace-ms', String(graceMs), '--anti-entropy-interval-ms', '100', '--handoff-interval-ms', '200', '--probe-interval-ms', '200'],
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('invalid_ttl: 0, negative, fraction, over the max, not a number, empty, too long, repeated; and on GET or DELETE. Nothing changes', async () => {
    const n = cluster!.nodes[0]!;
    assert.equal((await http('PUT', kv(n, 'ttl-base', 'w=all'), { body: 'original', headers: text })).status, 204);
    const bad = ['0', '-1', '1.5', '1e3', String(ttlSecondsMax + 1), 'abc', '', '9'.repeat(17), '%201'];
    for (const ttl of bad) {
      const res = await http('PUT', kv(n, 'ttl-base', `w=all&ttl=${ttl}`), { body: 'changed', headers: text });
      assert.equal(res.status, 400, `ttl=${ttl}: ${res.status} ${res.text()}`);
      assert.equal(res.json<{ error: string }>().error, 'invalid_ttl', `ttl=${ttl}`);
    }
    for (const query of ['ttl=5&ttl=5', 'ttl=5&ttl=6']) {
      const res = await http('PUT', kv(n, 'ttl-base', `w=all&${query}`), { body: 'changed', headers: text });
      assert.equal(res.json<{ error: string }>().error, 'invalid_ttl', `${query}: ${res.status} ${res.text()}`);
    }
    for (const method of ['GET', 'DELETE']) {
      const res = await http(method, kv(n, 'ttl-base', 'ttl=5'));
      assert.equal(res.status, 400, `${method} with a ttl: ${res.status} ${res.text()}`);
      assert.equal(res.json<{ error: string }>().error, 'invalid_ttl');
    }
    for (const node of cluster!.nodes) {
      const res = await http('GET', kv(node, 'ttl-base', 'r=all'));
      assert.equal(res.status, 200, `via ${node.id}`);
      assert.equal(res.text(), 'original', `via ${node.id}`);
      assert.equal(res.headers.get('x-kvorum-expires-at'), null, 'a value written without a ttl has no expiry');
    }
    const longest = await http('PUT', kv(n, 'ttl-longest', `w=all&ttl=${ttlSecondsMax}`), { body: 'x', headers: text });
    assert.equal(longest.status, 204, `ttl=${ttlSecondsMax} is accepted: ${longest.text()}`);
  });

  test('a read shows the expiry: X-Kvorum-Expires-At on a 200, "expiresAt" per sibling in a 300, expiresAt on /replica/kv', async () => {
    const [a, b] = cluster!.nodes as [TestNode, TestNode];
    const before = Date.now();
    assert.equal((await http('PUT', kv(a, 'ttl-show', 'w=all&ttl=3600'), { body: 'hour', headers: text })).status, 204);
    const after = Date.now();
    const one = await http('GET', kv(b, 'ttl-show', 'r=all'));
    assert.equal(one.status, 200);
    const expiresAt = Number(one.headers.get('x-kvorum-expires-at'));
    assert.ok(expiresAt >= before + 3_600_000 && expiresAt <= after + 3_600_000, `expiry ${expiresAt} is the coordinator's clock plus 1 h (wrote in ${before}..${after})`);

    assert.equal((await http('PUT', kv(b, 'ttl-show', 'w=all'), { body: 'forever', headers: text })).status, 204); // blind: a sibling
    const both = await http('GET', kv(a, 'ttl-show', 'r=all'));
    assert.equal(both.status, 300, both.text());
    const siblings = both.json<{ siblings: { value: string; expiresAt?: number }[] }>().siblings;
    const byValue = Object.fromEntries(siblings.map((s) => [Buffer.from(s.value, 'base64').toString('utf8'), s]));
    assert.equal(byValue['hour']?.expiresAt, expiresAt);
    assert.equal('expiresAt' in byValue['forever']!, false, 'a sibling without a ttl has no expiresAt');

    const copy = await replicaCopy(a, 'ttl-show');
    assert.deepEqual(copy?.siblings.map((s) => s.expiresAt).filter(Boolean), [new Date(expiresAt).toISOString()]);
  });

  test('a key written with a short ttl while a replica is down stays 404 everywhere once expired, and is then reaped', async () => {
    const k = findKey(ringOf(cluster!, 3), 'ttl-down', () => true);
    // x is not the first primary: the first primary drives reaping, so it stays up and must wait for x.
    const [lead, other, x] = k.primaries.map((id) => cluster!.node(id)) as [TestNode, TestNode, TestNode];
    await waitAllUp(cluster!);
    x.kill('SIGKILL');
    assert.equal((await x.waitExit(5000)).signal, 'SIGKILL');

    const ttlSeconds = 3;
    const put = await http('PUT', kv(lead, k.key, `w=2&ttl=${ttlSeconds}`), { body: 'short-lived', headers: text });
    assert.equal(put.status, 204, `PUT w=2 with ${x.id} down: ${put.status} ${put.text()}`);
    const live = await http('GET', kv(other, k.key, 'r=2'));
    assert.equal(live.status, 200, `live before its expiry: ${live.status} ${live.text()}`);
    const expiresAt = Number(live.headers.get('x-kvorum-expires-at'));

    const expired = await waitFor(
      async () => {
        const res = await http('GET', kv(lead, k.key, 'r=2'));
        return res.status === 404 ? res : undefined;
      },
      { timeoutMs: ttlSeconds * 1000 + 5000, intervalMs: 50, what: 'the key to read as 404 once expired' },
    );
    assert.ok(Date.now() >= expiresAt, 'not 404 before its expiry');
    assert.equal(expired.json<{ error: string }>().error, 'not_found');
    assert.ok(expired.headers.get('x-kvorum-context'), 'the 404 carries the context, as for a tombstone');

    const watcher = watchForLiveValue(cluster!.nodes, k.key);
    try {
      // Past expiry plus grace, the reaper (on the first primary) defers: x lacks the version, and a hint for it is pending.
      await waitFor(async () => (await metricValue(lead, 'kvorum_tombstones_reap_deferred_total')) > 0, {
        timeoutMs: graceMs + 10_000,
        what: `${lead.id} to defer reaping the expired key while ${x.id} is down`,
      });
      for (const n of [lead, other]) assert.notEqual(await replicaCopy(n, k.key), undefined, `${n.id} still holds the expired version`);
      for (const n of [lead, other]) assert.equal(await metricValue(n, 'kvorum_tombstones_reaped_total'), 0, `${n.id} reaped nothing while ${x.id} was down`);

      await x.restart(); // empty of the key: handoff, anti-entropy and the watcher's read repairs give it the version
      await waitFor(
        async () => {
          for (const n of cluster!.nodes) if ((await replicaCopy(n, k.key)) !== undefined) return false;
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'the expired key to be reaped on all three nodes' },
      );
      let reaped = 0;
      for (const n of cluster!.nodes) reaped += await metricValue(n, 'kvorum_tombstones_reaped_total');
      assert.ok(reaped >= 3, `every primary reaped it (kvorum_tombstones_reaped_total over the cluster: ${reaped})`);
      for (const n of cluster!.nodes) {
        const res = await http('GET', kv(n, k.key, 'r=all'));
        assert.equal(res.status, 404, `GET r=all via ${n.id} after reaping: ${res.status} ${res.text()}`);
      }
    } finally {
      await watcher.stop();
    }
    assert.deepEqual(watcher.live, [], 'no read and no replica ever held the value live after its expiry');
    assert.ok((watcher.seen.get(404) ?? 0) > 0, `the watcher saw 404s: ${JSON.stringify([...watcher.seen])}`);
  });
});
