// Behaviour every Storage engine must have. Each engine's test file calls storageConformance
// with a factory that opens a fresh, empty store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Storage } from '../../src/core/runtime.js';
import { asPartitionId, type ActorId, type Sibling, type VersionedObject } from '../../src/core/types.js';

export interface StorageHandle {
  storage: Storage;
  /** Opens the same data again (after `storage` is closed); only persistent engines have it. */
  reopen?: () => Promise<Storage>;
  /** Closes every storage still open (close must be idempotent) and frees the store's resources. */
  cleanup: () => Promise<void>;
}

const partition = asPartitionId(7);
const actorA = 'a.1' as ActorId;
const encoder = new TextEncoder();

export function valueSibling(actor: ActorId, counter: number, data: Uint8Array, contentType = 'text/plain'): Sibling {
  return { dot: [actor, counter], value: { kind: 'value', data, contentType } };
}

/** One value sibling written by `actor` as its `counter`-th write. */
export function valueObject(data: Uint8Array, contentType = 'text/plain', counter = 1): VersionedObject {
  return { context: { vv: [[actorA, counter]], cloud: [] }, siblings: [valueSibling(actorA, counter, data, contentType)] };
}

/** A change that adds one sibling, keeping those already there. */
function appendSibling(counter: number) {
  return (current: VersionedObject | undefined): VersionedObject => ({
    context: { vv: [[actorA, counter]], cloud: [] },
    siblings: [...(current?.siblings ?? []), valueSibling(actorA, counter, encoder.encode(`v${counter}`))],
  });
}

/** Plain-data view of an object: engines may hand back Buffers, which deepStrictEqual tells apart. */
function comparable(o: VersionedObject | undefined): unknown {
  if (o === undefined) return undefined;
  return {
    context: { vv: o.context.vv.map(([a, n]) => [a, n]), cloud: o.context.cloud.map(([a, n]) => [a, n]) },
    siblings: o.siblings.map(({ dot, value }) => {
      if (value.kind === 'tombstone') return { dot: [dot[0], dot[1]], value: { kind: 'tombstone' } };
      assert.ok(value.data instanceof Uint8Array, 'sibling data must be a Uint8Array');
      return { dot: [dot[0], dot[1]], value: { kind: 'value', data: Array.from(value.data), contentType: value.contentType } };
    }),
  };
}

export function assertSameObject(actual: VersionedObject | undefined, expected: VersionedObject | undefined, message?: string): void {
  assert.deepStrictEqual(comparable(actual), comparable(expected), message);
}

export function storageConformance(name: string, open: () => Promise<StorageHandle>): void {
  async function withStore(fn: (h: StorageHandle) => Promise<void>): Promise<void> {
    const h = await open();
    try {
      await fn(h);
    } finally {
      await h.cleanup();
    }
  }

  describe(`${name}: Storage conformance`, () => {
    it('a fresh store has a non-empty incarnation', () =>
      withStore(async ({ storage }) => {
        assert.equal(typeof storage.incarnation, 'string');
        assert.ok(storage.incarnation.length > 0);
      }));

    it('get of a missing key is undefined', () =>
      withStore(async ({ storage }) => {
        assert.equal(await storage.get('nope'), undefined);
      }));

    it('update then get returns an equal object', () =>
      withStore(async ({ storage }) => {
        const b = 'b.2' as ActorId;
        const o: VersionedObject = {
          context: { vv: [[actorA, 3], [b, 1]], cloud: [[b, 5], [b, 9]] },
          siblings: [valueSibling(actorA, 3, new Uint8Array([1, 2])), { dot: [b, 9], value: { kind: 'tombstone' } }],
        };
        let seen: VersionedObject | undefined | 'not called' = 'not called';
        const resolved = await storage.update('k', partition, (current) => ((seen = current), o));
        assert.equal(seen, undefined, 'change of a missing key sees undefined');
        assertSameObject(resolved, o);
        assertSameObject(await storage.get('k'), o);
        assert.equal(await storage.get('other'), undefined);
      }));

    it('binary data round-trips byte for byte, including empty and offset views', () =>
      withStore(async ({ storage }) => {
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const backing = Uint8Array.from([9, 9, 9, 0, 255, 128, 9]);
        const cases = { all, empty: new Uint8Array(0), view: backing.subarray(3, 6) };
        for (const [key, data] of Object.entries(cases)) await storage.update(key, partition, () => valueObject(data));
        for (const [key, data] of Object.entries(cases)) {
          const got = await storage.get(key);
          const sibling = got?.siblings[0];
          assert.ok(sibling?.value.kind === 'value', `${key}: value sibling`);
          assert.ok(sibling.value.data instanceof Uint8Array);
          assert.deepStrictEqual(Array.from(sibling.value.data), Array.from(data), key);
        }
      }));

    it('contentType round-trips', () =>
      withStore(async ({ storage }) => {
        const types = ['text/plain', 'application/json; charset=utf-8', 'application/octet-stream', '', 'x/ünï-çødé'];
        for (const [i, t] of types.entries()) await storage.update(`k${i}`, partition, () => valueObject(new Uint8Array([i]), t));
        for (const [i, t] of types.entries()) {
          const value = (await storage.get(`k${i}`))?.siblings[0]?.value;
          assert.ok(value?.kind === 'value');
          assert.equal(value.contentType, t);
        }
      }));

    it('arbitrary objects round-trip', () =>
      withStore(async ({ storage }) => {
        const actor = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' }).map((s) => s as ActorId);
        const dot = fc.tuple(actor, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
        const value = fc.oneof(
          fc.record({ kind: fc.constant('value' as const), data: fc.uint8Array({ maxLength: 64 }), contentType: fc.string({ unit: 'grapheme' }) }),
          fc.constant({ kind: 'tombstone' as const }),
        );
        const object = fc.record({
          context: fc.record({ vv: fc.array(dot, { maxLength: 5 }), cloud: fc.array(dot, { maxLength: 5 }) }),
          siblings: fc.array(fc.record({ dot, value }), { maxLength: 6 }),
        });
        let n = 0;
        await fc.assert(
          fc.asyncProperty(object, async (o) => {
            const key = `p${n++}`;
            assertSameObject(await storage.update(key, partition, () => o), o);
            assertSameObject(await storage.get(key), o);
          }),
          { numRuns: 100 },
        );
      }));

    it('change returning undefined leaves the key untouched and resolves with the object now stored', () =>
      withStore(async ({ storage }) => {
        assert.equal(await storage.update('missing', partition, () => undefined), undefined);
        assert.equal(await storage.get('missing'), undefined);

        const o = valueObject(new Uint8Array([4, 2]));
        await storage.update('k', partition, () => o);
        let seen: VersionedObject | undefined;
        const resolved = await storage.update('k', partition, (current) => ((seen = current), undefined));
        assertSameObject(seen, o, 'change sees the stored object');
        assertSameObject(resolved, o, 'resolves with the object now stored');
        assertSameObject(await storage.get('k'), o);
      }));

    it('200 concurrent updates of one key never interleave', () =>
      withStore(async ({ storage }) => {
        const count = 200;
        const results = await Promise.all(
          Array.from({ length: count }, (_, i) => storage.update('hot', partition, appendSibling(i + 1))),
        );
        const final = await storage.get('hot');
        const counters = (final?.siblings ?? []).map((s) => s.dot[1]).sort((x, y) => x - y);
        assert.deepStrictEqual(counters, Array.from({ length: count }, (_, i) => i + 1), 'no append was lost');
        // Each update saw a distinct predecessor: exactly what a serial order produces.
        const sizes = results.map((r) => r?.siblings.length ?? 0).sort((x, y) => x - y);
        assert.deepStrictEqual(sizes, Array.from({ length: count }, (_, i) => i + 1));
      }));

    it('concurrent updates of different keys all land', () =>
      withStore(async ({ storage }) => {
        const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
        await Promise.all(keys.map((k, i) => storage.update(k, asPartitionId(i % 8), () => valueObject(encoder.encode(k)))));
        for (const k of keys) assertSameObject(await storage.get(k), valueObject(encoder.encode(k)), k);
      }));

    it('a throwing change rejects only its own update', () =>
      withStore(async ({ storage }) => {
        const boom = new Error('boom');
        const settled = await Promise.allSettled([
          storage.update('k', partition, appendSibling(1)),
          storage.update('k', partition, () => {
            throw boom;
          }),
          storage.update('k', partition, appendSibling(2)),
          storage.update('other', partition, appendSibling(3)),
        ]);
        assert.deepStrictEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        assert.equal((settled[1] as PromiseRejectedResult).reason, boom);
        assert.deepStrictEqual((await storage.get('k'))?.siblings.map((s) => s.dot[1]), [1, 2]);
        assert.deepStrictEqual((await storage.get('other'))?.siblings.map((s) => s.dot[1]), [3]);
      }));

    it('stored state cannot be changed through objects handed in or out', () =>
      withStore(async ({ storage }) => {
        const data = new Uint8Array([1, 2, 3]);
        const o = valueObject(data);
        const pending = storage.update('k', partition, () => o);
        data[0] = 99; // the caller reuses its buffer while the write is in flight
        await pending;
        const got = await storage.get('k');
        const value = got?.siblings[0]?.value;
        assert.ok(value?.kind === 'value');
        assert.deepStrictEqual(Array.from(value.data), [1, 2, 3]);
        value.data[1] = 99; // a reader scribbles on what it was given
        (got?.siblings as Sibling[]).push(valueSibling(actorA, 2, new Uint8Array()));
        assertSameObject(await storage.get('k'), valueObject(new Uint8Array([1, 2, 3])));
      }));

    it('after close, get and update reject and close again is harmless', () =>
      withStore(async ({ storage }) => {
        await storage.update('k', partition, () => valueObject(new Uint8Array([1])));
        await storage.close();
        await assert.rejects(storage.get('k'), Error);
        let called = false;
        await assert.rejects(storage.update('k', partition, () => ((called = true), undefined)), Error);
        assert.equal(called, false, 'change must not run on a closed store');
        await storage.close();
      }));

    it('close then reopen keeps every acknowledged and in-flight write and the incarnation', (t) =>
      withStore(async ({ storage, reopen }) => {
        if (!reopen) return t.skip('engine is not persistent');
        const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
        const write = (k: string) => storage.update(k, partition, () => valueObject(encoder.encode(k)));
        await Promise.all(keys.slice(0, 50).map(write));
        const inFlight = keys.slice(50).map(write); // accepted before close: close must keep them
        await storage.close();
        await Promise.all(inFlight);
        const again = await reopen();
        assert.equal(again.incarnation, storage.incarnation);
        for (const k of keys) assertSameObject(await again.get(k), valueObject(encoder.encode(k)), k);
        await again.close();
      }));
  });
}
