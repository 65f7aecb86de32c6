// Issue 10's reproductions, one test each, against a real 3-node cluster with a secret: every
// hostile request gets a catalogued error, nothing undecodable is stored, no key is wedged, and
// every node stays up and restarts cleanly afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { counterMaxAt, encodeContext } from '../../src/core/context-token.js';
import { errorCatalog } from '../../src/core/errors.js';
import { contextEntriesMax } from '../../src/core/limits.js';
import type { ActorId } from '../../src/core/types.js';
import { http, type HttpResponse } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { RawConnection, type RawResponse } from '../kit/raw-http.js';

const secret = 'hostile-s3cret';
let cluster: TestCluster;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));
const url = () => cluster.nodes[0]!.url;
const port = () => cluster.nodes[0]!.port;

/** A catalogued error: the status the catalog gives `code`, a JSON body naming it, X-Kvorum-Node. */
function assertError(res: HttpResponse | RawResponse, code: keyof typeof errorCatalog, what: string): void {
  const body = Buffer.from(res.body).toString('utf8');
  assert.equal(res.status, errorCatalog[code].status, `${what}: ${res.status} ${body.slice(0, 200)}`);
  const header = (name: string) => ('get' in res.headers ? (res.headers as Headers).get(name) : (res.headers as Record<string, string>)[name]);
  assert.ok(header('x-kvorum-node'), `${what}: X-Kvorum-Node`);
  assert.equal(JSON.parse(body).error, code, `${what}: ${body}`);
}

const rpc = (bytes: Buffer, withSecret = true) =>
  http('POST', `${url()}/internal/rpc`, {
    body: bytes,
    headers: { 'content-type': 'application/msgpack', ...(withSecret ? { authorization: `Bearer ${secret}` } : {}) },
  });

/** Sends raw bytes on a fresh connection; the responses, up to `count` or until the server closes it. */
async function raw(bytes: string, count = 1): Promise<RawResponse[]> {
  const conn = await RawConnection.open(port());
  try {
    conn.write(Buffer.from(bytes, 'latin1'));
    const responses: RawResponse[] = [];
    while (responses.length < count) {
      const res = await conn.readResponse(10_000);
      if (res === 'closed') break;
      responses.push(res);
    }
    return responses;
  } finally {
    conn.destroy();
  }
}

async function assertAllHealthy(): Promise<void> {
  for (const node of cluster.nodes) assert.equal((await http('GET', `${node.url}/health`)).status, 200, `${node.id} healthy`);
}

describe('hostile input (issue 10)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, secret });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('defect 1: a forward whose timeoutMs is a uint64 is refused, the node stays up', async () => {
    const body = Buffer.from('\x91\x82\xa4type\xa7forward\xa7request\x85\xa2op\xa3get\xa3key\xa1k\xa1r\xa3one\xa2pr\x00\xa9timeoutMs\xcf\x00\x00\x00\x00\x00\x00\x03\xe8', 'latin1');
    assertError(await rpc(body), 'bad_request', 'uint64 timeoutMs');
    assertError(await rpc(body, false), 'unauthorized', 'without the secret');
    await assertAllHealthy();
  });

  test('defect 2: RPC writes of what no node could decode are refused and nothing is stored', async () => {
    const forwardPut = Buffer.from(
      '\x91\x82\xa4type\xa7forward\xa7request\x87\xa2op\xa3put\xa3key\xa1p\xa4data\xa9not bytes\xabcontentType\xaatext/plain\xa1w\xa3all\xa2pw\x00\xa9timeoutMs\xcd\x07\xd0',
      'latin1',
    );
    assertError(await rpc(forwardPut), 'bad_request', 'forward put with string data');
    const { Packr } = await import('msgpackr');
    const pack = (v: unknown) => new Packr({ useRecords: false, moreTypes: false }).pack(v);
    const object = (data: unknown, contentType: unknown, counter: unknown) => ({
      context: { vv: [['n1.abc', counter]], cloud: [] },
      siblings: [{ dot: ['n1.abc', counter], value: { kind: 'value', data, contentType } }],
    });
    const bad = {
      'string data': object('not bytes', 'text/plain', 1),
      'numeric contentType': object(Buffer.from('v'), 42, 1),
      'uint64 counter': object(Buffer.from('v'), 'text/plain', 1n << 60n),
      'sibling not covered': { context: { vv: [], cloud: [] }, siblings: object(Buffer.from('v'), 'text/plain', 1).siblings },
    };
    for (const [what, obj] of Object.entries(bad)) assertError(await rpc(pack([{ type: 'replicate', key: 'p', object: obj }])), 'bad_request', what);
    const hint = pack([{ type: 'replicate', key: 'p', object: object(Buffer.from('v'), 'text/plain', 1), hintFor: 'nobody' }]);
    const outcome = await rpc(hint);
    assert.equal(outcome.status, 200, 'a well-formed batch runs');
    for (const node of cluster.nodes) {
      assertError(await http('GET', `${node.url}/replica/kv/p`), 'not_found', `${node.id} holds nothing for p`);
      assert.equal((await http('GET', `${node.url}/kv/p?r=all`)).status, 404);
    }
    await assertAllHealthy();
  });

  test('defect 3: forged counters and contexts of another key are invalid_context; the key is never wedged', async () => {
    const actor = 'n1.0123456789abcdef' as ActorId;
    const forged = encodeContext({ vv: [[actor, Number.MAX_SAFE_INTEGER]], cloud: [] }, 'wedge');
    const put = (key: string, context?: string) =>
      http('PUT', `${url()}/kv/${key}`, { body: 'v', headers: { 'content-type': 'text/plain', ...(context ? { 'x-kvorum-context': context } : {}) } });
    assertError(await put('wedge', forged), 'invalid_context', 'counter 2^53-1');
    // At the bound: accepted, and every context handed out after it is accepted back.
    const atBound = encodeContext({ vv: [[actor, counterMaxAt(Date.now())]], cloud: [] }, 'wedge');
    assert.equal((await put('wedge', atBound)).status, 204);
    for (let i = 0; i < 3; i++) {
      const read = await http('GET', `${url()}/kv/wedge`);
      assert.equal(read.status, 200);
      assert.equal((await put('wedge', read.headers.get('x-kvorum-context')!)).status, 204, 'its own context is accepted');
    }
    const other = (await put('key-a')).headers.get('x-kvorum-context')!;
    assertError(await put('key-b', other), 'invalid_context', 'a context issued for key-a sent with key-b');
  });

  test('defect 4: any Content-Type up to 1024 bytes is stored and returned as sent', async () => {
    for (const [i, type] of ['foo', '', 'text/plain, text/html', 'x'.repeat(1024)].entries()) {
      const [res] = await raw(`PUT /kv/ct${i} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nv`);
      assert.equal(res?.status, 204, `PUT with Content-Type ${JSON.stringify(type.slice(0, 30))}`);
      const [read] = await raw(`GET /kv/ct${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(read?.headers['content-type'], type);
    }
    const [long] = await raw(`PUT /kv/ct9 HTTP/1.1\r\nHost: x\r\nContent-Type: ${'x'.repeat(1025)}\r\nContent-Length: 1\r\n\r\nv`);
    assertError(long!, 'invalid_content_type', 'a 1025-byte Content-Type');
    const [twice] = await raw('PUT /kv/ct9 HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nContent-Type: b\r\nContent-Length: 1\r\n\r\nv');
    assertError(twice!, 'invalid_content_type', 'Content-Type twice');
  });

  test('defect 5: what the HTTP parser refuses gets a catalogued error with X-Kvorum-Node', async () => {
    const cases: Array<[string, string, keyof typeof errorCatalog]> = [
      ['two Content-Lengths', 'PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'bad_request'],
      ['bad chunk size', 'PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'bad_request'],
      ['Content-Length with chunked', 'PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'bad_request'],
      ['a raw space in the URL', 'GET /kv/a b HTTP/1.1\r\nHost: x\r\n\r\n', 'bad_request'],
      ['raw non-ASCII in the URL', 'GET /kv/\xe9 HTTP/1.1\r\nHost: x\r\n\r\n', 'bad_request'],
      ['a lower-case method', 'get /health HTTP/1.1\r\nHost: x\r\n\r\n', 'bad_request'],
      ['an unknown method', 'FROB /health HTTP/1.1\r\nHost: x\r\n\r\n', 'bad_request'],
      ['a header name with a space', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n', 'bad_request'],
      ['obsolete line folding', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n', 'bad_request'],
      ['no Host', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n', 'bad_request'],
      ['Expect: teapot', 'GET /health HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n', 'expectation_failed'],
      ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'not_found'],
      ['headers over 80 KiB', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(90_000)}\r\n\r\n`, 'headers_too_large'],
    ];
    for (const [what, bytes, code] of cases) {
      const responses = await raw(bytes, 2);
      assert.equal(responses.length, 1, `${what}: one answer, then the connection closed`);
      assertError(responses[0]!, code, what);
    }
    await assertAllHealthy();
  });

  test('defect 6: the 64 KiB context limit is the one in force', async () => {
    const longActor = (i: number) => `${'a'.repeat(60)}${String(i).padStart(4, '0')}.${'z'.repeat(32)}` as ActorId;
    // One entry short of the limit: the write adds the coordinator's own, and its answer's context is at the limit.
    const full = encodeContext({ vv: Array.from({ length: contextEntriesMax - 1 }, (_, i) => [longActor(i), 1] as const), cloud: [] }, 'big');
    assert.ok(full.length > 16 * 1024, `${full.length} bytes: over Node's default header limit`);
    // Raw, since fetch refuses response headers over 16 KiB.
    const put = async (context: string) =>
      (await raw(`PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nX-Kvorum-Context: ${context}\r\nConnection: close\r\n\r\nv`))[0]!;
    const written = await put(full);
    assert.equal(written.status, 204, `a well-formed ${full.length}-byte context: ${written.body.toString()}`);
    assert.equal((await put(written.headers['x-kvorum-context']!)).status, 204, 'the context handed out, at the entry limit, is accepted back');
    assertError(await put(`c2.${'A'.repeat(70_000)}`), 'invalid_context', 'a 70 KB context');
  });

  test('defect 7: a pipelined PUT followed by garbage is answered before the error', async () => {
    const responses = await raw('PUT /kv/pipelined HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nv1GARBAGE\r\n\r\n', 3);
    assert.deepEqual(responses.map((r) => r.status), [204, 400]);
    assertError(responses[1]!, 'bad_request', 'the garbage');
    assert.equal((await http('GET', `${url()}/kv/pipelined`)).text(), 'v1');
  });

  test('defect 8: /replica/kv/%zz is invalid_key, like /kv/%zz', async () => {
    assertError(await http('GET', `${url()}/replica/kv/%zz`), 'invalid_key', '/replica/kv/%zz');
    assertError(await http('GET', `${url()}/kv/%zz`), 'invalid_key', '/kv/%zz');
  });

  test('afterwards every node stops cleanly and starts again', async () => {
    for (const node of cluster.nodes) {
      node.kill('SIGTERM');
      assert.deepEqual(await node.waitExit(15_000), { code: 0, signal: null }, `${node.id} exits 0`);
      await node.restart();
    }
    await assertAllHealthy();
    assert.equal((await http('GET', `${url()}/kv/pipelined?r=all`)).text(), 'v1');
  });
});
