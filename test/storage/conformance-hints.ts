// Hint conformance: merge semantics, versions, oldest-first listing, conditional removal, counts.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { HintEntry, Storage } from '../../src/core/ports.js';
import { asNodeId, asPartitionId, type VersionedObject } from '../../src/core/types.js';
import { appendSibling, assertSameObject, textObject, type WithStore } from './fixtures.js';

const t1 = asNodeId('n1');
const t2 = asNodeId('n2');
const p = asPartitionId(4);

const counts = (s: Storage) => Object.fromEntries(s.hintCounts());
const summary = (hs: HintEntry[]) => hs.map((h) => [h.target, h.key, h.createdAtMs]);

/** Creates or replaces the hint for (target, key) with a text object. */
const put = (s: Storage, target = t1, key = 'k', createdAtMs = 1000, text = key) =>
  s.updateHint(target, key, p, createdAtMs, () => textObject(text));

export function hintConformance(withStore: WithStore): void {
  it('a new hint is listed with its target, key, partition, object, version and createdAt', () =>
    withStore(async ({ storage }) => {
      assert.deepStrictEqual(counts(storage), {});
      assert.deepStrictEqual(await storage.listHints(t1, 10), []);
      let seen: VersionedObject | undefined | 'not called' = 'not called';
      assert.equal(await storage.updateHint(t1, 'k', p, 1000, (cur) => ((seen = cur), textObject('h'))), undefined);
      assert.equal(seen, undefined, 'a new hint starts from undefined');
      const [h, ...rest] = await storage.listHints(t1, 10);
      assert.equal(rest.length, 0);
      assert.deepStrictEqual([h!.target, h!.key, h!.partition, h!.createdAtMs], [t1, 'k', p, 1000]);
      assert.ok(Number.isSafeInteger(h!.version));
      assertSameObject(h!.object, textObject('h'));
      assert.deepStrictEqual(counts(storage), { n1: 1 });
      assert.equal(await storage.get('k'), undefined, 'hints are not objects');
      assert.deepStrictEqual(await storage.scanPartition(p, undefined, 10), []);
    }));

  it('counts a hint only while its creating write has resolved and its removal has not', () =>
    withStore(async ({ storage }) => {
      const created = storage.updateHint(t1, 'k', p, 1000, appendSibling(1));
      assert.deepStrictEqual(counts(storage), {}, 'a write in flight is not counted');
      await created;
      assert.deepStrictEqual(counts(storage), { n1: 1 });
      const merged = storage.updateHint(t1, 'k', p, 2000, appendSibling(2));
      assert.deepStrictEqual(counts(storage), { n1: 1 });
      await merged;
      assert.deepStrictEqual(counts(storage), { n1: 1 }, 'a merge is not a new hint');
      const [h] = await storage.listHints(t1, 1);
      const removed = storage.removeHint(t1, 'k', h!.version);
      assert.deepStrictEqual(counts(storage), { n1: 1 }, 'a removal in flight still counts the hint');
      assert.equal(await removed, true);
      assert.deepStrictEqual(counts(storage), {});
    }));

  it('a merge sees the hint, keeps its createdAt and bumps its version', () =>
    withStore(async ({ storage }) => {
      await storage.updateHint(t1, 'k', p, 1000, appendSibling(1));
      const [before] = await storage.listHints(t1, 10);
      let seen: VersionedObject | undefined;
      await storage.updateHint(t1, 'k', p, 5000, (cur) => ((seen = cur), appendSibling(2)(cur)));
      assertSameObject(seen, before!.object);
      const [after, ...rest] = await storage.listHints(t1, 10);
      assert.equal(rest.length, 0);
      assert.equal(after!.createdAtMs, 1000, 'the first write sets the age');
      assert.ok(after!.version > before!.version, 'every merge gets a newer version');
      assert.deepStrictEqual(after!.object.siblings.map((s) => s.dot[1]), [1, 2]);
      assert.deepStrictEqual(counts(storage), { n1: 1 });
    }));

  it('concurrent merges into one hint never interleave', () =>
    withStore(async ({ storage }) => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => storage.updateHint(t1, 'hot', p, 1000 + i, appendSibling(i + 1))));
      const [h] = await storage.listHints(t1, 10);
      assert.deepStrictEqual(h!.object.siblings.map((s) => s.dot[1]), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal(h!.createdAtMs, 1000);
      assert.deepStrictEqual(counts(storage), { n1: 1 });
    }));

  it('listHints is per target, oldest first (ties in write order), and honours the limit', () =>
    withStore(async ({ storage }) => {
      await put(storage, t1, 'late', 3000);
      await put(storage, t2, 'other', 1);
      await Promise.all([put(storage, t1, 'early', 1000), put(storage, t1, 'tie-1', 2000), put(storage, t1, 'tie-2', 2000)]);
      await put(storage, t1, 'tie-3', 2000);
      await put(storage, t1, 'early', 9999); // a merge: keeps 1000, so stays first
      const all = await storage.listHints(t1, 10);
      assert.deepStrictEqual(all.map((h) => h.key), ['early', 'tie-1', 'tie-2', 'tie-3', 'late']);
      assert.deepStrictEqual(summary(await storage.listHints(t1, 2)), [[t1, 'early', 1000], [t1, 'tie-1', 2000]]);
      assert.deepStrictEqual(summary(await storage.listHints(t2, 10)), [[t2, 'other', 1]]);
      assert.deepStrictEqual(await storage.listHints(asNodeId('n3'), 10), []);
      assert.deepStrictEqual(await storage.listHints(t1, 0), []);
      assert.equal((await storage.listHints(t1, Infinity)).length, 5);
      assert.deepStrictEqual(counts(storage), { n1: 5, n2: 1 });
    }));

  it('removeHint removes only the version it names', () =>
    withStore(async ({ storage }) => {
      await put(storage, t1, 'k', 1000, 'v1');
      await put(storage, t1, 'j', 1000);
      await put(storage, t2, 'k', 1000);
      const [stale] = await storage.listHints(t1, 1);
      await put(storage, t1, 'k', 2000, 'v2'); // merged after `stale` was read
      assert.equal(await storage.removeHint(t1, 'k', stale!.version), false, 'a stale version is refused');
      // k kept createdAt 1000 but now has a newer version than j, so it is listed after j.
      assert.deepStrictEqual((await storage.listHints(t1, 10)).map((h) => h.key), ['j', 'k']);
      const current = (await storage.listHints(t1, 10)).find((h) => h.key === 'k');
      assertSameObject(current!.object, textObject('v2'));
      assert.deepStrictEqual(counts(storage), { n1: 2, n2: 1 });

      assert.equal(await storage.removeHint(t1, 'k', current!.version), true);
      assert.deepStrictEqual((await storage.listHints(t1, 10)).map((h) => h.key), ['j']);
      assert.equal((await storage.listHints(t2, 10)).length, 1, 'the same key for another target stays');
      assert.deepStrictEqual(counts(storage), { n1: 1, n2: 1 });
      assert.equal(await storage.removeHint(t1, 'k', current!.version), false, 'already removed');
      assert.equal(await storage.removeHint(t1, 'missing', 1), false);

      const [j] = await storage.listHints(t1, 1);
      assert.equal(await storage.removeHint(t1, 'j', j!.version), true);
      assert.deepStrictEqual(counts(storage), { n2: 1 }, 'a target with no hints left is absent');
    }));

  it('a removal and a merge in the same turn apply in order', () =>
    withStore(async ({ storage }) => {
      await put(storage, t1, 'a', 1000, 'a1');
      await put(storage, t1, 'b', 1000, 'b1');
      const [a, b] = await storage.listHints(t1, 10);
      let seenA: VersionedObject | undefined | 'not called' = 'not called';
      const results = await Promise.all([
        storage.removeHint(t1, 'a', a!.version),
        storage.updateHint(t1, 'a', p, 7000, (cur) => ((seenA = cur), textObject('a2'))), // after the removal: a new hint
        storage.updateHint(t1, 'b', p, 7000, () => textObject('b2')),
        storage.removeHint(t1, 'b', b!.version), // after the merge: stale
      ]);
      assert.deepStrictEqual([results[0], results[3]], [true, false]);
      assert.equal(seenA, undefined);
      const hints = await storage.listHints(t1, 10);
      assert.deepStrictEqual(summary(hints), [[t1, 'b', 1000], [t1, 'a', 7000]]);
      assertSameObject(hints[0]!.object, textObject('b2'));
      assert.deepStrictEqual(counts(storage), { n1: 2 });
    }));

  it('hasHint says whether any target holds a hint for a key, also while the hint is being written', () =>
    withStore(async ({ storage }) => {
      assert.equal(await storage.hasHint('k'), false);
      await storage.update('k', p, () => textObject('obj'));
      assert.equal(await storage.hasHint('k'), false, 'an object is not a hint');
      const staged = put(storage, t2, 'k');
      assert.equal(await storage.hasHint('k'), true, 'a hint not yet committed counts');
      await staged;
      await put(storage, t1, 'k');
      assert.equal(await storage.hasHint('k'), true);
      assert.equal(await storage.hasHint('j'), false);
      for (const target of [t1, t2]) {
        const [h] = await storage.listHints(target, 1);
        assert.equal(await storage.removeHint(target, 'k', h!.version), true);
      }
      assert.equal(await storage.hasHint('k'), false, 'gone once every target\'s hint is removed');
    }));

  it('an update and an updateHint issued together both land', () =>
    withStore(async ({ storage }) => {
      await Promise.all([storage.update('k', p, () => textObject('obj')), put(storage, t1, 'k', 1000, 'hint')]);
      assertSameObject(await storage.get('k'), textObject('obj'));
      assertSameObject((await storage.listHints(t1, 1))[0]?.object, textObject('hint'));
      assert.deepStrictEqual(counts(storage), { n1: 1 });
    }));

  it('hints, their versions and counts survive close and reopen', (t) =>
    withStore(async ({ storage, reopen }) => {
      if (!reopen) return t.skip('engine is not persistent');
      await Promise.all(['a', 'b', 'c'].map((k, i) => put(storage, t1, k, 1000 + i)));
      await put(storage, t2, 'x', 500);
      const [a] = await storage.listHints(t1, 1);
      await storage.removeHint(t1, 'a', a!.version);
      const before = [...(await storage.listHints(t1, 10)), ...(await storage.listHints(t2, 10))];
      const inFlight = put(storage, t2, 'y', 600); // accepted before close: close must keep it
      await storage.close();
      await inFlight;
      const again = await reopen();
      try {
        assert.deepStrictEqual(counts(again), { n1: 2, n2: 2 });
        const after = await again.listHints(t1, 10);
        assert.deepStrictEqual(after.map((h) => [h.key, h.version, h.createdAtMs]), before.slice(0, 2).map((h) => [h.key, h.version, h.createdAtMs]));
        assertSameObject(after[0]!.object, textObject('b'));
        assert.deepStrictEqual((await again.listHints(t2, 10)).map((h) => h.key), ['x', 'y']);
        const maxBefore = Math.max(...before.map((h) => h.version));
        await put(again, t1, 'b', 1, 'b2');
        const [b] = await again.listHints(t1, 1);
        assert.ok(b!.version > maxBefore, 'versions keep growing across a reopen');
        assert.equal(await again.removeHint(t1, 'b', b!.version), true);
        assert.deepStrictEqual(counts(again), { n1: 1, n2: 2 });
      } finally {
        await again.close();
      }
    }));
}
