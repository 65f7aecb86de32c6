// docs/api.md section 2, Conditional requests, end to end against a real 3-node cluster (N=3):
// If-None-Match: * creates, If-Match writes and deletes, ETag and 304 on GET, the malformed forms
// (each changes nothing), and the leaderless caveat: concurrent creates at two coordinators end in
// one 412 or in two siblings, never in a lost write.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { http, type HttpResponse } from '../kit/http.js';
import { RawConnection, type RawResponse } from '../kit/raw-http.js';
import {
  assertError, assertNodeHeader, assertOk, get, kv, node, nodes, put, siblingsOf, snapshot, test, useClientApiCluster,
} from '../helpers/client-api.js';

const etagForm = /^"[0-9a-f]{16}"$/;

const putIf = (i: number, key: string, value: string, headers: Record<string, string>, query = 'w=all') =>
  http('PUT', kv(node(i), key, query), { body: value, headers: { 'content-type': 'text/plain', ...headers } });
const deleteIf = (i: number, key: string, headers: Record<string, string>) => http('DELETE', kv(node(i), key, 'w=all'), { headers });
const contextOf = (res: HttpResponse) => {
  const ctx = res.headers.get('x-kvorum-context');
  assert.ok(ctx, `X-Kvorum-Context on a ${res.status}`);
  return ctx;
};

/** One request written byte for byte (fetch would join a repeated header into one). */
async function raw(port: number, request: string): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  try {
    conn.write(Buffer.from(request, 'latin1'));
    const res = await conn.readResponse(10_000);
    assert.notEqual(res, 'closed', 'an answer before the connection closed');
    return res as RawResponse;
  } finally {
    conn.destroy();
  }
}

describe('conditional requests (3 nodes, N=3)', () => {
  useClientApiCluster();

  test('If-None-Match: * creates a missing key once; the second create is 412 and changes nothing', async () => {
    const key = 'create-once';
    assertOk(await putIf(0, key, 'first', { 'if-none-match': '*' }), 204, 'first create');
    const before = await snapshot(key);
    for (const i of [0, 1, 2]) {
      const res = await putIf(i, key, `again-${i}`, { 'if-none-match': '*' });
      assertError(res, 412, 'precondition_failed', { node: node(i).id });
    }
    assert.deepEqual(await snapshot(key), before);
    assert.equal((await get(node(2), key)).body.toString('utf8'), 'first');
  });

  test('If-None-Match: * over a deleted key creates it, superseding the tombstone', async () => {
    const key = 'create-after-delete';
    assertOk(await put(node(0), key, 'old'), 204, 'PUT');
    assertOk(await http('DELETE', kv(node(0), key, 'w=all')), 204, 'DELETE');
    assertOk(await putIf(1, key, 'reborn', { 'if-none-match': '*' }), 204, 'create over the tombstone');
    for (const n of nodes()) assert.equal((await get(n, key)).body.toString('utf8'), 'reborn');
  });

  test('If-Match: the current context writes (204), a stale one is 412 and changes nothing; the same on DELETE', async () => {
    const key = 'if-match';
    assertOk(await put(node(0), key, 'v1'), 204, 'PUT v1');
    const stale = contextOf(await get(node(1), key));
    assertOk(await put(node(2), key, 'v2', { context: stale }), 204, 'PUT v2 with the context read');
    const before = await snapshot(key);
    assertError(await putIf(0, key, 'v3', { 'if-match': stale }), 412, 'precondition_failed', { node: node(0).id });
    assertError(await deleteIf(1, key, { 'if-match': stale }), 412, 'precondition_failed', { node: node(1).id });
    assert.deepEqual(await snapshot(key), before);

    const current = contextOf(await get(node(0), key));
    const written = await putIf(1, key, 'v3', { 'if-match': current });
    assertOk(written, 204, 'PUT with If-Match: the current context');
    assertNodeHeader(written, node(1).id);
    // The context a conditional write returns is the current one until someone else writes.
    assertOk(await putIf(2, key, 'v4', { 'if-match': contextOf(written) }), 204, 'PUT with If-Match: the context the last write returned');
    for (const n of nodes()) assert.equal((await get(n, key)).body.toString('utf8'), 'v4');
    assertOk(await deleteIf(0, key, { 'if-match': contextOf(await get(node(2), key)) }), 204, 'DELETE with If-Match: the current context');
    for (const n of nodes()) assertError(await get(n, key), 404, 'not_found');
  });

  test('If-Match with a context that misses a concurrent sibling is 412; the 300 context resolves the siblings', async () => {
    const key = 'if-match-siblings';
    const mine = await put(node(0), key, 'mine');
    assertOk(await put(node(1), key, 'theirs'), 204, 'a concurrent blind write');
    assertError(await putIf(2, key, 'mine2', { 'if-match': contextOf(mine) }), 412, 'precondition_failed');
    const both = siblingsOf(await get(node(2), key));
    assertOk(await putIf(0, key, 'merged', { 'if-match': both.context }), 204, 'resolve with the 300 context');
    for (const n of nodes()) assert.equal((await get(n, key)).body.toString('utf8'), 'merged');
  });

  test('GET carries an ETag of the merged version; If-None-Match that matches is 304 with ETag and context, no body', async () => {
    const key = 'etag';
    assertOk(await put(node(0), key, 'one'), 204, 'PUT');
    const first = await get(node(0), key);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, etagForm);
    for (const n of nodes()) assert.equal((await get(n, key)).headers.get('etag'), etag, `the same version has the same ETag via ${n.id}`);
    for (const inm of [etag, `"0000000000000000", ${etag}`, `W/${etag}`, '*']) {
      const res = await http('GET', kv(node(1), key, 'r=all'), { headers: { 'if-none-match': inm } });
      assertOk(res, 304, `If-None-Match: ${inm}`);
      assert.equal(res.body.length, 0, 'no body');
      assert.equal(res.headers.get('etag'), etag);
      assert.equal(res.headers.get('x-kvorum-context'), first.headers.get('x-kvorum-context'));
      assertNodeHeader(res, node(1).id);
    }
    const other = await http('GET', kv(node(1), key, 'r=all'), { headers: { 'if-none-match': '"0000000000000000"' } });
    assertOk(other, 200, 'an ETag that does not match');
    assert.equal(other.body.toString('utf8'), 'one');

    assertOk(await put(node(2), key, 'two', { context: contextOf(first) }), 204, 'a change');
    const changed = await http('GET', kv(node(0), key, 'r=all'), { headers: { 'if-none-match': etag } });
    assertOk(changed, 200, 'the old ETag after a change');
    assert.equal(changed.body.toString('utf8'), 'two');
    assert.match(changed.headers.get('etag') ?? '', etagForm);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  test('a 300 has an ETag too and answers 304 to it; a missing or deleted key is 404 whatever If-None-Match says', async () => {
    const key = 'etag-siblings';
    assertOk(await put(node(0), key, 'a'), 204, 'PUT a');
    assertOk(await put(node(1), key, 'b'), 204, 'PUT b');
    const res = await get(node(2), key);
    siblingsOf(res);
    const etag = res.headers.get('etag') ?? '';
    assert.match(etag, etagForm);
    assertOk(await http('GET', kv(node(0), key, 'r=all'), { headers: { 'if-none-match': etag } }), 304, '300 -> 304');
    for (const missing of ['never-written-etag', key]) {
      if (missing === key) assertOk(await http('DELETE', kv(node(0), key, 'w=all'), { headers: { 'x-kvorum-context': siblingsOf(res).context } }), 204, 'DELETE');
      const gone = await http('GET', kv(node(1), missing, 'r=all'), { headers: { 'if-none-match': '*' } });
      assertError(gone, 404, 'not_found');
      assert.equal(gone.headers.get('etag'), null, 'no ETag without a live value');
    }
  });

  test('malformed preconditions are 400 and change nothing', async () => {
    const key = 'precondition-errors';
    assertOk(await put(node(0), key, 'kept'), 204, 'PUT');
    const ctx = contextOf(await get(node(0), key));
    const before = await snapshot(key);
    const refused: Array<[string, Promise<HttpResponse>, string]> = [
      ['If-None-Match other than * on PUT', putIf(0, key, 'x', { 'if-none-match': '"abc"' }), 'invalid_precondition'],
      ['If-Match with X-Kvorum-Context', putIf(1, key, 'x', { 'if-match': ctx, 'x-kvorum-context': ctx }), 'invalid_precondition'],
      ['If-Match with If-None-Match', putIf(2, key, 'x', { 'if-match': ctx, 'if-none-match': '*' }), 'invalid_precondition'],
      ['If-Match on GET', http('GET', kv(node(0), key), { headers: { 'if-match': ctx } }), 'invalid_precondition'],
      ['If-None-Match on DELETE', deleteIf(1, key, { 'if-none-match': '*' }), 'invalid_precondition'],
      ['If-None-Match on GET that is not a list of entity tags', http('GET', kv(node(2), key), { headers: { 'if-none-match': 'abc' } }), 'invalid_precondition'],
      ['If-Match garbage', putIf(0, key, 'x', { 'if-match': 'not-a-context' }), 'invalid_context'],
      ['If-Match *', deleteIf(0, key, { 'if-match': '*' }), 'invalid_context'],
      ['If-Match of another key', putIf(1, `${key}-other`, 'x', { 'if-match': ctx }), 'invalid_context'],
    ];
    for (const [what, res, code] of refused) {
      try {
        assertError(await res, 400, code);
      } catch (err) {
        throw new Error(`${what}: ${(err as Error).message}`);
      }
    }
    for (const header of ['If-Match', 'If-None-Match']) {
      const value = header === 'If-Match' ? ctx : '*';
      const res = await raw(node(0).port, `PUT /kv/${key} HTTP/1.1\r\nHost: x\r\n${header}: ${value}\r\n${header}: ${value}\r\nContent-Length: 1\r\n\r\nx`);
      assert.equal(res.status, 400, `${header} sent twice`);
      assert.equal(JSON.parse(res.body.toString('utf8')).error, 'invalid_precondition');
    }
    assert.deepEqual(await snapshot(key), before);
    assert.equal((await snapshot(`${key}-other`)).status, 404, 'nothing written under the other key');
  });

  test('concurrent creates at two coordinators: one 412 or two siblings, never a lost write', async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 20; round++) {
      const key = `race-${round}`;
      const [a, b] = await Promise.all([putIf(0, key, 'from-n1', { 'if-none-match': '*' }), putIf(1, key, 'from-n2', { 'if-none-match': '*' })]);
      const statuses = [a.status, b.status];
      const won = ['from-n1', 'from-n2'].filter((_, i) => statuses[i] === 204);
      assert.ok(statuses.every((s) => s === 204 || s === 412) && won.length >= 1, `round ${round}: ${statuses}`);
      // w=all: every 204 is on every replica, so an r=all read shows each one.
      const res = await get(node(2), key);
      const values = res.status === 300 ? siblingsOf(res).values : [res.body.toString('utf8')];
      assert.deepEqual(values, won, `round ${round}: the key holds exactly the acknowledged creates`);
      outcomes.set(statuses.join('/'), (outcomes.get(statuses.join('/')) ?? 0) + 1);
    }
    console.log(`concurrent creates, outcomes over 20 rounds: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
