// Internal RPC with a cluster secret (docs/api.md section 4): peers authenticate each other, anyone
// else gets 401 and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeRpc, rpcContentType } from '../../src/transport/codec.js';
import type { RpcRequest } from '../../src/core/rpc.js';
import { http, type HttpResponse } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { replicate } from '../helpers/evil-rpc.js';

const secret = 's3cret';
let cluster: TestCluster | undefined;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));


function assertUnauthorized(res: HttpResponse, what: string): void {
  assert.equal(res.status, 401, `${what}: expected 401, got ${res.status}: ${res.text().slice(0, 200)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.json<Record<string, unknown>>();
  assert.equal(body['error'], 'unauthorized');
  assert.equal(typeof body['message'], 'string');
  assert.ok(res.headers.get('x-kvorum-node'), 'X-Kvorum-Node on a 401');
}

async function assertAbsentEverywhere(key: string): Promise<void> {
  for (const n of cluster!.nodes) {
    const res = await http('GET', `${n.url}/kv/${key}?r=all`);
    assert.equal(res.status, 404, `GET ${key} r=all via ${n.id}: ${res.status} ${res.text().slice(0, 100)}`);
    assert.equal(res.json().error, 'not_found');
    assert.equal(res.headers.get('x-kvorum-context'), null, `no trace of ${key} (not even a context) via ${n.id}`);
  }
}

describe(`internal RPC with --secret`, () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, secret });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('client traffic works: PUT w=all and GET r=all (peers authenticate each other)', async () => {
    const [n1, n2, n3] = cluster!.nodes;
    const put = await http('PUT', `${n1!.url}/kv/sec-ok?w=all`, { body: 'fine', headers: { 'content-type': 'text/plain' } });
    assert.equal(put.status, 204, `PUT: ${put.status} ${put.text()}`);
    for (const n of [n1!, n2!, n3!]) {
      const res = await http('GET', `${n.url}/kv/sec-ok?r=all`);
      assert.equal(res.status, 200, `GET via ${n.id}: ${res.status} ${res.text()}`);
      assert.equal(res.body.toString('utf8'), 'fine');
    }
    const del = await http('DELETE', `${n2!.url}/kv/sec-ok?w=all`, { headers: { 'x-kvorum-context': put.headers.get('x-kvorum-context')! } });
    assert.equal(del.status, 204);
  });

  test('POST /internal/rpc without the credential, or with a wrong one, is 401 and stores nothing', async () => {
    const attempts: { what: string; headers: Record<string, string> }[] = [
      { what: 'no Authorization', headers: { 'content-type': rpcContentType } },
      { what: 'Bearer wrong', headers: { 'content-type': rpcContentType, authorization: 'Bearer wrong' } },
      { what: 'the secret without the Bearer scheme', headers: { 'content-type': rpcContentType, authorization: secret } },
      { what: 'Bearer with an empty token', headers: { 'content-type': rpcContentType, authorization: 'Bearer ' } },
      { what: 'a longer secret', headers: { 'content-type': rpcContentType, authorization: `Bearer ${secret}x` } },
      { what: 'Basic auth', headers: { 'content-type': rpcContentType, authorization: `Basic ${Buffer.from(`n1:${secret}`).toString('base64')}` } },
    ];
    for (const n of cluster!.nodes) {
      for (const a of attempts) {
        assertUnauthorized(await http('POST', `${n.url}/internal/rpc`, { body: replicate('sec-key'), headers: a.headers }), `${a.what} to ${n.id}`);
      }
      // Not even a read or a forwarded client write gets through.
      const forward = encodeRpc([
        {
          type: 'forward',
          request: { op: 'put', key: 'sec-key', data: Buffer.from('evil'), contentType: 'text/plain', context: undefined, w: 1, pw: 0, timeoutMs: 1000 },
        } satisfies RpcRequest,
      ]);
      assertUnauthorized(await http('POST', `${n.url}/internal/rpc`, { body: forward, headers: { 'content-type': rpcContentType } }), `forward to ${n.id}`);
      const read = encodeRpc([{ type: 'read', key: 'sec-ok' } satisfies RpcRequest]);
      assertUnauthorized(
        await http('POST', `${n.url}/internal/rpc`, { body: read, headers: { 'content-type': rpcContentType, authorization: 'Bearer wrong' } }),
        `read on ${n.id}`,
      );
    }
    await assertAbsentEverywhere('sec-key');
  });

  test('control: the same replicate message with the right credential is accepted and stored', async () => {
    // Proves the refused messages above were well-formed: they failed on the credential alone.
    const n = cluster!.nodes[0]!;
    const res = await http('POST', `${n.url}/internal/rpc`, {
      body: replicate('sec-control'),
      headers: { 'content-type': rpcContentType, authorization: `Bearer ${secret}` },
    });
    assert.equal(res.status, 200, `authorised replicate: ${res.status} ${res.text().slice(0, 200)}`);
    const read = await http('GET', `${n.url}/kv/sec-control?r=1`);
    assert.equal(read.status, 200);
    assert.equal(read.body.toString('utf8'), 'evil');
    await assertAbsentEverywhere('sec-key');
  });
});
