// Behaviour every Storage engine must have. Each engine's test file calls storageConformance
// with a factory that opens a fresh, empty store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { expiresAtMsMax } from '../../src/core/limits.js';
import { asNodeId, asPartitionId, type ActorId, type Sibling, type VersionedObject } from '../../src/core/types.js';
import { arbStep, replay } from '../unit/dvv-histories.js';
import { dropConformance } from './conformance-drop.js';
import { hintConformance } from './conformance-hints.js';
import { metaConformance } from './conformance-meta.js';
import { listConformance } from './conformance-list.js';
import { scanConformance } from './conformance-scan.js';
import { treeConformance } from './conformance-tree.js';
import {
  actorA,
  appendSibling,
  assertSameObject,
  encoder,
  textObject,
  tombstoneSibling,
  valueObject,
  valueSibling,
  withStore as withStoreOf,
  type OpenStore,
  type WithStore,
} from './fixtures.js';

export { assertSameObject, valueObject, valueSibling, type StorageHandle } from './fixtures.js';

const partition = asPartitionId(7);
const hintTarget = asNodeId('n9');

export function storageConformance(name: string, open: OpenStore): void {
  const withStore: WithStore = (fn) => withStoreOf(open, fn);

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
          siblings: [valueSibling(actorA, 3, new Uint8Array([1, 2])), tombstoneSibling(b, 9, 1_700_000_000_123)],
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
        // Any version history the DVV code can produce, with arbitrary values in its siblings.
        const value = fc.oneof(
          fc.record({ kind: fc.constant('value' as const), data: fc.uint8Array({ maxLength: 64 }), contentType: fc.string({ unit: 'grapheme', maxLength: 40 }) }),
          fc.record({
            kind: fc.constant('value' as const),
            data: fc.uint8Array({ maxLength: 64 }),
            contentType: fc.string({ unit: 'grapheme', maxLength: 40 }),
            expiresAtMs: fc.integer({ min: 0, max: expiresAtMsMax }),
          }),
          fc.record({ kind: fc.constant('tombstone' as const), deletedAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) }),
        );
        const object = fc
          .tuple(fc.array(arbStep, { maxLength: 30 }), fc.nat(2), fc.array(value, { minLength: 8, maxLength: 8 }))
          .map(([steps, replica, values]): VersionedObject => {
            const o = replay(steps).replicas[replica]!;
            return { context: o.context, siblings: o.siblings.map((s, i) => ({ dot: s.dot, value: values[i % values.length]! })) };
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

    it('refuses to store an object it could not decode back, and keeps what it had', () =>
      withStore(async ({ storage }) => {
        const good = valueObject(new Uint8Array([1]));
        await storage.update('k', partition, () => good);
        const uncovered: VersionedObject = { context: { vv: [], cloud: [] }, siblings: good.siblings };
        const badActor: VersionedObject = { ...good, context: { vv: [[' ' as ActorId, 1]], cloud: [] } };
        for (const bad of [uncovered, badActor]) await assert.rejects(storage.update('k', partition, () => bad), /malformed/);
        assertSameObject(await storage.get('k'), good);
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

    it('tombstones keep their deletedAtMs, in get and in scans', () =>
      withStore(async ({ storage }) => {
        const stamps = [0, 1_700_000_000_000, Date.now(), Number.MAX_SAFE_INTEGER];
        const o: VersionedObject = {
          context: { vv: [[actorA, stamps.length]], cloud: [] },
          siblings: stamps.map((ms, i) => tombstoneSibling(actorA, i + 1, ms)),
        };
        assertSameObject(await storage.update('t', partition, () => o), o);
        assertSameObject(await storage.get('t'), o);
        const [entry] = await storage.scanPartition(partition, undefined, 10);
        assertSameObject(entry?.object, o);
        const deleted = (await storage.get('t'))?.siblings.map((s) => s.value.kind === 'tombstone' && s.value.deletedAtMs);
        assert.deepStrictEqual(deleted, stamps);
      }));

    it('change returning null deletes the key; deleting a missing key is a no-op', () =>
      withStore(async ({ storage }) => {
        let seen: VersionedObject | undefined | 'not called' = 'not called';
        assert.equal(await storage.update('gone', partition, (cur) => ((seen = cur), null)), undefined);
        assert.equal(seen, undefined, 'change of a missing key sees undefined');
        assert.equal(await storage.get('gone'), undefined);

        await storage.update('k', partition, () => textObject('k'));
        await storage.update('keep', partition, () => textObject('keep'));
        assert.equal(await storage.update('k', partition, (cur) => ((seen = cur), null)), undefined);
        assertSameObject(seen, textObject('k'), 'the delete saw the stored object');
        assert.equal(await storage.get('k'), undefined);
        assert.deepStrictEqual((await storage.scanPartition(partition, undefined, 10)).map((e) => e.key), ['keep']);
        assert.equal(await storage.update('k', partition, (cur) => ((seen = cur), undefined)), undefined);
        assert.equal(seen, undefined, 'a later change sees the key missing');

        // The key can be written again after a delete.
        assertSameObject(await storage.update('k', partition, () => textObject('again')), textObject('again'));
        assertSameObject(await storage.get('k'), textObject('again'));
      }));

    it('write, delete and write again in one turn apply in order', () =>
      withStore(async ({ storage }) => {
        const seen: Array<VersionedObject | undefined> = [];
        const results = await Promise.all([
          storage.update('k', partition, (cur) => (seen.push(cur), textObject('v1'))),
          storage.update('k', partition, (cur) => (seen.push(cur), null)),
          storage.update('k', partition, (cur) => (seen.push(cur), null)),
          storage.update('k', partition, (cur) => (seen.push(cur), textObject('v2'))),
          storage.update('j', partition, (cur) => (seen.push(cur), textObject('j'))),
          storage.update('j', partition, (cur) => (seen.push(cur), null)),
        ]);
        assert.deepStrictEqual(seen.map((o) => o && 'object'), [undefined, 'object', undefined, undefined, undefined, 'object']);
        assertSameObject(results[0], textObject('v1'));
        assert.deepStrictEqual(results.slice(1, 3), [undefined, undefined]);
        assertSameObject(results[3], textObject('v2'));
        assertSameObject(await storage.get('k'), textObject('v2'));
        assert.equal(await storage.get('j'), undefined);
        assert.deepStrictEqual((await storage.scanPartition(partition, undefined, 10)).map((e) => e.key), ['k']);
      }));

    it('a delete survives close and reopen', (t) =>
      withStore(async ({ storage, reopen }) => {
        if (!reopen) return t.skip('engine is not persistent');
        await Promise.all(['a', 'b', 'c'].map((k) => storage.update(k, partition, () => textObject(k))));
        await storage.update('a', partition, () => null);
        const deleting = storage.update('b', partition, () => null); // in flight at close
        await storage.close();
        assert.equal(await deleting, undefined);
        const again = await reopen();
        assert.equal(await again.get('a'), undefined);
        assert.equal(await again.get('b'), undefined);
        assertSameObject(await again.get('c'), textObject('c'));
        assert.deepStrictEqual((await again.scanPartition(partition, undefined, 10)).map((e) => e.key), ['c']);
        await again.close();
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
      withStore(async ({ storage, changeRunsAtCommit }) => {
        const data = new Uint8Array([1, 2, 3]);
        const o = valueObject(data);
        const pending = storage.update('k', partition, () => o);
        if (!changeRunsAtCommit) data[0] = 99; // the caller reuses its buffer while the write is in flight
        await pending;
        const got = await storage.get('k');
        const value = got?.siblings[0]?.value;
        assert.ok(value?.kind === 'value');
        assert.deepStrictEqual(Array.from(value.data), [1, 2, 3]);
        value.data[1] = 99; // a reader scribbles on what it was given
        (got?.siblings as Sibling[]).push(valueSibling(actorA, 2, new Uint8Array()));
        assertSameObject(await storage.get('k'), valueObject(new Uint8Array([1, 2, 3])));
      }));

    it('after close, every read and write rejects and close again is harmless', () =>
      withStore(async ({ storage }) => {
        await storage.update('k', partition, () => valueObject(new Uint8Array([1])));
        await storage.close();
        await assert.rejects(storage.get('k'), Error);
        let called = false;
        await assert.rejects(storage.update('k', partition, () => ((called = true), undefined)), Error);
        await assert.rejects(storage.scanPartition(partition, undefined, 10), Error);
        await assert.rejects(storage.updateHint(hintTarget, 'k', partition, 1, () => ((called = true), textObject('h'))), Error);
        await assert.rejects(storage.listHints(hintTarget, 10), Error);
        await assert.rejects(storage.removeHint(hintTarget, 'k', 1), Error);
        await assert.rejects(storage.getMeta('m'), Error);
        await assert.rejects(storage.putMeta('m', new Uint8Array([1])), Error);
        await assert.rejects(storage.dropPartition(partition, 10), Error);
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

    scanConformance(withStore);
    listConformance(withStore);
    hintConformance(withStore);
    metaConformance(withStore);
    dropConformance(withStore);
    treeConformance(withStore);
  });
}
