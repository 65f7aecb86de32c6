// dropPartition conformance: deletes one partition's objects in key order, a page at a time,
// ordered with the updates around it, and leaves hints and other partitions alone.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { storageBatchMax } from '../../src/core/limits.js';
import type { Storage } from '../../src/core/ports.js';
import { asNodeId, asPartitionId, type PartitionId, type VersionedObject } from '../../src/core/types.js';
import { assertSameObject, byUtf8, textObject, type WithStore } from './fixtures.js';

const p = asPartitionId(4);
const q = asPartitionId(5);
const t1 = asNodeId('n1');
const t2 = asNodeId('n2');

/** Keys whose UTF-8 order differs from JS string order (astral characters), so the order is tested too. */
const keyOf = (i: number): string => (i % 5 === 0 ? `😀-${i}` : i % 7 === 0 ? `\uFFFD-${i}` : `k-${i}`);

const write = (s: Storage, keys: string[], partition: PartitionId) =>
  Promise.all(keys.map((k) => s.update(k, partition, () => textObject(k))));

/** Every key of `partition`, in scan order. */
async function keysOf(s: Storage, partition: PartitionId): Promise<string[]> {
  return (await s.scanPartition(partition, undefined, Number.MAX_SAFE_INTEGER)).map((e) => e.key);
}

export function dropConformance(withStore: WithStore): void {
  it('dropPartition deletes a page of the partition at a time, in key order, and returns 0 once it is empty', () =>
    withStore(async ({ storage }) => {
      const keys = Array.from({ length: 250 }, (_, i) => keyOf(i));
      const sorted = [...keys].sort(byUtf8);
      await write(storage, keys, p);
      const others = ['k-1', 'other'].map((k) => `q-${k}`);
      await write(storage, others, q);
      assert.equal(await storage.dropPartition(p, 100), 100);
      assert.deepStrictEqual(await keysOf(storage, p), sorted.slice(100), 'the first 100 in key order went');
      assert.equal(await storage.get(sorted[99]!), undefined);
      assertSameObject(await storage.get(sorted[100]!), textObject(sorted[100]!));
      assert.equal(await storage.dropPartition(p, 100), 100);
      assert.equal(await storage.dropPartition(p, 100), 50);
      assert.equal(await storage.dropPartition(p, 100), 0);
      assert.deepStrictEqual(await storage.scanPartition(p, undefined, 1000), []);
      for (const k of keys) assert.equal(await storage.get(k), undefined, k);
      assert.deepStrictEqual(await keysOf(storage, q), others.sort(byUtf8), 'another partition is untouched');
      for (const k of others) assertSameObject(await storage.get(k), textObject(k), k);
      assert.equal(await storage.dropPartition(asPartitionId(9), 10), 0, 'a partition never written');
    }));

  it('dropPartition leaves every hint alone, those for keys of the partition too', () =>
    withStore(async ({ storage }) => {
      await write(storage, ['a', 'b'], p);
      await storage.updateHint(t1, 'a', p, 1000, () => textObject('hint a'));
      await storage.updateHint(t2, 'b', p, 2000, () => textObject('hint b'));
      await storage.updateHint(t1, 'c', q, 3000, () => textObject('hint c'));
      assert.equal(await storage.dropPartition(p, 10), 2);
      assert.deepStrictEqual(await keysOf(storage, p), []);
      assert.deepStrictEqual((await storage.listHints(t1, 10)).map((h) => [h.key, h.partition]), [['a', p], ['c', q]]);
      assertSameObject((await storage.listHints(t1, 1))[0]?.object, textObject('hint a'));
      assert.deepStrictEqual((await storage.listHints(t2, 10)).map((h) => h.key), ['b']);
      assert.equal(await storage.hasHint('a'), true);
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n1: 2, n2: 1 });
    }));

  it('dropPartition is ordered with updates: one staged before it is dropped, one staged after it survives', () =>
    withStore(async ({ storage }) => {
      await write(storage, ['a', 'b', 'c', 'd'], p);
      let seenB: VersionedObject | undefined | 'not called' = 'not called';
      // All in one turn, none awaited before the next is called.
      const [, , , dropped, , , , getA] = await Promise.all([
        storage.update('a', p, () => textObject('a2')), // before: dropped with the rest
        storage.update('a0', p, () => textObject('a0')), // a new key, before: dropped too
        storage.update('c', q, () => textObject('c moved')), // moved out before the drop: kept
        storage.dropPartition(p, 10),
        storage.update('b', p, (cur) => ((seenB = cur), textObject('b2'))), // after: survives
        storage.update('new', p, () => textObject('new')), // after: survives
        storage.update('a', p, (cur) => cur), // after, a no-op on a dropped key
        storage.get('a'),
      ]);
      assert.equal(dropped, 4, 'a, a0, b and d were the partition when it ran');
      assert.equal(seenB, undefined, 'an update after the drop sees its key gone');
      assert.equal(getA, undefined, 'a read after the drop does not see the dropped key');
      assert.deepStrictEqual(await keysOf(storage, p), ['b', 'new']);
      assertSameObject(await storage.get('b'), textObject('b2'));
      assertSameObject(await storage.get('new'), textObject('new'));
      assert.equal(await storage.get('a'), undefined);
      assert.equal(await storage.get('d'), undefined);
      assertSameObject(await storage.get('c'), textObject('c moved'));
      assert.deepStrictEqual(await keysOf(storage, q), ['c']);
    }));

  it('dropPartition refuses a limit below 1 with a RangeError, floors the rest and deletes at most a batch', () =>
    withStore(async ({ storage }) => {
      const keys = Array.from({ length: storageBatchMax + 10 }, (_, i) => `k${String(i).padStart(5, '0')}`);
      await write(storage, keys, p);
      for (const limit of [0, -1, 0.5, Number.NaN]) await assert.rejects(storage.dropPartition(p, limit), RangeError, String(limit));
      assert.equal((await keysOf(storage, p)).length, keys.length, 'a refused drop deletes nothing');
      assert.equal(await storage.dropPartition(p, 2.9), 2);
      assert.deepStrictEqual((await keysOf(storage, p)).slice(0, 1), [keys[2]]);
      assert.equal(await storage.dropPartition(p, Infinity), storageBatchMax);
      assert.equal(await storage.dropPartition(p, Infinity), 8);
      assert.equal(await storage.dropPartition(p, Infinity), 0);
    }));

  it('a dropped partition stays dropped after close and reopen, a drop in flight at close too', (t) =>
    withStore(async ({ storage, reopen }) => {
      if (!reopen) return t.skip('engine is not persistent');
      await write(storage, ['a', 'b', 'c'], p);
      await write(storage, ['x', 'y'], q);
      await write(storage, ['z'], asPartitionId(8));
      await storage.updateHint(t1, 'a', p, 1000, () => textObject('hint a'));
      assert.equal(await storage.dropPartition(p, 2), 2);
      const inFlight = storage.dropPartition(q, 10); // accepted before close: close must keep it
      await storage.close();
      assert.equal(await inFlight, 2);
      const again = await reopen();
      try {
        assert.deepStrictEqual(await keysOf(again, p), ['c']);
        assert.deepStrictEqual(await keysOf(again, q), []);
        for (const k of ['a', 'b', 'x', 'y']) assert.equal(await again.get(k), undefined, k);
        assertSameObject(await again.get('z'), textObject('z'));
        assert.deepStrictEqual((await again.listHints(t1, 10)).map((h) => h.key), ['a']);
        assert.equal(await again.dropPartition(p, 2), 1);
        assert.equal(await again.dropPartition(p, 2), 0);
      } finally {
        await again.close();
      }
    }));

  it('a drop resolved before a crash stays done', (t) =>
    withStore(async ({ storage, crash }) => {
      if (!crash) return t.skip('engine cannot simulate a crash');
      await write(storage, ['a', 'b', 'c'], p);
      assert.equal(await storage.dropPartition(p, 2), 2);
      const again = await crash();
      assert.deepStrictEqual(await keysOf(again, p), ['c']);
    }));
}
