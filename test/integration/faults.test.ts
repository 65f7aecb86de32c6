// Node failures (SIGKILL) in a 3-node N=3 cluster: quorums met by the survivors succeed, quorums
// that cannot be met answer 503 quorum_unavailable in bounded time, restarted nodes serve again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, type HttpResponse } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';

let cluster: TestCluster | undefined;
const node = (i: number): TestNode => cluster!.nodes[i]!;
const kv = (n: TestNode, key: string, query: string) => `${n.url}/kv/${key}?${query}`;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

function expectStatus(res: HttpResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status}: ${res.text().slice(0, 300)}`);
}

async function killAndWait(n: TestNode): Promise<void> {
  assert.ok(n.running(), `${n.id} is running before the kill`);
  n.kill('SIGKILL');
  const exit = await n.waitExit(5000);
  assert.equal(exit.signal, 'SIGKILL');
}

/** A request expected to be refused with 503 quorum_unavailable within timeout + 1000 ms. */
async function expectUnavailable(method: string, url: string, required: number, acked: number | readonly number[], body?: string): Promise<void> {
  const timeoutMs = 1000;
  const started = performance.now();
  const res = await http(method, `${url}&timeout=${timeoutMs}`, body === undefined ? {} : { body });
  const elapsed = performance.now() - started;
  expectStatus(res, 503, `${method} ${url}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const err = res.json<Record<string, unknown>>();
  assert.equal(err['error'], 'quorum_unavailable');
  assert.equal(typeof err['message'], 'string');
  assert.equal(err['required'], required, 'required');
  if (typeof acked === 'number') assert.equal(err['acked'], acked, 'acked');
  else assert.ok(acked.includes(err['acked'] as number), `acked ${String(err['acked'])} not one of ${acked.join(', ')}`);
  assert.ok(res.headers.get('x-kvorum-node'), 'X-Kvorum-Node on a 503');
  assert.ok(elapsed <= timeoutMs + 1000, `answered in ${elapsed.toFixed(0)} ms, more than timeout + 1000 ms`);
}

describe('faults (3 nodes, N=3, SIGKILL)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('healthy baseline write', async () => {
    expectStatus(await http('PUT', kv(node(0), 'before-fault', 'w=all'), { body: 'v0' }), 204, 'PUT w=all');
  });

  test('one node killed: w=2 PUT and r=2 GET through survivors succeed and read the write; w=all is 503 (3 required, 2 acked)', async () => {
    await killAndWait(node(2));
    const put = await http('PUT', kv(node(0), 'one-down', 'w=2'), { body: 'survived', headers: { 'content-type': 'text/plain' } });
    expectStatus(put, 204, 'PUT w=2 with one node down');
    assert.equal(put.headers.get('x-kvorum-node'), node(0).id);
    for (const reader of [node(1), node(0)]) {
      const res = await http('GET', kv(reader, 'one-down', 'r=2'));
      expectStatus(res, 200, `GET r=2 via ${reader.id}`);
      assert.equal(res.body.toString('utf8'), 'survived');
      assert.equal(res.headers.get('content-type'), 'text/plain');
      const old = await http('GET', kv(reader, 'before-fault', 'r=2'));
      expectStatus(old, 200, `GET r=2 of the earlier key via ${reader.id}`);
      assert.equal(old.body.toString('utf8'), 'v0');
    }
    // The coordinator answers as soon as the quorum has become impossible (the dead node refuses
    // at once), which may be before the live peer's ack arrives: `acked` counts the acks so far.
    await expectUnavailable('PUT', kv(node(1), 'one-down-all', 'w=all'), 3, [1, 2], 'x');
    await expectUnavailable('GET', kv(node(0), 'one-down', 'r=all'), 3, [1, 2]);
  });

  test('two nodes killed: w=all and w=2 are 503 with required/acked in bounded time; w=1 succeeds', async () => {
    await killAndWait(node(1));
    await expectUnavailable('PUT', kv(node(0), 'two-down-all', 'w=all'), 3, 1, 'x');
    await expectUnavailable('PUT', kv(node(0), 'two-down-2', 'w=2'), 2, 1, 'x');
    await expectUnavailable('PUT', kv(node(0), 'two-down-q', 'w=quorum'), 2, 1, 'x');
    // (A refused write may still be stored on the coordinator: use a key nothing reads later.)
    await expectUnavailable('DELETE', kv(node(0), 'before-fault-copy', 'w=2'), 2, 1);
    await expectUnavailable('GET', kv(node(0), 'one-down', 'r=2'), 2, 1);

    const put = await http('PUT', kv(node(0), 'two-down', 'w=1'), { body: 'alone' });
    expectStatus(put, 204, 'PUT w=1 with two nodes down');
    const res = await http('GET', kv(node(0), 'two-down', 'r=1'));
    expectStatus(res, 200, 'GET r=1 through the survivor');
    assert.equal(res.body.toString('utf8'), 'alone');
  });

  test('restarted nodes are healthy again and r=all reads succeed', async () => {
    await Promise.all([node(1).restart(), node(2).restart()]);
    for (const n of cluster!.nodes) {
      const health = await http('GET', `${n.url}/health`);
      expectStatus(health, 200, `health of ${n.id}`);
      assert.deepEqual(health.json(), { status: 'ok', node: n.id });
    }
    for (const reader of cluster!.nodes) {
      for (const [key, value] of [['before-fault', 'v0'], ['one-down', 'survived'], ['two-down', 'alone']] as const) {
        const res = await http('GET', kv(reader, key, 'r=all'));
        expectStatus(res, 200, `GET ${key} r=all via ${reader.id}`);
        assert.equal(res.body.toString('utf8'), value, `${key} via ${reader.id}`);
      }
    }
    expectStatus(await http('PUT', kv(node(2), 'after-restart', 'w=all'), { body: 'back' }), 204, 'PUT w=all after the restart');
  });
});
