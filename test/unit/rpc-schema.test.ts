// The internal RPC schema: everything our own code sends passes it unchanged through the real
// codec, and hostile variants of it (wrong types, BigInts, out-of-range numbers, broken DVV
// invariants, oversized batches) are refused without throwing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { rpcBatchMax, ttlSecondsMax } from '../../src/core/limits.js';
import type { RpcRequest } from '../../src/core/rpc.js';
import { checkRpcBatch } from '../../src/core/rpc-schema.js';
import type { VersionedObject } from '../../src/core/types.js';
import { decodeRpcBatch, decodeRpcOutcomes, encodeRpc } from '../../src/transport/codec.js';
import { arbStep, replay } from './dvv-histories.js';

const packr = new Packr({ useRecords: false, moreTypes: false });
const arbObject: fc.Arbitrary<VersionedObject> = fc
  .array(arbStep, { maxLength: 30 })
  .map((steps) => replay(steps).replicas.find((r) => r.siblings.length > 0))
  .filter((o): o is VersionedObject => o !== undefined);

function sampleRequests(object: VersionedObject): RpcRequest[] {
  return [
    { type: 'ping' },
    { type: 'replicate', key: 'k', object },
    { type: 'replicate', key: 'caf\u00e9/\u{1F600}', object, hintFor: 'n2' as never },
    { type: 'read', key: 'k' },
    { type: 'readDigest', key: 'k' },
    { type: 'forward', request: { op: 'get', key: 'k', r: 'quorum', pr: 0, timeoutMs: 2000 } },
    { type: 'forward', request: { op: 'put', key: 'k', data: new Uint8Array([1, 2]), contentType: 'foo', context: object.context, w: 2, pw: 'one', timeoutMs: 1 } },
    { type: 'forward', request: { op: 'delete', key: 'k', w: 'all', pw: 0, timeoutMs: 60_000 } },
    { type: 'forward', request: { op: 'put', key: 'k', data: new Uint8Array(0), contentType: '', condition: { kind: 'absent' }, w: 1, pw: 0, timeoutMs: 5 } },
    { type: 'forward', request: { op: 'delete', key: 'k', condition: { kind: 'match', context: object.context }, w: 1, pw: 0, timeoutMs: 5 } },
    { type: 'aeRoots', partitions: [0, 1, 4095] },
    { type: 'aeBranches', partition: 3 },
    { type: 'aeLeaves', partition: 3, branches: [0, 15] },
    { type: 'aeKeys', partition: 3, leaves: [0, 255] },
    { type: 'keyPending', key: 'k' },
    { type: 'reap', key: 'k', digest: 'a'.repeat(40) },
    { type: 'listKeys', partition: 3, prefix: '', limit: 1 },
    { type: 'listKeys', partition: 4095, prefix: 'caf\u00e9/', afterKey: 'caf\u00e9/\u{1F600}', limit: 1000 },
  ];
}

/** Replaces the value at `path` in a deep copy of `message`. */
function mutate(message: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  const copy = structuredClone(message) as Record<string | number, unknown>;
  let at = copy;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = replacement;
  return copy;
}

describe('rpc schema', () => {
  it('fc: every request our code makes passes through the codec unchanged', () => {
    fc.assert(
      fc.property(arbObject, (object) => {
        const batch = sampleRequests(object);
        const decoded = decodeRpcBatch(encodeRpc(batch));
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.problem);
        // Byte for byte (msgpack decodes bytes as Buffers, which deepEqual tells from Uint8Arrays).
        assert.deepEqual(encodeRpc(decoded.value), encodeRpc(batch));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses wrong types, BigInts, out-of-range numbers and broken DVV invariants', () => {
    const object: VersionedObject = {
      context: { vv: [['n1.a' as never, 2]], cloud: [] },
      siblings: [{ dot: ['n1.a' as never, 2], value: { kind: 'value', data: new Uint8Array([1]), contentType: 't' } }],
    };
    const replicate = { type: 'replicate', key: 'k', object };
    const forward = sampleRequests(object).find((r) => r.type === 'forward' && r.request.op === 'put')!;
    const refused: Array<[string, unknown]> = [
      ['string data', mutate(replicate, ['object', 'siblings', 0, 'value', 'data'], 'bytes')],
      ['numeric contentType', mutate(replicate, ['object', 'siblings', 0, 'value', 'contentType'], 7)],
      ['BigInt counter', mutate(replicate, ['object', 'context', 'vv', 0, 1], 2n)],
      ['float counter', mutate(replicate, ['object', 'context', 'vv', 0, 1], 1.5)],
      ['counter 0', mutate(replicate, ['object', 'context', 'vv', 0, 1], 0)],
      ['bad actor', mutate(replicate, ['object', 'context', 'vv', 0, 0], 'N1 A')],
      ['sibling not covered', mutate(replicate, ['object', 'context', 'vv', 0, 1], 1)],
      ['duplicate siblings', mutate(replicate, ['object', 'siblings', 1], object.siblings[0])],
      ['unsorted vv', mutate(replicate, ['object', 'context', 'vv'], [['n2.b', 1], ['n1.a', 2]])],
      ['empty key', mutate(replicate, ['key'], '')],
      ['key over 512 bytes', mutate(replicate, ['key'], '\u00e9'.repeat(257))],
      ['lone surrogate key', mutate(replicate, ['key'], 'a\ud800')],
      ['bad hintFor', mutate(replicate, ['hintFor'], 'Not An Id')],
      ['BigInt timeout', mutate(forward, ['request', 'timeoutMs'], 1000n)],
      ['timeout 0', mutate(forward, ['request', 'timeoutMs'], 0)],
      ['quorum garbage', mutate(forward, ['request', 'w'], 'most')],
      ['unknown condition', mutate(forward, ['request', 'condition'], { kind: 'newer' })],
      ['match without a context', mutate(forward, ['request', 'condition'], { kind: 'match' })],
      ['match with a broken context', mutate(forward, ['request', 'condition'], { kind: 'match', context: { vv: [['n2.b', 1], ['n1.a', 2]], cloud: [] } })],
      ['partition out of range', { type: 'aeBranches', partition: 4096 }],
      ['leaf out of range', { type: 'aeKeys', partition: 0, leaves: [256] }],
      ['listKeys limit 0', { type: 'listKeys', partition: 0, prefix: '', limit: 0 }],
      ['listKeys limit over listLimitMax', { type: 'listKeys', partition: 0, prefix: '', limit: 1001 }],
      ['listKeys prefix over 512 bytes', { type: 'listKeys', partition: 0, prefix: 'x'.repeat(513), limit: 1 }],
      ['listKeys prefix with a lone surrogate', { type: 'listKeys', partition: 0, prefix: '\udc00', limit: 1 }],
      ['listKeys empty afterKey', { type: 'listKeys', partition: 0, prefix: '', afterKey: '', limit: 1 }],
      ['listKeys partition out of range', { type: 'listKeys', partition: 4096, prefix: '', limit: 1 }],
      ['unknown type', { type: 'format-disk' }],
      ['not an object', 'ping'],
    ];
    for (const [what, message] of refused) assert.equal(checkRpcBatch([message]).ok, false, what);
    assert.equal(checkRpcBatch([]).ok, false, 'an empty batch');
    assert.equal(checkRpcBatch(Array(rpcBatchMax + 1).fill({ type: 'ping' })).ok, false, 'a batch over rpcBatchMax');
    assert.equal(checkRpcBatch(Array(rpcBatchMax).fill({ type: 'ping' })).ok, true, 'a full batch');
  });

  it('carries a put\'s ttl and a value\'s expiry through the codec, and refuses them out of range', () => {
    const object: VersionedObject = {
      context: { vv: [['n1.a' as never, 1]], cloud: [] },
      siblings: [{ dot: ['n1.a' as never, 1], value: { kind: 'value', data: new Uint8Array([1]), contentType: 't', expiresAtMs: 1_700_000_000_000 } }],
    };
    const replicate: RpcRequest = { type: 'replicate', key: 'k', object };
    const forward: RpcRequest = { type: 'forward', request: { op: 'put', key: 'k', data: new Uint8Array([1]), contentType: 't', ttlSeconds: 60, w: 2, pw: 0, timeoutMs: 1000 } };
    const decoded = decodeRpcBatch(encodeRpc([replicate, forward]));
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.problem);
    assert.deepEqual(encodeRpc(decoded.value), encodeRpc([replicate, forward]));
    assert.equal(checkRpcBatch([mutate(forward, ['request', 'ttlSeconds'], ttlSecondsMax)]).ok, true, 'the largest ttl');
    const refused: Array<[string, unknown]> = [
      ['ttl 0', mutate(forward, ['request', 'ttlSeconds'], 0)],
      ['ttl over the max', mutate(forward, ['request', 'ttlSeconds'], ttlSecondsMax + 1)],
      ['fractional ttl', mutate(forward, ['request', 'ttlSeconds'], 1.5)],
      ['string ttl', mutate(forward, ['request', 'ttlSeconds'], '60')],
      ['negative expiry', mutate(replicate, ['object', 'siblings', 0, 'value', 'expiresAtMs'], -1)],
      ['fractional expiry', mutate(replicate, ['object', 'siblings', 0, 'value', 'expiresAtMs'], 1.5)],
      ['BigInt expiry', mutate(replicate, ['object', 'siblings', 0, 'value', 'expiresAtMs'], 5n)],
      ['null expiry', mutate(replicate, ['object', 'siblings', 0, 'value', 'expiresAtMs'], null)],
    ];
    for (const [what, message] of refused) assert.equal(checkRpcBatch([message]).ok, false, what);
  });

  it('fc: arbitrary msgpack bytes are refused or accepted, never thrown', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.anything().map((v) => new Uint8Array(packr.pack(v)))), (bytes) => {
        decodeRpcBatch(bytes);
        decodeRpcOutcomes(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a reply that does not match its schema', () => {
    assert.equal(decodeRpcOutcomes(encodeRpc([{ ok: { type: 'ack' } }])).ok, true);
    assert.equal(decodeRpcOutcomes(encodeRpc([{ ok: { type: 'keyPage', keys: ['a', 'b'], next: 'b' } }, { ok: { type: 'keyPage', keys: [], next: null } }])).ok, true);
    const bad = [
      [{ ok: { type: 'object', object: { context: { vv: [], cloud: [] }, siblings: 'x' } } }],
      [{ ok: { type: 'shrug' } }],
      [{ error: 5 }],
      [{ ok: { type: 'keyPage', keys: Array(1001).fill('k'), next: null } }],
      [{ ok: { type: 'keyPage', keys: [''], next: null } }],
      [{ ok: { type: 'keyPage', keys: ['a'] } }],
      [{ ok: { type: 'keyPage', keys: ['a'], next: 7 } }],
    ];
    for (const outcomes of bad) assert.equal(decodeRpcOutcomes(packr.pack(outcomes)).ok, false, JSON.stringify(outcomes));
  });
});
