// docs/api.md sections 2-3 end to end over HTTP against a real 3-node cluster (N=3): writes and reads,
// causal contexts and siblings, quorum forms. Errors and the admin API: client-api-errors.test.ts.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { http } from '../kit/http.js';
import {
  assertError, assertNodeHeader, assertOk, get, kv, node, nodes, put, siblingsOf, test, useClientApiCluster, utf8,
} from '../helpers/client-api.js';

describe('client API (3 nodes, N=3)', () => {
  useClientApiCluster();

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

});
