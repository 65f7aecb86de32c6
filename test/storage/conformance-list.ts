// listKeys conformance: the range of a prefix inside one partition, in UTF-8 byte order, live keys
// only, bounded by rows read and keys found, `next` saying where to go on.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hasLiveValue } from '../../src/core/dvv.js';
import type { KeyScan, KeyScanPage, Storage } from '../../src/core/ports.js';
import { asPartitionId, type PartitionId, type VersionedObject } from '../../src/core/types.js';
import { actorA, byUtf8, textObject, tombstoneSibling, type WithStore } from './fixtures.js';

const p = asPartitionId(4);
const isLive = (o: VersionedObject) => hasLiveValue(o, 0);
const tombstone: VersionedObject = { context: { vv: [[actorA, 2]], cloud: [] }, siblings: [tombstoneSibling(actorA, 2, 1_700_000_000_000)] };

function scan(prefix: string, afterKey?: string, keysMax = 1000, rowsMax = 1000): KeyScan {
  return { prefix, afterKey, rowsMax, keysMax, isLive };
}

/** Every live key of the prefix's range, following `next` page after page; checks each page's bounds. */
async function listAll(storage: Storage, partition: PartitionId, prefix: string, keysMax: number, rowsMax: number): Promise<{ keys: string[]; pages: KeyScanPage[] }> {
  const keys: string[] = [];
  const pages: KeyScanPage[] = [];
  for (let afterKey: string | undefined, i = 0; ; i++) {
    assert.ok(i < 10_000, 'listKeys makes progress');
    const page = await storage.listKeys(partition, scan(prefix, afterKey, keysMax, rowsMax));
    assert.ok(page.keys.length <= keysMax, 'at most keysMax keys');
    if (afterKey !== undefined && page.next !== undefined) assert.ok(byUtf8(page.next, afterKey) > 0, 'next moves on');
    pages.push(page);
    keys.push(...page.keys);
    if (page.next === undefined) return { keys, pages };
    afterKey = page.next;
  }
}

async function store(storage: Storage, keys: readonly string[], partition: PartitionId = p): Promise<void> {
  await Promise.all(keys.map((k) => storage.update(k, partition, () => textObject(k))));
}

// Prefixes whose last byte is a UTF-8 continuation byte or a multi-byte lead: the range's upper
// bound (the last byte raised by one) is then not UTF-8 itself.
const keys = ['a', 'ab', 'ab\u0000', 'abc', 'abd', 'ac', 'b', 'é', 'éa', 'é\u{10FFFF}', 'ê', '\uFFFD', '😀', '😀a', '😁', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}'];

export function listConformance(withStore: WithStore): void {
  it('listKeys lists exactly the keys starting with the prefix, in UTF-8 byte order, of that partition only', () =>
    withStore(async ({ storage }) => {
      await store(storage, keys);
      await store(storage, ['ab-elsewhere', 'é-elsewhere'], asPartitionId(5));
      for (const prefix of ['', 'a', 'ab', 'abc', 'é', '😀', '\u{10FFFF}', 'z', 'abcd']) {
        const expected = keys.filter((k) => k.startsWith(prefix)).sort(byUtf8);
        const page = await storage.listKeys(p, scan(prefix));
        assert.deepStrictEqual(page, { keys: expected, next: undefined }, `prefix ${JSON.stringify(prefix)}`);
      }
      assert.deepStrictEqual(await storage.listKeys(asPartitionId(6), scan('')), { keys: [], next: undefined }, 'an empty partition');
    }));

  it('listKeys goes on strictly after afterKey, which need not be stored', () =>
    withStore(async ({ storage }) => {
      await store(storage, keys);
      const all = [...keys].sort(byUtf8);
      for (const [prefix, after] of [['', 'ab'], ['', 'ab\u0000\u0000'], ['a', 'ab'], ['ab', 'a'], ['é', 'é'], ['', '\u{10FFFF}\u{10FFFF}'], ['b', 'c']] as const) {
        const expected = all.filter((k) => k.startsWith(prefix) && byUtf8(k, after) > 0);
        assert.deepStrictEqual((await storage.listKeys(p, scan(prefix, after))).keys, expected, `prefix ${prefix} after ${after}`);
      }
    }));

  it('listKeys leaves out tombstone-only objects, and isLive decides', () =>
    withStore(async ({ storage }) => {
      await store(storage, ['k1', 'k2', 'k3', 'k4']);
      await storage.update('k2', p, () => tombstone);
      assert.deepStrictEqual((await storage.listKeys(p, scan('k'))).keys, ['k1', 'k3', 'k4']);
      const text = (o: VersionedObject) => (o.siblings[0]?.value.kind === 'value' ? new TextDecoder().decode(o.siblings[0].value.data) : undefined);
      assert.deepStrictEqual((await storage.listKeys(p, { ...scan('k'), isLive: (o) => text(o) === 'k3' })).keys, ['k3']);
    }));

  it('listKeys stops at keysMax or rowsMax, and next names the last row read', () =>
    withStore(async ({ storage }) => {
      const many = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      await store(storage, many);
      // Every third key deleted: rows read and keys found differ.
      for (const k of many.filter((_, i) => i % 3 === 0)) await storage.update(k, p, () => tombstone);
      const live = many.filter((_, i) => i % 3 !== 0);
      assert.deepStrictEqual(await storage.listKeys(p, scan('k', undefined, 4)), { keys: live.slice(0, 4), next: live[3] }, 'keysMax');
      assert.deepStrictEqual(await storage.listKeys(p, scan('k', undefined, 100, 6)), { keys: live.slice(0, 4), next: many[5] }, 'rowsMax');
      assert.deepStrictEqual(await storage.listKeys(p, scan('k', undefined, 100, 3)), { keys: live.slice(0, 2), next: many[2] });
      // A scan of only tombstones finds nothing but still moves on.
      assert.deepStrictEqual(await storage.listKeys(p, scan('k', 'k02', 100, 1)), { keys: [], next: 'k03' });
      // The range ends exactly at keysMax: no next.
      assert.deepStrictEqual(await storage.listKeys(p, scan('k2', undefined, 7)), { keys: live.filter((k) => k.startsWith('k2')), next: undefined });
      for (const [keysMax, rowsMax] of [[1, 1], [1, 1000], [3, 2], [7, 5], [1000, 1]]) {
        const { keys: listed } = await listAll(storage, p, 'k', keysMax!, rowsMax!);
        assert.deepStrictEqual(listed, live, `keysMax ${keysMax}, rowsMax ${rowsMax}`);
      }
    }));

  it('listKeys sees every write and delete issued before it', () =>
    withStore(async ({ storage }) => {
      await store(storage, ['a', 'b', 'c']);
      // Not awaited: listed while these are staged (on engines that stage).
      const writes = [storage.update('d', p, () => textObject('d')), storage.update('b', p, () => null), storage.update('c', p, () => tombstone)];
      assert.deepStrictEqual((await storage.listKeys(p, scan(''))).keys, ['a', 'd']);
      await Promise.all(writes);
    }));

  it('listKeys refuses bounds below 1', () =>
    withStore(async ({ storage }) => {
      await assert.rejects(storage.listKeys(p, scan('', undefined, 0)), RangeError);
      await assert.rejects(storage.listKeys(p, scan('', undefined, 10, 0)), RangeError);
    }));
}
