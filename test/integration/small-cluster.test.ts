// docs/api.md section 2, "Defaults and headers": a cluster with fewer members than N keeps one copy per
// member; `quorum`/`all` resolve against min(N, members); a numeric r/w that does not fit is 503.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';

let single: TestCluster | undefined;
let pair: TestCluster | undefined;
const logs = () => [single?.logs() ?? '', pair?.logs() ?? ''].join('\n');
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(logs, fn));

async function expect503(method: string, url: string, required: number): Promise<void> {
  const res = await http(method, url, method === 'PUT' ? { body: 'x' } : {});
  assert.equal(res.status, 503, `${method} ${url}: ${res.status} ${res.text()}`);
  const err = res.json();
  assert.equal(err.error, 'quorum_unavailable');
  assert.equal(err.required, required, 'a numeric quorum is not silently lowered');
  assert.equal(typeof err.acked, 'number');
  assert.ok(res.headers.get('x-kvorum-node'));
}

describe('clusters smaller than N (default N=3)', () => {
  before(async () => {
    [single, pair] = await Promise.all([startCluster({ nodes: 1 }), startCluster({ nodes: 2 })]);
  });
  after(async () => {
    await Promise.all([single?.stop(), pair?.stop()]);
  });

  test('a single node with default settings serves reads and writes; one/quorum/all/1 work; 2 and 3 are 503', async () => {
    const n = single!.nodes[0]!;
    assert.equal((await http('PUT', `${n.url}/kv/solo`, { body: 'alone', headers: { 'content-type': 'text/plain' } })).status, 204);
    const res = await http('GET', `${n.url}/kv/solo`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString('utf8'), 'alone');
    for (const form of ['1', 'one', 'quorum', 'all']) {
      const put = await http('PUT', `${n.url}/kv/solo-${form}?w=${form}`, { body: form });
      assert.equal(put.status, 204, `w=${form}: ${put.status} ${put.text()}`);
      const get = await http('GET', `${n.url}/kv/solo-${form}?r=${form}`);
      assert.equal(get.status, 200, `r=${form}: ${get.status} ${get.text()}`);
      assert.equal(get.body.toString('utf8'), form);
    }
    for (const k of [2, 3]) {
      await expect503('PUT', `${n.url}/kv/solo-num?w=${k}&timeout=1000`, k);
      await expect503('GET', `${n.url}/kv/solo?r=${k}&timeout=1000`, k);
      await expect503('DELETE', `${n.url}/kv/solo-num?w=${k}&timeout=1000`, k);
    }
    assert.equal((await http('GET', `${n.url}/kv/solo`)).status, 200, 'the refused requests changed nothing');
    const view = (await http('GET', `${n.url}/cluster`)).json();
    assert.equal(view.n, 3);
    for (const entry of view.ring) assert.deepEqual(entry.owners, [n.id]);
  });

  test('two nodes, N=3: quorum and all mean 2 (one copy per member); w=3 / r=3 are 503', async () => {
    const [a, b] = pair!.nodes as [TestNode, TestNode];
    const put = await http('PUT', `${a.url}/kv/duo?w=all`, { body: 'both' });
    assert.equal(put.status, 204, `w=all: ${put.status} ${put.text()}`);
    for (const n of [a, b]) {
      for (const r of ['quorum', 'all', '2', '1']) {
        const res = await http('GET', `${n.url}/kv/duo?r=${r}`);
        assert.equal(res.status, 200, `r=${r} via ${n.id}: ${res.status} ${res.text()}`);
        assert.equal(res.body.toString('utf8'), 'both');
      }
    }
    assert.equal((await http('PUT', `${b.url}/kv/duo-q?w=quorum`, { body: 'q' })).status, 204);
    await expect503('PUT', `${a.url}/kv/duo-3?w=3&timeout=1000`, 3);
    await expect503('GET', `${b.url}/kv/duo?r=3&timeout=1000`, 3);
    const view = (await http('GET', `${a.url}/cluster`)).json();
    for (const entry of view.ring) assert.deepEqual([...entry.owners].sort(), [a.id, b.id]);

    // With one of the two down, quorum (=2) cannot be met; one still can.
    b.kill('SIGKILL');
    await b.waitExit(5000);
    await expect503('PUT', `${a.url}/kv/duo-down?w=quorum&timeout=1000`, 2);
    assert.equal((await http('PUT', `${a.url}/kv/duo-down?w=one&timeout=1000`, { body: 'one' })).status, 204);
  });
});
