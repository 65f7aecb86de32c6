// API.md sections 2-3 end to end over HTTP against one real 3-node cluster (N=3, so every node is a
// primary of every key and coordinates what it receives).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startCluster, waitFor, withLogs, type HttpResponse, type TestCluster, type TestNode } from '../helpers/cluster.js';

const maxValueBytes = 65_536;
const utf8 = (s: string) => Buffer.from(s, 'utf8');

let cluster: TestCluster | undefined;
const nodes = (): TestNode[] => cluster!.nodes;
const node = (i: number): TestNode => cluster!.nodes[i]!;
const kv = (n: TestNode, encodedKey: string, query = '') => `${n.url}/kv/${encodedKey}${query ? `?${query}` : ''}`;
/** A test body, with the cluster's recent output printed if it fails. */
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

function assertNodeHeader(res: HttpResponse, expected?: string): void {
  const got = res.headers.get('x-kvorum-node');
  assert.ok(got, `X-Kvorum-Node missing on a ${res.status} response`);
  if (expected !== undefined) assert.equal(got, expected, 'X-Kvorum-Node');
}

/** A JSON error from the catalog: status, `error` code, a message, and (unless told not to) X-Kvorum-Node. */
function assertError(res: HttpResponse, status: number, code: string, opts: { node?: string; nodeHeader?: boolean } = {}): Record<string, unknown> {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text().slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, 'errors are JSON');
  const body = res.json<Record<string, unknown>>();
  assert.equal(body['error'], code);
  assert.equal(typeof body['message'], 'string');
  assert.ok((body['message'] as string).length > 0, 'message is not empty');
  if (opts.nodeHeader !== false) assertNodeHeader(res, opts.node);
  return body;
}

function assertOk(res: HttpResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status}: ${res.text().slice(0, 300)}`);
}

async function put(n: TestNode, key: string, value: Buffer | string, opts: { query?: string; contentType?: string; context?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  if (opts.context !== undefined) headers['x-kvorum-context'] = opts.context;
  return http('PUT', kv(n, key, opts.query ?? 'w=all'), { body: value, headers });
}

async function get(n: TestNode, key: string, query = 'r=all') {
  return http('GET', kv(n, key, query));
}

/** What a key looks like to a client right now (r=all through every node), to prove a request changed nothing. */
async function snapshot(key: string) {
  const views = [];
  for (const n of nodes()) {
    const res = await get(n, key);
    views.push({
      status: res.status,
      contentType: res.status === 200 ? res.headers.get('content-type') : null,
      body: res.status === 404 ? null : res.body.toString('base64'),
      context: res.headers.get('x-kvorum-context'),
    });
  }
  for (const v of views.slice(1)) assert.deepEqual(v, views[0], 'every node gives the same r=all answer');
  return views[0]!;
}

/** Sibling values of a 300 answer, decoded and sorted. */
function siblingsOf(res: HttpResponse): { values: string[]; contentTypes: string[]; context: string } {
  assert.equal(res.status, 300, `expected 300 siblings, got ${res.status}: ${res.text().slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.json<{ context: string; siblings: { value: string; contentType: string }[] }>();
  assert.equal(typeof body.context, 'string');
  assert.equal(body.context, res.headers.get('x-kvorum-context'), 'the body context is the header context');
  assert.ok(Array.isArray(body.siblings));
  const pairs = body.siblings.map((s) => {
    assert.deepEqual(Object.keys(s).sort(), ['contentType', 'value']);
    return [Buffer.from(s.value, 'base64').toString('utf8'), s.contentType] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { values: pairs.map((p) => p[0]), contentTypes: pairs.map((p) => p[1]), context: body.context };
}

describe('client API (3 nodes, N=3)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, extraArgs: ['--max-value-bytes', String(maxValueBytes)] });
  });
  after(async () => {
    await cluster?.stop();
  });

  describe('PUT and GET', () => {
    test('a PUT through each node is read back through every node: body, Content-Type byte for byte, headers', async () => {
      const contentType = 'Text/Plain;Charset=UTF-8;  x-Param="a b\\"c"';
      for (const writer of nodes()) {
        const key = `pg-${writer.id}`;
        const value = `value written through ${writer.id} \u00e9\u20ac`;
        const w = await put(writer, key, value, { contentType });
        assertOk(w, 204, 'PUT');
        assert.equal(w.body.length, 0, '204 has no body');
        assert.match(w.headers.get('x-kvorum-context') ?? '', /^[A-Za-z0-9._~-]+$/, 'PUT returns a URL-safe context');
        assertNodeHeader(w, writer.id);
        for (const reader of nodes()) {
          for (const r of ['1', 'quorum', 'all']) {
            const res = await get(reader, key, `r=${r}`);
            assertOk(res, 200, `GET ${key} via ${reader.id} r=${r}`);
            assert.equal(res.body.toString('utf8'), value);
            assert.equal(res.headers.get('content-type'), contentType);
            assert.match(res.headers.get('x-kvorum-context') ?? '', /^[A-Za-z0-9._~-]+$/, 'GET returns a URL-safe context');
            assertNodeHeader(res, reader.id);
          }
        }
      }
    });

    test('a PUT without Content-Type is stored as application/octet-stream', async () => {
      assertOk(await put(node(0), 'no-type', utf8('raw')), 204, 'PUT');
      for (const n of nodes()) {
        const res = await get(n, 'no-type');
        assertOk(res, 200, 'GET');
        assert.equal(res.headers.get('content-type'), 'application/octet-stream');
        assert.equal(res.body.toString('utf8'), 'raw');
      }
    });

    test('binary values with all 256 byte values round-trip exactly', async () => {
      const value = Buffer.alloc(256 * 4);
      for (let i = 0; i < value.length; i++) value[i] = (i * 7 + (i >> 8)) & 0xff;
      const plain = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      assertOk(await put(node(0), 'binary', Buffer.concat([plain, value]), { contentType: 'application/octet-stream' }), 204, 'PUT');
      for (const n of nodes()) {
        const res = await get(n, 'binary');
        assertOk(res, 200, 'GET');
        assert.ok(res.body.equals(Buffer.concat([plain, value])), 'bytes differ');
      }
    });

    test('an empty value is stored and read back as an empty 200', async () => {
      assertOk(await put(node(1), 'empty', Buffer.alloc(0), { contentType: 'text/plain' }), 204, 'PUT empty');
      for (const n of nodes()) {
        const res = await get(n, 'empty');
        assertOk(res, 200, 'GET empty');
        assert.equal(res.body.length, 0);
        assert.equal(res.headers.get('content-type'), 'text/plain');
        assert.ok(res.headers.get('x-kvorum-context'));
      }
    });

    test('percent-encoded keys: unicode, %2F inside a key, + is a literal plus, %20 is a space, hex case does not matter', async () => {
      // Each write below goes to a distinct key; reading an equivalent encoding must find it.
      const cases: { write: string; sameKey: string[]; otherKeys: string[]; value: string }[] = [
        { write: '%E2%82%AC', sameKey: ['%e2%82%ac', '%E2%82%ac'], otherKeys: ['%E2%82%AC%E2%82%AC', 'E2', '%E2%82%A0'], value: 'euro' },
        { write: 'a%2Fb', sameKey: ['a%2fb'], otherKeys: ['a', 'b', 'ab', 'a%5Cb'], value: 'slash' },
        { write: 'a+b', sameKey: ['a%2Bb', 'a%2bb'], otherKeys: ['a%20b', 'ab'], value: 'plus' },
        { write: 'a%20b', sameKey: ['a%20b'], otherKeys: [], value: 'space' },
        { write: '%61%62c', sameKey: ['abc', 'a%62%63'], otherKeys: [], value: 'abc' },
        { write: 'caf%C3%A9%3F%23%25%26%3D', sameKey: ['caf%c3%a9%3f%23%25%26%3d'], otherKeys: ['caf%C3%A9'], value: 'reserved' },
      ];
      for (const c of cases) {
        const w = await put(node(0), c.write, c.value, { contentType: 'text/plain' });
        assertOk(w, 204, `PUT /kv/${c.write}`);
        for (const key of [c.write, ...c.sameKey]) {
          for (const n of nodes()) {
            const res = await get(n, key);
            assertOk(res, 200, `GET /kv/${key} (same key as /kv/${c.write}) via ${n.id}`);
            assert.equal(res.body.toString('utf8'), c.value, `/kv/${key}`);
          }
        }
      }
      // Distinct keys: a+b and a%20b hold their own values; the others were never written.
      assert.equal((await get(node(2), 'a+b')).body.toString('utf8'), 'plus');
      assert.equal((await get(node(2), 'a%20b')).body.toString('utf8'), 'space');
      for (const c of cases) {
        for (const key of c.otherKeys) {
          if (cases.some((o) => o.write === key || o.sameKey.includes(key))) continue;
          const res = await get(node(1), key);
          assertError(res, 404, 'not_found', { node: node(1).id });
        }
      }
    });

    test('a 512-byte key works (ASCII and multi-byte); 513 bytes is 400 invalid_key', async () => {
      const ascii512 = 'k'.repeat(512);
      const euro = '%E2%82%AC';
      const multi512 = euro.repeat(170) + 'ab'; // 170 * 3 + 2 = 512 bytes decoded
      for (const key of [ascii512, multi512]) {
        assertOk(await put(node(0), key, 'long'), 204, `PUT 512-byte key`);
        const res = await get(node(2), key);
        assertOk(res, 200, 'GET 512-byte key');
        assert.equal(res.body.toString('utf8'), 'long');
      }
      for (const key of ['k'.repeat(513), euro.repeat(171), euro.repeat(170) + 'abc']) {
        assertError(await put(node(0), key, 'too long'), 400, 'invalid_key', { node: node(0).id });
        assertError(await get(node(0), key), 400, 'invalid_key', { node: node(0).id });
        assertError(await http('DELETE', kv(node(0), key)), 400, 'invalid_key', { node: node(0).id });
      }
    });
  });

  describe('causal context and siblings', () => {
    test('two blind PUTs become siblings (300); writing with their context resolves them', async () => {
      const key = 'siblings';
      assertOk(await put(node(0), key, 'v1', { contentType: 'text/plain' }), 204, 'PUT v1');
      assertOk(await put(node(1), key, 'v2', { contentType: 'text/x-two' }), 204, 'PUT v2');
      let context = '';
      for (const n of nodes()) {
        const res = await get(n, key);
        const s = siblingsOf(res);
        assert.deepEqual(s.values, ['v1', 'v2']);
        assert.deepEqual(s.contentTypes, ['text/plain', 'text/x-two']);
        assertNodeHeader(res, n.id);
        if (context) assert.equal(s.context, context, 'all nodes give the same context');
        context = s.context;
      }
      const merged = await put(node(2), key, 'v1+v2', { context, contentType: 'text/plain' });
      assertOk(merged, 204, 'PUT merged with context');
      for (const n of nodes()) {
        const res = await get(n, key);
        assertOk(res, 200, 'GET after resolving');
        assert.equal(res.body.toString('utf8'), 'v1+v2');
      }
    });

    test("a PUT's returned context lets a client write again without reading, never hiding a concurrent write", async () => {
      const key = 'write-again';
      const a1 = await put(node(0), key, 'v1', { contentType: 'text/plain' });
      assertOk(a1, 204, 'A puts v1');
      const ctxA = a1.headers.get('x-kvorum-context');
      assert.ok(ctxA);
      assertOk(await put(node(1), key, 'v2', { contentType: 'text/plain' }), 204, 'B blind-puts v2');
      const a3 = await put(node(0), key, 'v3', { contentType: 'text/plain', context: ctxA });
      assertOk(a3, 204, 'A puts v3 with ctxA');
      const ctxA3 = a3.headers.get('x-kvorum-context');
      assert.ok(ctxA3);
      for (const n of nodes()) assert.deepEqual(siblingsOf(await get(n, key)).values, ['v2', 'v3'], `siblings via ${n.id}`);
      // A again, with the context of its last write: supersedes v3 only, B's v2 survives.
      assertOk(await put(node(2), key, 'v4', { contentType: 'text/plain', context: ctxA3 }), 204, 'A puts v4 with ctx of v3');
      for (const n of nodes()) assert.deepEqual(siblingsOf(await get(n, key)).values, ['v2', 'v4'], `siblings via ${n.id}`);
    });

    test('returnbody=true answers 200 with the value, or 300 with the siblings', async () => {
      const key = 'returnbody';
      const first = await put(node(0), key, 'only', { query: 'w=all&returnbody=true', contentType: 'text/x-rb' });
      assertOk(first, 200, 'PUT returnbody');
      assert.equal(first.body.toString('utf8'), 'only');
      assert.equal(first.headers.get('content-type'), 'text/x-rb');
      const ctx = first.headers.get('x-kvorum-context');
      assert.ok(ctx);
      assertNodeHeader(first, node(0).id);

      const blind = await put(node(1), key, 'other', { query: 'w=all&returnbody=true', contentType: 'text/x-other' });
      const s = siblingsOf(blind);
      assert.deepEqual(s.values, ['only', 'other']);
      assertNodeHeader(blind, node(1).id);

      const resolved = await put(node(2), key, 'resolved', { query: 'returnbody=true&w=all', contentType: 'text/plain', context: s.context });
      assertOk(resolved, 200, 'PUT returnbody with context');
      assert.equal(resolved.body.toString('utf8'), 'resolved');
      assert.equal(resolved.headers.get('content-type'), 'text/plain');

      const explicitFalse = await put(node(2), key, 'again', { query: 'returnbody=false', context: resolved.headers.get('x-kvorum-context')! });
      assertOk(explicitFalse, 204, 'returnbody=false');
    });

    test('DELETE with context: 404 afterwards, with X-Kvorum-Context; a write with that context is a single value', async () => {
      const key = 'to-delete';
      assertOk(await put(node(0), key, 'doomed', { contentType: 'text/plain' }), 204, 'PUT');
      const read = await get(node(1), key);
      assertOk(read, 200, 'GET');
      const del = await http('DELETE', kv(node(1), key, 'w=all'), { headers: { 'x-kvorum-context': read.headers.get('x-kvorum-context')! } });
      assertOk(del, 204, 'DELETE');
      assert.ok(del.headers.get('x-kvorum-context'), 'DELETE returns a context');
      assertNodeHeader(del, node(1).id);
      let tombstoneContext = '';
      for (const n of nodes()) {
        const res = await get(n, key);
        assertError(res, 404, 'not_found', { node: n.id });
        const ctx = res.headers.get('x-kvorum-context');
        assert.ok(ctx, `404 after a delete carries X-Kvorum-Context (via ${n.id})`);
        tombstoneContext = ctx;
      }
      assertOk(await put(node(2), key, 'reborn', { context: tombstoneContext, contentType: 'text/plain' }), 204, 'PUT after delete');
      const res = await get(node(0), key);
      assertOk(res, 200, 'GET after re-create');
      assert.equal(res.body.toString('utf8'), 'reborn');
    });

    test('DELETE without a context removes what the coordinator has seen', async () => {
      const key = 'delete-blind';
      assertOk(await put(node(0), key, 'seen'), 204, 'PUT');
      const del = await http('DELETE', kv(node(2), key, 'w=all'));
      assertOk(del, 204, 'DELETE without context');
      for (const n of nodes()) {
        const res = await get(n, key);
        assertError(res, 404, 'not_found', { node: n.id });
        assert.ok(res.headers.get('x-kvorum-context'), 'the tombstone is known');
      }
    });

    test('a never-written key is 404 not_found without X-Kvorum-Context', async () => {
      for (const n of nodes()) {
        for (const r of ['1', 'quorum', 'all']) {
          const res = await get(n, 'never-written-key', `r=${r}`);
          assertError(res, 404, 'not_found', { node: n.id });
          assert.equal(res.headers.get('x-kvorum-context'), null, 'no context for a key never written');
        }
      }
    });
  });

  describe('quorum forms', () => {
    test('w / r = 1, 2, 3, one, quorum, all all succeed on a healthy cluster (also as pw / pr)', async () => {
      for (const form of ['1', '2', '3', 'one', 'quorum', 'all']) {
        const key = `form-${form}`;
        assertOk(await put(node(0), key, `v-${form}`, { query: `w=${form}` }), 204, `PUT w=${form}`);
        const res = await get(node(0), key, `r=${form}`);
        assertOk(res, 200, `GET r=${form}`);
        assert.equal(res.body.toString('utf8'), `v-${form}`);
        const del = await http('DELETE', kv(node(0), key, `w=${form}`), { headers: { 'x-kvorum-context': res.headers.get('x-kvorum-context')! } });
        assertOk(del, 204, `DELETE w=${form}`);
      }
      for (const form of ['0', '1', '2', '3', 'one', 'quorum', 'all']) {
        const key = `pform-${form}`;
        assertOk(await put(node(1), key, `p-${form}`, { query: `w=all&pw=${form}` }), 204, `PUT w=all&pw=${form}`);
        const res = await get(node(2), key, `r=all&pr=${form}`);
        assertOk(res, 200, `GET r=all&pr=${form}`);
        assert.equal(res.body.toString('utf8'), `p-${form}`);
      }
      // Defaults (quorum) with no query at all.
      assertOk(await http('PUT', kv(node(2), 'form-default'), { body: utf8('d') }), 204, 'PUT with default w');
      assertOk(await http('GET', kv(node(1), 'form-default')), 200, 'GET with default r');
      assertOk(await put(node(0), 'form-timeout', 't', { query: 'w=all&timeout=60000' }), 204, 'timeout=60000 is accepted');
    });
  });

  describe('errors (each rejected request changes nothing)', () => {
    const base = 'err-base';
    let before: Awaited<ReturnType<typeof snapshot>>;

    const unchanged = async (what: string) => {
      assert.deepEqual(await snapshot(base), before, `${what} must not change ${base}`);
    };

    test('setup: a key with one known value', async () => {
      assertOk(await put(node(0), base, 'original', { contentType: 'text/plain' }), 204, 'PUT');
      before = await snapshot(base);
      assert.equal(before.status, 200);
      assert.equal(Buffer.from(before.body!, 'base64').toString('utf8'), 'original');
    });

    test('invalid_key: empty /kv/, 513 bytes (status, code; nothing stored under a similar key)', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await http(method, `${node(0).url}/kv/`, method === 'PUT' ? { body: utf8('x') } : {});
        assertError(res, 400, 'invalid_key', { node: node(0).id });
      }
      const long = 'q'.repeat(513);
      assertError(await put(node(1), long, 'x'), 400, 'invalid_key', { node: node(1).id });
      assertError(await get(node(1), long.slice(0, 512)), 404, 'not_found');
      assertError(await get(node(1), long.slice(1)), 404, 'not_found');
      await unchanged('invalid_key');
    });

    test('invalid_key: not valid UTF-8 (%FF, truncated %E2%82): 400 invalid_key; nothing stored under a similar key', async () => {
      for (const [bad, lookalikes] of [
        ['bad-%FF', ['bad-', 'bad-%EF%BF%BD', 'bad-%C3%BF']],
        ['bad-%E2%82', ['bad-', 'bad-%EF%BF%BD', 'bad-%E2%82%AC']],
        ['%E2%82', ['%EF%BF%BD', '%C3%A2%C2%82']],
        ['bad-%2G', ['bad-', 'bad-%252G']], // not even valid percent-encoding
      ] as const) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await http(method, kv(node(2), bad, method === 'GET' ? 'r=all' : 'w=all'), method === 'PUT' ? { body: utf8('x') } : {});
          // X-Kvorum-Node is checked in its own test below.
          assertError(res, 400, 'invalid_key', { nodeHeader: false });
        }
        for (const key of lookalikes) assertError(await get(node(0), key), 404, 'not_found');
      }
      await unchanged('invalid_key');
    });

    test('invalid_key responses for invalid UTF-8 carry X-Kvorum-Node', async () => {
      // These are answered by fastify's frameworkErrors, where hooks (which add the header) do not run.
      for (const bad of ['bad-%FF', '%E2%82', 'bad-%2G']) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await http(method, kv(node(2), bad), method === 'PUT' ? { body: utf8('x') } : {});
          assertError(res, 400, 'invalid_key', { node: node(2).id });
        }
      }
    });

    test('invalid_quorum: w=0, w=4 (N=3), w=abc, pw=3&w=2, pr=2&r=1, r=0, r=4', async () => {
      for (const query of ['w=0', 'w=4', 'w=abc', 'pw=3&w=2', 'pw=all&w=1', 'w=', 'w=-1', 'w=2.0', 'pw=4&w=all']) {
        assertError(await put(node(0), base, 'changed', { query }), 400, 'invalid_quorum', { node: node(0).id });
        assertError(await http('DELETE', kv(node(1), base, query)), 400, 'invalid_quorum', { node: node(1).id });
      }
      for (const query of ['r=0', 'r=4', 'r=abc', 'pr=2&r=1', 'pr=all&r=quorum', 'pr=4']) {
        assertError(await get(node(2), base, query), 400, 'invalid_quorum', { node: node(2).id });
      }
      await unchanged('invalid_quorum');
    });

    test('invalid_context: an undecodable X-Kvorum-Context', async () => {
      const garbage = ['garbage', 'c1.!!!!', 'c1.bm90IGpzb24', 'c9.W1tdLFtdXQ', 'c1.W1tbIkJBRCIsMV1dLFtdXQ'];
      for (const context of garbage) {
        assertError(await put(node(0), base, 'changed', { context }), 400, 'invalid_context', { node: node(0).id });
        assertError(await http('DELETE', kv(node(1), base, 'w=all'), { headers: { 'x-kvorum-context': context } }), 400, 'invalid_context', {
          node: node(1).id,
        });
      }
      await unchanged('invalid_context');
    });

    test('invalid_timeout: 0, 60001, 1.5, abc', async () => {
      for (const t of ['0', '60001', '1.5', 'abc', '-5', '']) {
        assertError(await put(node(0), base, 'changed', { query: `w=all&timeout=${t}` }), 400, 'invalid_timeout', { node: node(0).id });
        assertError(await get(node(1), base, `timeout=${t}`), 400, 'invalid_timeout', { node: node(1).id });
        assertError(await http('DELETE', kv(node(2), base, `timeout=${t}`)), 400, 'invalid_timeout', { node: node(2).id });
      }
      await unchanged('invalid_timeout');
    });

    test(`value_too_large: ${maxValueBytes + 1} bytes is 413; ${maxValueBytes} bytes is accepted`, async () => {
      const tooBig = Buffer.alloc(maxValueBytes + 1, 0x61);
      assertError(await put(node(0), base, tooBig), 413, 'value_too_large', { node: node(0).id });
      assertError(await put(node(1), 'too-large-new', tooBig), 413, 'value_too_large', { node: node(1).id });
      // The same without Content-Length (chunked): the limit still holds.
      const chunked = await fetch(kv(node(2), base, 'w=all'), {
        method: 'PUT',
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 9; i++) controller.enqueue(new Uint8Array(maxValueBytes / 8));
            controller.close();
          },
        }),
        duplex: 'half',
        signal: AbortSignal.timeout(10_000),
      } as RequestInit & { duplex: 'half' });
      assert.equal(chunked.status, 413, 'chunked body over the limit');
      assert.equal(((await chunked.json()) as { error: string }).error, 'value_too_large');
      assertError(await get(node(0), 'too-large-new'), 404, 'not_found');
      await unchanged('value_too_large');

      const exact = Buffer.alloc(maxValueBytes, 0x62);
      assertOk(await put(node(1), 'max-value', exact), 204, `PUT ${maxValueBytes} bytes`);
      const res = await get(node(2), 'max-value');
      assertOk(res, 200, 'GET max-size value');
      assert.ok(res.body.equals(exact));
    });

    test('not_found: unknown key and unknown route both carry the node header', async () => {
      assertError(await get(node(0), 'nope-never'), 404, 'not_found', { node: node(0).id });
      assertError(await http('GET', `${node(1).url}/no-such-route`), 404, 'not_found', { node: node(1).id });
    });
  });

  describe('admin API', () => {
    test('GET /health is 200 {status:"ok", node}', async () => {
      for (const n of nodes()) {
        const res = await http('GET', `${n.url}/health`);
        assertOk(res, 200, 'health');
        assert.deepEqual(res.json(), { status: 'ok', node: n.id });
        assertNodeHeader(res, n.id);
      }
    });

    test('GET /cluster: node, n, partitions, members (id, url as in --peers, status), ring of N distinct owners', async () => {
      const ids = nodes().map((n) => n.id).sort();
      const rings: unknown[] = [];
      for (const n of nodes()) {
        // Peer status comes from periodic probes: wait until this node has seen every peer up.
        const view = await waitFor(
          async () => {
            const res = await http('GET', `${n.url}/cluster`);
            assertOk(res, 200, '/cluster');
            const body = res.json();
            return body.members.every((m: { status: string }) => m.status === 'up') ? body : undefined;
          },
          { timeoutMs: 10_000, what: `${n.id}'s /cluster to show every member up` },
        );
        assert.equal(view.node, n.id);
        assert.equal(view.n, 3);
        assert.equal(view.partitions, 64);
        assert.deepEqual(
          [...view.members].sort((a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1)),
          nodes().map((m) => ({ id: m.id, url: m.url, status: 'up', hintsPending: 0 })),
        );
        assert.equal(view.ring.length, 64);
        view.ring.forEach((entry: { partition: number; owners: string[] }, i: number) => {
          assert.deepEqual(Object.keys(entry).sort(), ['owners', 'partition']);
          assert.equal(entry.partition, i);
          assert.equal(entry.owners.length, 3);
          assert.equal(new Set(entry.owners).size, 3, 'owners are distinct');
          for (const o of entry.owners) assert.ok(ids.includes(o), `owner ${o} is a member`);
        });
        rings.push(view.ring);
        assertNodeHeader(await http('GET', `${n.url}/cluster`), n.id);
      }
      assert.deepEqual(rings[1], rings[0], 'every node computes the same ring');
      assert.deepEqual(rings[2], rings[0], 'every node computes the same ring');
    });

    test('GET /metrics is Prometheus text with request and quorum counters', async () => {
      for (const n of nodes()) {
        const res = await http('GET', `${n.url}/metrics`);
        assertOk(res, 200, 'metrics');
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
        assertNodeHeader(res, n.id);
        const text = res.text();
        assert.match(text, /^# TYPE kvorum_http_requests_total counter$/m);
        assert.match(text, /^# TYPE kvorum_quorum_outcomes_total counter$/m);
        assert.match(text, /^kvorum_http_requests_total\{[^}]*\} [0-9]+$/m);
        // Every node coordinated some reads above.
        assert.match(text, /^kvorum_quorum_outcomes_total\{[^}]*outcome="met"[^}]*\} [1-9][0-9]*$/m);
      }
    });
  });
});
