// scanPartition conformance: paging, partition isolation and key order by UTF-8 bytes.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Storage } from '../../src/core/ports.js';
import { asPartitionId, type PartitionId } from '../../src/core/types.js';
import { assertSameObject, byUtf8, textObject, type WithStore } from './fixtures.js';

/** Every key of `partition`, read in pages of `pageSize`; checks each page is full but the last. */
async function scanAll(storage: Storage, partition: PartitionId, pageSize: number, after?: string): Promise<string[]> {
  const keys: string[] = [];
  for (;;) {
    const page = await storage.scanPartition(partition, after, pageSize);
    assert.ok(page.length <= pageSize, 'a page holds at most `limit` entries');
    keys.push(...page.map((e) => e.key));
    if (page.length < pageSize) return keys;
    after = page[page.length - 1]!.key;
  }
}

// Keys whose UTF-8 byte order differs from JS string order: astral characters (surrogate pairs)
// sort below U+E000..U+FFFF in UTF-16 but above them in UTF-8.
const unicodeKeys = [
  'a', 'B', 'ab', 'a\u0000b', 'z', '~', 'é', 'Ω', '中', '\uE000', '\uFF5E', '\uFFFD', '\uFFFDx', '😀', '😀a', '𝄞', '\u{10FFFF}',
];

export function scanConformance(withStore: WithStore): void {
  it('scanPartition pages through each partition in key order, and only that partition', () =>
    withStore(async ({ storage }) => {
      const keyOf = (i: number) => (i % 5 === 0 ? `ü-${i}` : i % 7 === 0 ? `😀-${i}` : i % 11 === 0 ? `\uFFFD-${i}` : `k-${i}`);
      const keys = Array.from({ length: 250 }, (_, i) => keyOf(i));
      await Promise.all(keys.map((k, i) => storage.update(k, asPartitionId(i % 3), () => textObject(k))));
      for (const p of [0, 1, 2]) {
        const expected = keys.filter((_, i) => i % 3 === p).sort(byUtf8);
        assert.deepStrictEqual(await scanAll(storage, asPartitionId(p), 17), expected, `partition ${p}`);
        // Objects come with their keys.
        for (const { key, object } of await storage.scanPartition(asPartitionId(p), undefined, 17)) {
          assertSameObject(object, textObject(key), key);
        }
      }
      assert.deepStrictEqual(await storage.scanPartition(asPartitionId(3), undefined, 17), [], 'an empty partition');
    }));

  it('scanPartition orders keys by UTF-8 bytes, not UTF-16 units', () =>
    withStore(async ({ storage }) => {
      const p = asPartitionId(5);
      const expected = [...unicodeKeys].sort(byUtf8);
      // The test means something only if JS order disagrees with byte order on these keys.
      assert.notDeepStrictEqual([...unicodeKeys].sort(), expected);
      assert.ok(expected.indexOf('😀') > expected.indexOf('\uFFFD'));
      await Promise.all([...unicodeKeys].reverse().map((k) => storage.update(k, p, () => textObject(k))));
      assert.deepStrictEqual((await storage.scanPartition(p, undefined, 100)).map((e) => e.key), expected);
      assert.deepStrictEqual(await scanAll(storage, p, 1), expected, 'one key per page');
      assert.deepStrictEqual(await scanAll(storage, p, 4), expected);
      // afterKey need not be a stored key.
      for (const after of ['', 'a', 'a\u0000', 'a\u0000b', '\uE000x', '\uFFFD', '\uFFFF', '😀', '😀\u0000', '\u{10FFFF}\u{10FFFF}']) {
        const rest = expected.filter((k) => byUtf8(k, after) > 0);
        assert.deepStrictEqual(await scanAll(storage, p, 3, after), rest, `after ${JSON.stringify(after)}`);
      }
    }));

  it('scanPartition with a limit of 0 or less, or past the last key, is empty', () =>
    withStore(async ({ storage }) => {
      const p = asPartitionId(1);
      await Promise.all(['a', 'b'].map((k) => storage.update(k, p, () => textObject(k))));
      assert.deepStrictEqual(await storage.scanPartition(p, undefined, 0), []);
      assert.deepStrictEqual(await storage.scanPartition(p, undefined, -1), []);
      assert.deepStrictEqual((await storage.scanPartition(p, undefined, Infinity)).map((e) => e.key), ['a', 'b']);
      assert.deepStrictEqual(await storage.scanPartition(p, 'b', 10), []);
      assert.deepStrictEqual((await storage.scanPartition(p, undefined, 1)).map((e) => e.key), ['a']);
    }));

  it('a scan sees every write and delete issued before it', () =>
    withStore(async ({ storage }) => {
      const p = asPartitionId(2);
      await Promise.all(['a', 'b', 'c'].map((k) => storage.update(k, p, () => textObject(k))));
      // Not awaited: the scan is called while these are staged (on engines that stage).
      const writes = [storage.update('d', p, () => textObject('d')), storage.update('b', p, () => null)];
      const keys = (await storage.scanPartition(p, undefined, 10)).map((e) => e.key);
      assert.deepStrictEqual(keys, ['a', 'c', 'd']);
      await Promise.all(writes);
    }));

  it('a key rewritten under another partition moves to it', () =>
    withStore(async ({ storage }) => {
      await storage.update('k', asPartitionId(1), () => textObject('one'));
      await storage.update('k', asPartitionId(2), () => textObject('two'));
      assert.deepStrictEqual(await storage.scanPartition(asPartitionId(1), undefined, 10), []);
      const [entry, ...rest] = await storage.scanPartition(asPartitionId(2), undefined, 10);
      assert.equal(entry?.key, 'k');
      assertSameObject(entry.object, textObject('two'));
      assert.equal(rest.length, 0);
    }));
}
