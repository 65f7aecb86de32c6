// The sibling cap and the read histograms (docs/api.md section 2, PUT; section 3, /metrics), over HTTP
// on 2 real nodes (N=3, so both are replicas of every key): a blind write that would leave a key with
// more than siblingsMax siblings is 409 too_many_siblings and changes nothing; a write with the
// context read resolves them; and every GET answer is counted in kvorum_read_siblings and
// kvorum_read_object_bytes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { siblingsMax } from '../../src/core/limits.js';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { metricValue } from '../helpers/convergence.js';

let cluster: TestCluster | undefined;
const kv = (n: TestNode, key: string, query = '') => `${n.url}/kv/${encodeURIComponent(key)}${query ? `?${query}` : ''}`;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));
const node = (i: number) => cluster!.nodes[i]!;
const text = { 'content-type': 'text/plain' };

describe('sibling cap and read histograms (2 nodes, N=3)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test(`a blind write beyond ${siblingsMax} siblings is 409 too_many_siblings and changes nothing; a write with the context read resolves them`, async () => {
    const key = 'capped';
    for (let i = 0; i < siblingsMax; i++) {
      const res = await http('PUT', kv(node(i % 2), key, 'w=all'), { body: `v${i}`, headers: text });
      assert.equal(res.status, 204, `blind write ${i}: ${res.status} ${res.text()}`);
    }
    const full = await http('GET', kv(node(0), key, 'r=all'));
    assert.equal(full.status, 300);
    assert.equal(full.json<{ siblings: unknown[] }>().siblings.length, siblingsMax);

    const unavailable = () => metricValue(node(0), 'kvorum_quorum_outcomes_total', { op: 'put', outcome: 'unavailable' });
    const unavailableBefore = await unavailable();
    for (const n of cluster!.nodes) {
      const res = await http('PUT', kv(n, key, 'w=all'), { body: 'one-too-many', headers: text });
      assert.equal(res.status, 409, `PUT via ${n.id}: ${res.status} ${res.text()}`);
      const body = res.json<{ error: string; siblingsMax: number }>();
      assert.equal(body.error, 'too_many_siblings');
      assert.equal(body.siblingsMax, siblingsMax);
    }
    assert.equal(await unavailable(), unavailableBefore, 'a refused write is not counted as a quorum unavailable');
    for (const n of cluster!.nodes) {
      const copy = await http('GET', `${n.url}/replica/kv/${key}`);
      assert.equal(copy.json<{ siblings: unknown[] }>().siblings.length, siblingsMax, `${n.id}'s own copy is unchanged`);
    }

    const context = full.headers.get('x-kvorum-context')!;
    const resolved = await http('PUT', kv(node(1), key, 'w=all'), { body: 'merged', headers: { ...text, 'x-kvorum-context': context } });
    assert.equal(resolved.status, 204, `the write with the context read: ${resolved.status} ${resolved.text()}`);
    for (const n of cluster!.nodes) {
      const res = await http('GET', kv(n, key, 'r=all'));
      assert.equal(res.status, 200, `via ${n.id}: ${res.status}`);
      assert.equal(res.text(), 'merged');
    }
  });

  test('kvorum_read_siblings and kvorum_read_object_bytes count every GET answer: its live siblings and their bytes', async () => {
    const n = node(0);
    const metric = (name: string) => metricValue(n, name);
    const snapshot = async () => ({
      siblingsCount: await metric('kvorum_read_siblings_count'),
      siblingsSum: await metric('kvorum_read_siblings_sum'),
      bytesCount: await metric('kvorum_read_object_bytes_count'),
      bytesSum: await metric('kvorum_read_object_bytes_sum'),
      twoOrFewer: await metricValue(n, 'kvorum_read_siblings_bucket', { le: '2' }),
    });
    for (const body of ['abc', 'defgh']) assert.equal((await http('PUT', kv(n, 'hist', 'w=all'), { body, headers: text })).status, 204);
    assert.equal((await http('PUT', kv(n, 'hist-one', 'w=all'), { body: '0123456789', headers: text })).status, 204);

    const before = await snapshot();
    assert.equal((await http('GET', kv(n, 'hist'))).status, 300); // 2 siblings, 3 + 5 bytes
    assert.equal((await http('GET', kv(n, 'hist-one'))).status, 200); // 1 sibling, 10 bytes
    assert.equal((await http('GET', kv(n, 'hist-none'))).status, 404); // 0 siblings, 0 bytes
    assert.equal((await http('GET', kv(n, 'hist', 'r=4'))).status, 400); // refused: no answer to count
    const after = await snapshot();
    assert.deepEqual(
      { siblingsCount: after.siblingsCount - before.siblingsCount, siblingsSum: after.siblingsSum - before.siblingsSum,
        bytesCount: after.bytesCount - before.bytesCount, bytesSum: after.bytesSum - before.bytesSum, twoOrFewer: after.twoOrFewer - before.twoOrFewer },
      { siblingsCount: 3, siblingsSum: 3, bytesCount: 3, bytesSum: 18, twoOrFewer: 3 },
    );
    const exposition = (await http('GET', `${n.url}/metrics`)).text();
    assert.match(exposition, /# TYPE kvorum_read_siblings histogram/);
    assert.match(exposition, /# TYPE kvorum_read_object_bytes histogram/);
  });
});
