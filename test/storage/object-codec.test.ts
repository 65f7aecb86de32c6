// The on-disk object codec and TTLs: rows written before TTLs existed (4-element value siblings)
// still decode, with no expiry; a value's expiry round-trips in a 5-element form; and an expiry is
// checked on decode like every other field, since a row read back from disk is untrusted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { expiresAtMsMax } from '../../src/core/limits.js';
import type { ActorId, VersionedObject } from '../../src/core/types.js';
import { decodeObject, encodeObject } from '../../src/storage/object-codec.js';

const packr = new Packr({ useRecords: false, moreTypes: false });
const actor = 'n1.a' as ActorId;
const data = new Uint8Array([7, 8]);
/** A stored row in the codec's array form (format 2) with one sibling. */
const row = (sibling: unknown[]) => packr.pack([2, [[actor, 1]], [], [[actor, 1, ...sibling]]]);

describe('object codec: expiry', () => {
  it('decodes a row from before TTLs (a 4-element value) as a value without expiry, and encodes it to the same bytes', () => {
    const old = row([data, 'text/plain']);
    const decoded = decodeObject(old);
    const value = decoded.siblings[0]!.value;
    assert.ok(value.kind === 'value');
    assert.equal('expiresAtMs' in value, false, 'no expiresAtMs key at all');
    assert.deepEqual(Buffer.from(encodeObject(decoded)), Buffer.from(old), 'a value without a ttl keeps the old form');
  });

  it('round-trips a value with an expiry (and a tombstone beside it)', () => {
    const o: VersionedObject = {
      context: { vv: [[actor, 2]], cloud: [] },
      siblings: [
        { dot: [actor, 1], value: { kind: 'value', data, contentType: 't', expiresAtMs: 1_700_000_000_000 } },
        { dot: [actor, 2], value: { kind: 'tombstone', deletedAtMs: 5 } },
      ],
    };
    const decoded = decodeObject(encodeObject(o));
    const [first, second] = decoded.siblings;
    assert.equal(first!.value.kind === 'value' && first!.value.expiresAtMs, 1_700_000_000_000);
    assert.deepEqual(second!.value, { kind: 'tombstone', deletedAtMs: 5 });
    assert.equal(decodeObject(row([data, 't', expiresAtMsMax])).siblings[0]!.value.kind, 'value', 'the largest expiry is accepted');
  });

  it('refuses a row whose expiry is not a whole non-negative millisecond count within a Date', () => {
    for (const bad of [-1, 1.5, '1700000000000', null, true, expiresAtMsMax + 1, 2n ** 60n]) {
      assert.throws(() => decodeObject(row([data, 't', bad])), /malformed object/, `expiry ${String(bad)}`);
    }
    assert.throws(() => decodeObject(row([data, 't', 1, 'extra'])), /malformed object/, 'a 6-element sibling');
  });

  it('refuses to encode an object with a bad expiry (storage never holds what it could not read back)', () => {
    const bad: VersionedObject = {
      context: { vv: [[actor, 1]], cloud: [] },
      siblings: [{ dot: [actor, 1], value: { kind: 'value', data, contentType: 't', expiresAtMs: -5 } }],
    };
    assert.throws(() => encodeObject(bad), /refusing to store a malformed object/);
  });
});
