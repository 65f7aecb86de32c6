// The context token at the client edge: bound to its key, counters no node could have issued
// refused, entries bounded, and every context the store hands out accepted back (issue 10, defect 3).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { counterMaxAt, decodeContext, encodeContext } from '../../src/core/context-token.js';
import { update } from '../../src/core/dvv.js';
import { KvError } from '../../src/core/errors.js';
import { contextEntriesMax, contextTokenBytesMax, dotCountersPerMs } from '../../src/core/limits.js';
import type { ActorId, CausalContext } from '../../src/core/types.js';

const nowMs = Date.UTC(2026, 10, 30);
const check = (key: string, atMs = nowMs) => ({ key, counterMax: counterMaxAt(atMs) });
const refused = (fn: () => unknown, why: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof KvError && e.code === 'invalid_context' && why.test(e.message));
const value = { kind: 'value' as const, data: new Uint8Array([1]), contentType: 'text/plain' };
const actor = 'n1.0123456789abcdef' as ActorId;

describe('context token', () => {
  it('is bound to its key: a token from key A sent with key B is invalid_context', () => {
    const token = encodeContext({ vv: [[actor, 3]], cloud: [] }, 'A');
    assert.deepEqual(decodeContext(token, check('A')), { vv: [[actor, 3]], cloud: [] });
    refused(() => decodeContext(token, check('B')), /another key/);
  });

  it('refuses the former unbound c1 format', () => {
    const c1 = `c1.${Buffer.from(JSON.stringify([[[actor, 3]], []])).toString('base64url')}`;
    refused(() => decodeContext(c1, check('A')), /unknown format/);
  });

  it('refuses a counter beyond the clock bound (2^53-1 included), accepts one at it', () => {
    refused(() => decodeContext(encodeContext({ vv: [[actor, Number.MAX_SAFE_INTEGER]], cloud: [] }, 'k'), check('k')), /not issued|no node/);
    const atBound = counterMaxAt(nowMs);
    refused(() => decodeContext(encodeContext({ vv: [[actor, atBound + 1]], cloud: [] }, 'k'), check('k')), /no node/);
    assert.equal(decodeContext(encodeContext({ vv: [[actor, atBound]], cloud: [] }, 'k'), check('k')).vv[0]![1], atBound);
  });

  it('a forged counter at the bound cannot wedge the key: the contexts handed out after it are accepted', () => {
    // Defect 3: a forged counter was accepted, the next write numbered it + 1 and the node refused its own token.
    let ctx: CausalContext = decodeContext(encodeContext({ vv: [[actor, counterMaxAt(nowMs)]], cloud: [] }, 'k'), check('k'));
    let stored;
    for (let i = 1; i <= 100; i++) {
      const written = update(stored, ctx, actor, value, nowMs * dotCountersPerMs);
      stored = written.object;
      // Writes on one key by one actor are fewer than dotCountersPerMs a millisecond: a later check has a higher bound.
      const laterMs = nowMs + Math.ceil(i / dotCountersPerMs);
      ctx = decodeContext(encodeContext(written.writerContext, 'k'), check('k', laterMs));
      decodeContext(encodeContext(stored.context, 'k'), check('k', laterMs));
    }
  });

  it('bounds entries; a token with the most entries and the longest actor ids fits the 64 KiB limit', () => {
    const longActor = (i: number) => `${'a'.repeat(60)}${String(i).padStart(4, '0')}.${'z'.repeat(32)}` as ActorId;
    const full: CausalContext = { vv: Array.from({ length: contextEntriesMax }, (_, i) => [longActor(i), counterMaxAt(nowMs)] as const), cloud: [] };
    const token = encodeContext(full, 'k');
    assert.ok(token.length <= contextTokenBytesMax, `${token.length} bytes`);
    assert.equal(decodeContext(token, check('k')).vv.length, contextEntriesMax);
    const over = { vv: [...full.vv, [`${'b'.repeat(64)}.z`, 1] as const], cloud: [] } as CausalContext;
    refused(() => decodeContext(encodeContext(over, 'k'), check('k')), /too big|clock entries/i);
  });

  it('refuses malformed contents: bad actor, zero, float, non-normal form, over 64 KiB', () => {
    const raw = (body: unknown) => `c2.${encodeContext({ vv: [], cloud: [] }, 'k').split('.')[1]}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
    refused(() => decodeContext(raw([[['BAD', 1]], []]), check('k')), /actor/);
    refused(() => decodeContext(raw([[[actor, 0]], []]), check('k')), /./);
    refused(() => decodeContext(raw([[[actor, 1.5]], []]), check('k')), /./);
    refused(() => decodeContext(raw([[['n2.b', 1], ['n1.a', 1]], []]), check('k')), /sorted/);
    refused(() => decodeContext(raw([[[actor, 2]], [[actor, 3]]]), check('k')), /cloud/);
    refused(() => decodeContext('c2.' + 'A'.repeat(contextTokenBytesMax), check('k')), /longer than/);
  });
});
