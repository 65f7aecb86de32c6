// The precondition headers at the edge (api/preconditions.ts): If-None-Match and If-Match on PUT and
// DELETE, If-None-Match lists on GET, and ETags. End to end: test/integration/conditional.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeContext } from '../../src/core/context-token.js';
import { KvError } from '../../src/core/errors.js';
import type { ActorId, VersionedObject } from '../../src/core/types.js';
import { etagMatches, etagOf, readCondition, writeCondition, type HeaderValues } from '../../src/api/preconditions.js';

const counterMax = Number.MAX_SAFE_INTEGER;
const context = { vv: [['n1.a' as ActorId, 3]], cloud: [] } as const;
const headers = (h: Record<string, string | string[]>): HeaderValues => (name) => {
  const v = h[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KvError, String(err));
    return err.code;
  }
  return 'accepted';
};

describe('preconditions: PUT and DELETE', () => {
  it('If-None-Match: * on PUT is the absent condition; If-Match is the context it names', () => {
    assert.equal(writeCondition(headers({}), 'put', 'k', counterMax), undefined);
    assert.deepEqual(writeCondition(headers({ 'if-none-match': ' * ' }), 'put', 'k', counterMax), { kind: 'absent' });
    assert.deepEqual(writeCondition(headers({ 'if-match': encodeContext(context, 'k') }), 'delete', 'k', counterMax), { kind: 'match', context });
    assert.deepEqual(writeCondition(headers({ 'if-none-match': '*', 'x-kvorum-context': 'anything' }), 'put', 'k', counterMax), { kind: 'absent' });
  });

  it('refuses the forms the API does not accept', () => {
    const token = encodeContext(context, 'k');
    const cases: Array<[Record<string, string | string[]>, 'put' | 'delete', string]> = [
      [{ 'if-none-match': '"abc"' }, 'put', 'invalid_precondition'],
      [{ 'if-none-match': '' }, 'put', 'invalid_precondition'],
      [{ 'if-none-match': '*' }, 'delete', 'invalid_precondition'],
      [{ 'if-none-match': ['*', '*'] }, 'put', 'invalid_precondition'],
      [{ 'if-match': [token, token] }, 'put', 'invalid_precondition'],
      [{ 'if-match': token, 'if-none-match': '*' }, 'put', 'invalid_precondition'],
      [{ 'if-match': token, 'x-kvorum-context': token }, 'delete', 'invalid_precondition'],
      [{ 'if-match': 'garbage' }, 'put', 'invalid_context'],
      [{ 'if-match': '*' }, 'delete', 'invalid_context'],
      [{ 'if-match': encodeContext(context, 'other') }, 'put', 'invalid_context'],
    ];
    for (const [h, method, expected] of cases) assert.equal(code(() => writeCondition(headers(h), method, 'k', counterMax)), expected, JSON.stringify(h));
  });
});

describe('preconditions: GET and ETags', () => {
  const object: VersionedObject = { context, siblings: [{ dot: ['n1.a' as ActorId, 3], value: { kind: 'value', data: new Uint8Array([1]), contentType: 't' } }] };
  const etag = etagOf('k', object);

  it('an ETag is 16 hex digits, quoted, and names the version and the key', () => {
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.equal(etagOf('k', structuredClone(object)), etag);
    assert.notEqual(etagOf('k2', object), etag);
    assert.notEqual(etagOf('k', { ...object, context: { vv: [['n1.a' as ActorId, 4]], cloud: [] } }), etag);
  });

  it('If-None-Match matches *, or any listed tag, weak or strong', () => {
    const matches = (value: string) => etagMatches(readCondition(headers({ 'if-none-match': value }))!, etag);
    assert.equal(readCondition(headers({})), undefined);
    assert.ok(matches('*'));
    assert.ok(matches(etag));
    assert.ok(matches(`W/${etag}`));
    assert.ok(matches(`"a,b" ,${etag},`));
    assert.ok(!matches('"0000000000000000"'));
    assert.ok(!matches(`W/"${etag.slice(2, -1)}", "${etag.slice(1, -2)}"`), 'tags that only contain part of it');
  });

  it('refuses If-Match, a repeated If-None-Match, and anything but * or a list of entity tags', () => {
    const cases: Array<Record<string, string | string[]>> = [{ 'if-match': 'x' }, { 'if-none-match': ['*', '*'] }, { 'if-none-match': 'abc' }, { 'if-none-match': '"a" "b"' }, { 'if-none-match': '' }, { 'if-none-match': '"a\u0001"' }, { 'if-none-match': ',' }];
    for (const h of cases) {
      assert.equal(code(() => readCondition(headers(h))), 'invalid_precondition', JSON.stringify(h));
    }
  });
});
