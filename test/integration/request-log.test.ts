// Request ids and the access log (docs/api.md section 3, Request ids and the access log): a
// well-formed X-Request-Id is echoed, a missing or malformed one replaced by a new id, on every
// answer; with --access-log a node logs one line per request with its fields (the coordinator too,
// when it forwarded the request), never a credential or a value; without it, no such line.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { startCluster, withLogs, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { findKey, ringOf } from '../helpers/convergence.js';

// N=1: a key n2 owns is forwarded by n1 to n2, which coordinates it.
const cluster = await startCluster({ nodes: 2, n: 1, nodeArgs: (id) => (id === 'n1' ? ['--access-log'] : []) });
const [n1, n2] = cluster.nodes as [TestNode, TestNode];
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(cluster.logs, fn));

/** The access-log lines in `node`'s output. */
function accessLines(node: TestNode): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of node.logs().split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const json = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (json['msg'] === 'request') lines.push(json);
    } catch {
      // not a JSON log line
    }
  }
  return lines;
}

describe('request ids and the access log (2 nodes, N=1)', () => {
  after(() => cluster.stop());

  test('X-Request-Id is echoed when well-formed, else replaced by a new one, on every answer', async () => {
    const given = await http('GET', `${n1.url}/health`, { headers: { 'x-request-id': 'client-42:a.b/c' } });
    assert.equal(given.headers.get('x-request-id'), 'client-42:a.b/c');
    const none = await http('GET', `${n1.url}/health`);
    assert.match(none.headers.get('x-request-id') ?? '', uuid);
    const another = await http('GET', `${n1.url}/health`);
    assert.notEqual(another.headers.get('x-request-id'), none.headers.get('x-request-id'));
    for (const bad of ['with space', 'x'.repeat(129), 'quote"', 'semi;colon', '']) {
      const res = await http('GET', `${n1.url}/health`, { headers: { 'x-request-id': bad } });
      assert.match(res.headers.get('x-request-id') ?? '', uuid, `X-Request-Id ${JSON.stringify(bad)} is replaced`);
    }
    // Errors too: an unknown route, a URL the router cannot decode (answered before any hook).
    assert.equal((await http('GET', `${n1.url}/nope`, { headers: { 'x-request-id': 'r1' } })).headers.get('x-request-id'), 'r1');
    const undecodable = await http('GET', `${n1.url}/kv/%FF`, { headers: { 'x-request-id': 'r2' } });
    assert.equal(undecodable.status, 400);
    assert.equal(undecodable.headers.get('x-request-id'), 'r2');
  });

  test('--access-log: one line per request with its fields, the forwarding coordinator named, no credential or value', async () => {
    const { key } = findKey(ringOf(cluster, 1), 'logged', (p) => p.primaries[0] === 'n2');
    const headers = { 'x-request-id': 'trace-put-1', 'content-type': 'text/plain', authorization: 'Bearer sekrit-token-value' };
    const put = await http('PUT', `${n1.url}/kv/${key}?w=1&timeout=5000`, { body: 'the-value-itself', headers });
    assert.ok(put.status < 300, put.text());
    assert.equal(put.headers.get('x-kvorum-node'), 'n2', 'n1 forwarded the write to n2');
    const line = await waitFor(() => accessLines(n1).find((l) => l['requestId'] === 'trace-put-1'), { what: 'the access-log line of the PUT' });
    assert.deepEqual(
      { method: line['method'], route: line['route'], path: line['path'], status: line['status'], coordinator: line['coordinator'], remote: line['remoteAddress'], level: line['level'] },
      { method: 'PUT', route: '/kv/*', path: `/kv/${key}`, status: put.status, coordinator: 'n2', remote: '127.0.0.1', level: 30 },
    );
    assert.equal(typeof line['latencyMs'], 'number');
    await http('GET', `${n1.url}/nope`, { headers: { 'x-request-id': 'trace-404' } });
    const missing = await waitFor(() => accessLines(n1).find((l) => l['requestId'] === 'trace-404'), { what: 'the access-log line of the 404' });
    assert.deepEqual([missing['status'], missing['route'], missing['coordinator']], [404, null, 'n1']);
    const ops = [{ op: 'put', key: 'batched-a', value: 'dGhlLXZhbHVlLWl0c2VsZg==' }, { op: 'get', key: 'batched-b' }];
    const batch = await http('POST', `${n1.url}/batch`, { body: JSON.stringify({ ops }), headers: { 'x-request-id': 'trace-batch', 'content-type': 'application/json' } });
    assert.equal(batch.status, 200, batch.text());
    // The batch's line and one per op, under the batch's id.
    const batchLines = await waitFor(() => {
      const lines = accessLines(n1).filter((l) => l['requestId'] === 'trace-batch');
      return lines.length === 3 ? lines : undefined;
    }, { what: 'three access-log lines of the batch' });
    assert.deepEqual(batchLines.map((l) => `${String(l['method'])} ${String(l['route'])} ${String(l['path'])}`).sort(), ['GET /kv/* /kv/batched-b', 'POST /batch /batch', 'PUT /kv/* /kv/batched-a']);
    assert.doesNotMatch(n1.logs(), /sekrit|the-value-itself/);
  });

  test('without --access-log a node logs no request line', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await http('GET', `${n2.url}/health`, { headers: { 'x-request-id': `quiet-${i}` } })).status, 200);
    // n1 logs its own requests: once its line for a later request is out, n2's would have been too.
    await http('GET', `${n1.url}/health`, { headers: { 'x-request-id': 'marker' } });
    await waitFor(() => accessLines(n1).some((l) => l['requestId'] === 'marker'), { what: 'n1\'s marker line' });
    assert.deepEqual(accessLines(n2), []);
  });
});
