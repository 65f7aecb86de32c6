// docs/api.md section 2, POST /batch, end to end against a real 3-node cluster (N=3): each op answers
// what it answers alone, one key's ops run in batch order, a malformed batch runs nothing, and the
// body limit.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { batchBytesMax, batchOpsMax } from '../../src/core/limits.js';
import { http, type HttpResponse } from '../kit/http.js';
import { RawConnection } from '../kit/raw-http.js';
import {
  assertError, assertOk, get, kv, maxValueBytes, node, nodes, put, siblingsOf, snapshot, test, useClientApiCluster,
} from '../helpers/client-api.js';

type Op = Record<string, unknown> & { op: 'get' | 'put' | 'delete'; key: string };
interface Result {
  status: number;
  headers: Record<string, string>;
  value?: string;
  body?: unknown;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const batch = (i: number, body: unknown) => http('POST', `${node(i).url}/batch`, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function results(i: number, ops: Op[]): Promise<Result[]> {
  const res = await batch(i, { ops });
  assertOk(res, 200, 'POST /batch');
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.json<{ results: Result[] }>();
  assert.equal(body.results.length, ops.length, 'one result per op');
  return body.results;
}

/** The request `op` stands for, sent alone (the query and header forms of docs/api.md). */
function alone(i: number, op: Op): Promise<HttpResponse> {
  const query = new URLSearchParams();
  for (const name of ['r', 'pr', 'w', 'pw', 'timeout', 'ttl', 'returnbody']) if (op[name] !== undefined) query.set(name, String(op[name]));
  const headers: Record<string, string> = {};
  const headerOf = { contentType: 'content-type', context: 'x-kvorum-context', ifMatch: 'if-match', ifNoneMatch: 'if-none-match' } as const;
  for (const [field, name] of Object.entries(headerOf)) if (op[field] !== undefined) headers[name] = String(op[field]);
  const body = op.op === 'put' ? Buffer.from(String(op['value']), 'base64') : undefined;
  return http(op.op.toUpperCase(), kv(node(i), encodeURIComponent(op.key), query.toString()), { headers, body });
}

/** An answer as a batch result shows it. */
function asResult(res: HttpResponse): Result {
  const headers: Record<string, string> = {};
  for (const name of ['x-kvorum-context', 'content-type', 'etag', 'x-kvorum-expires-at', 'x-kvorum-node']) {
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  if (res.status === 200) return { status: res.status, headers, value: res.body.toString('base64') };
  if (res.status === 300 || res.status >= 400) return { status: res.status, headers, body: res.json() };
  return { status: res.status, headers };
}

describe('POST /batch (3 nodes, N=3)', () => {
  useClientApiCluster();

  test('reads and refused writes answer exactly what they answer alone: status, headers, value, body', async () => {
    assertOk(await put(node(0), 'b-one', 'zero'), 204, 'PUT');
    const stale = (await get(node(0), 'b-one')).headers.get('x-kvorum-context')!;
    assertOk(await put(node(0), 'b-one', 'one', { contentType: 'text/x-one', context: stale }), 204, 'PUT');
    assertOk(await put(node(0), 'b-two', 'a'), 204, 'PUT');
    assertOk(await put(node(1), 'b-two', 'b', { contentType: 'text/plain' }), 204, 'PUT');
    assertOk(await put(node(0), 'b-gone', 'x'), 204, 'PUT');
    assertOk(await http('DELETE', kv(node(0), 'b-gone', 'w=all')), 204, 'DELETE');
    const one = await get(node(0), 'b-one');
    const ops: Op[] = [
      { op: 'get', key: 'b-one', r: 'all' },
      { op: 'get', key: 'b-two', r: 3, pr: '1', timeout: 5000 },
      { op: 'get', key: 'b-gone' },
      { op: 'get', key: 'b-never' },
      { op: 'get', key: 'b-one', r: 'all', ifNoneMatch: one.headers.get('etag') },
      { op: 'get', key: 'b-one', r: 'all', ifNoneMatch: '"0123456789abcdef"' },
      { op: 'put', key: 'b-one', value: b64('no'), ifNoneMatch: '*' },
      { op: 'put', key: 'b-one', value: b64(Buffer.alloc(maxValueBytes + 1)) },
      { op: 'delete', key: 'b-one', ifMatch: stale },
      { op: 'put', key: 'b-one', value: b64('stale'), ifMatch: stale, w: 'all', returnbody: true },
    ];
    const before = await snapshot('b-one');
    const expected: Result[] = [];
    for (const op of ops) expected.push(asResult(await alone(1, op)));
    const got = await results(1, ops);
    assert.deepEqual(got, expected);
    assert.deepEqual(got.map((r) => r.status), [200, 300, 404, 404, 304, 200, 412, 413, 412, 412]);
    assert.deepEqual(await snapshot('b-one'), before, 'the refused writes changed nothing');
    // A token that cannot be decoded is refused alone; in a batch, the whole batch is.
    const garbage: Op = { op: 'put', key: 'b-one', value: '', ifMatch: 'c2.garbage' };
    assertError(await alone(1, garbage), 400, 'invalid_context');
    assertError(await batch(1, { ops: [garbage] }), 400, 'invalid_batch');
  });

  test('writes answer as they do alone, and store what they store alone', async () => {
    const plan = (prefix: string): Op[] => [
      { op: 'put', key: `${prefix}/plain`, value: b64('v'), contentType: 'text/plain; charset=utf-8', w: 'all' },
      { op: 'put', key: `${prefix}/typeless`, value: b64(Buffer.from([0, 1, 2, 255])), w: 2, pw: 1 },
      { op: 'put', key: `${prefix}/empty`, value: '', contentType: '', w: 'all' },
      { op: 'put', key: `${prefix}/rb`, value: b64('body'), contentType: 'text/x-rb', returnbody: true, w: 'all' },
      { op: 'put', key: `${prefix}/new`, value: b64('created'), ifNoneMatch: '*', w: 'all', timeout: '3000' },
      { op: 'put', key: `${prefix}/caf\u00e9 +%.`, value: b64('odd key'), w: 'all' },
      { op: 'delete', key: `${prefix}/plain`, w: 'all' },
    ];
    const solo: Result[] = [];
    for (const op of plan('solo')) solo.push(asResult(await alone(0, op)));
    const batched = await results(0, plan('batched'));
    const shape = (r: Result) => ({ status: r.status, headers: Object.keys(r.headers).sort(), contentType: r.headers['content-type'], node: r.headers['x-kvorum-node'], value: r.value });
    assert.deepEqual(batched.map(shape), solo.map(shape));
    assert.deepEqual(batched.map((r) => r.status), [204, 204, 204, 200, 204, 204, 204]);
    for (const op of plan('x')) {
      const [soloRead, batchRead] = await Promise.all(['solo', 'batched'].map((p) => get(node(2), encodeURIComponent(op.key.replace(/^x/, p)))));
      assert.equal(batchRead!.status, soloRead!.status, op.key);
      assert.equal(batchRead!.headers.get('content-type'), soloRead!.headers.get('content-type'), op.key);
      if (soloRead!.status === 200) assert.ok(batchRead!.body.equals(soloRead!.body), op.key);
    }
  });

  test("one key's ops run in batch order, interleaved with other keys'", async () => {
    const ops: Op[] = [];
    const keys = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    const chain = (key: string): Op[] => [
      { op: 'put', key, value: b64('v1'), ifNoneMatch: '*', w: 'all' },
      { op: 'put', key, value: b64('v2'), ifNoneMatch: '*', w: 'all' },
      { op: 'get', key, r: 'all' },
      { op: 'delete', key, w: 'all' },
      { op: 'get', key, r: 'all' },
      { op: 'put', key, value: b64('v3'), ifNoneMatch: '*', w: 'all' },
      { op: 'get', key, r: 'all' },
    ];
    const chains = keys.map(chain);
    for (let step = 0; step < 7; step++) for (const c of chains) ops.push(c[step]!);
    const got = await results(2, ops);
    got.forEach((r, i) => {
      const step = Math.floor(i / keys.length);
      assert.equal(r.status, [204, 412, 200, 204, 404, 204, 200][step], `op ${i} (step ${step} of ${ops[i]!.key})`);
      if (step === 2) assert.equal(r.value, b64('v1'));
      if (step === 6) assert.equal(r.value, b64('v3'));
    });
  });

  test('the keys . and .. are ops like any other; a client cannot use the header that carries their URL', async () => {
    const wrote = await results(0, [
      { op: 'put', key: '.', value: b64('dot'), w: 'all' },
      { op: 'put', key: '..', value: b64('dot dot'), w: 'all' },
    ]);
    assert.deepEqual(wrote.map((r) => r.status), [204, 204]);
    const read = await results(1, [{ op: 'get', key: '.' }, { op: 'get', key: '..' }, { op: 'get', key: '%2E' }]);
    assert.deepEqual(read.map((r) => r.value), [b64('dot'), b64('dot dot'), undefined]);
    const conn = await RawConnection.open(node(2).port);
    try {
      conn.write('GET /kv/.. HTTP/1.1\r\nHost: x\r\n\r\n');
      const res = await conn.readResponse(10_000);
      assert.ok(res !== 'closed' && res.status === 200 && res.body.toString('utf8') === 'dot dot', 'the same key, alone');
    } finally {
      conn.destroy();
    }
    assertOk(await put(node(0), 'url-a', 'a'), 204, 'PUT');
    const own = await http('GET', kv(node(0), 'url-a'), { headers: { 'x-kvorum-batch-url': '/kv/..' } });
    assert.equal(own.body.toString('utf8'), 'a', 'the header is ignored on a request of its own');
  });

  test('a malformed batch is 400 invalid_batch naming the op, and runs none of its ops', async () => {
    const unwritten: string[] = [];
    const good = (key: string): Op => (unwritten.push(key), { op: 'put', key, value: b64('must not be written'), w: 'all' });
    const cases: Array<[string, unknown, number | undefined]> = [
      ['101 ops', { ops: Array.from({ length: batchOpsMax + 1 }, (_, i) => good(`bad-101-${i}`)) }, undefined],
      ['no ops', { ops: [] }, undefined],
      ['ops not an array', { ops: good('bad-shape') }, undefined],
      ['unknown op', { ops: [good('bad-op'), { op: 'patch', key: 'bad-op' }] }, 1],
      ['value not base64', { ops: [good('bad-b64'), { op: 'put', key: 'bad-b64-2', value: 'dmFsdWU' }] }, 1],
      ['value with a space', { ops: [good('bad-b64s'), { op: 'put', key: 'bad-b64s-2', value: 'dm Fs' }] }, 1],
      ['empty key', { ops: [good('bad-key'), { op: 'get', key: '' }] }, 1],
      ['key over 512 bytes', { ops: [good('bad-key2'), { op: 'delete', key: '\u00e9'.repeat(257) }] }, 1],
      ['r over N', { ops: [good('bad-q'), { op: 'get', key: 'bad-q', r: 4 }] }, 1],
      ['w not a form', { ops: [good('bad-q2'), { op: 'put', key: 'bad-q2', value: '', w: 'most' }] }, 1],
      ['pw over w', { ops: [good('bad-q3'), { op: 'delete', key: 'bad-q3', w: 1, pw: 2 }] }, 1],
      ['timeout 0', { ops: [good('bad-t'), { op: 'get', key: 'bad-t', timeout: 0 }] }, 1],
      ['ttl 0', { ops: [good('bad-ttl'), { op: 'put', key: 'bad-ttl', value: '', ttl: '0' }] }, 1],
      ['an unknown field', { ops: [good('bad-field'), { op: 'get', key: 'bad-field', rr: 2 }] }, 1],
      ['If-Match with a context', { ops: [good('bad-pre'), { op: 'delete', key: 'bad-pre', ifMatch: 'x', context: 'x' }] }, 1],
    ];
    for (const [what, body, index] of cases) {
      const error = assertError(await batch(0, body), 400, 'invalid_batch', { node: node(0).id });
      assert.equal(error['index'], index, what);
      if (index !== undefined) assert.match(String(error['message']), new RegExp(`^ops\\[${index}\\]: `), what);
    }
    for (const bytes of ['{"ops": [', 'not json', '', '\u00ff', '[]', '{}']) {
      assertError(await http('POST', `${node(1).url}/batch`, { body: Buffer.from(bytes, 'latin1') }), 400, 'invalid_batch');
    }
    for (const key of unwritten) assert.equal((await get(node(2), key)).status, 404, `${key} not written`);
  });

  test(`a body over ${batchBytesMax} bytes is 413 value_too_large; just under it is run`, async () => {
    // As a client sending a large body should: with Expect: 100-continue, so the node's 413 (decided
    // from Content-Length alone) arrives before any of the body is sent. (Sent at once, the node
    // closes the connection after its 413 while the body is still coming, and the client may see
    // only the reset.)
    const conn = await RawConnection.open(node(0).port);
    try {
      conn.write(`POST /batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${batchBytesMax + 1}\r\n\r\n`);
      let answer = await conn.readResponse(10_000);
      if (answer !== 'closed' && answer.status === 100) answer = await conn.readResponse(10_000);
      assert.notEqual(answer, 'closed', 'an answer before the connection closed');
      if (answer !== 'closed') {
        assert.equal(answer.status, 413);
        assert.equal(JSON.parse(answer.body.toString('utf8')).error, 'value_too_large');
      }
    } finally {
      conn.destroy();
    }
    // 100 ops of ~160 KiB each: the body fits, each value is over the test cluster's value limit.
    const big = b64(Buffer.alloc(Math.floor((batchBytesMax - 64 * 1024) / batchOpsMax / 4) * 3, 7));
    const ops: Op[] = Array.from({ length: batchOpsMax }, (_, i) => ({ op: 'put', key: `big-${i}`, value: big }));
    const body = Buffer.from(JSON.stringify({ ops }));
    assert.ok(body.length <= batchBytesMax && body.length > batchBytesMax - 128 * 1024, `${body.length} bytes`);
    const res = await http('POST', `${node(0).url}/batch`, { body, timeoutMs: 30_000 });
    assertOk(res, 200, 'a batch just under the limit');
    for (const r of res.json<{ results: Result[] }>().results) assert.equal(r.status, 413);
    for (const n of nodes()) assertError(await get(n, 'big-0'), 404, 'not_found');
  });
});
