import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Storage } from '../../src/core/runtime.js';
import { asPartitionId, type ActorId, type VersionedObject } from '../../src/core/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { assertSameObject, storageConformance, valueObject, valueSibling } from './conformance.js';

const partition = asPartitionId(3);
const encoder = new TextEncoder();

/** A fresh temp directory with helpers to (re)open it; cleanup closes everything and removes it. */
async function tempStore(sync?: 'normal' | 'full') {
  const dir = await mkdtemp(join(tmpdir(), 'kvorum-sqlite-'));
  const opened: Storage[] = [];
  const open = (): SqliteStorage => {
    const s = SqliteStorage.open({ dir, ...(sync ? { sync } : {}) });
    opened.push(s);
    return s;
  };
  const cleanup = async () => {
    for (const s of opened) await s.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, open, cleanup };
}

for (const sync of ['normal', 'full'] as const) {
  storageConformance(`SqliteStorage (sync ${sync})`, async () => {
    const t = await tempStore(sync);
    return { storage: t.open(), reopen: async () => t.open(), cleanup: t.cleanup };
  });
}

describe('SqliteStorage', () => {
  it('uses WAL and records its schema version and incarnation', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const raw = new Database(join(t.dir, 'kvorum.db'), { readonly: true });
      try {
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
        const meta = Object.fromEntries(raw.prepare<[], [string, string]>('SELECT name, value FROM meta').raw().all());
        assert.equal(meta['schema_version'], '1');
        assert.equal(meta['incarnation'], storage.incarnation);
        assert.match(storage.incarnation, /^[0-9a-f]{16}$/);
      } finally {
        raw.close();
      }
    } finally {
      await t.cleanup();
    }
  });

  it('a wiped directory gets a new incarnation', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      await first.update('k', partition, () => valueObject(new Uint8Array([1])));
      await first.close();
      await rm(t.dir, { recursive: true, force: true });
      const second = t.open();
      assert.notEqual(second.incarnation, first.incarnation);
      assert.equal(await second.get('k'), undefined);
    } finally {
      await t.cleanup();
    }
  });

  it('a failed commit rejects its whole batch and leaves no trace, even for readers', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const before = valueObject(encoder.encode('before'));
      await storage.update('before', partition, () => before);
      // Make the next transaction fail: a trigger that aborts any write of the key 'poison'.
      const raw = new Database(join(t.dir, 'kvorum.db'));
      raw.exec(`CREATE TRIGGER poison BEFORE INSERT ON objects WHEN NEW.key = 'poison'
                BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);
      raw.close();

      const append = (o: VersionedObject | undefined): VersionedObject => ({
        context: o!.context,
        siblings: [...o!.siblings, valueSibling('b.1' as ActorId, 1, new Uint8Array([2]))],
      });
      const writes = [
        storage.update('a', partition, () => valueObject(encoder.encode('a'))),
        storage.update('before', partition, append),
        storage.update('poison', partition, () => valueObject(new Uint8Array())),
      ];
      const readDuring = storage.get('a'); // staged but not yet committed
      const settled = await Promise.allSettled(writes);
      for (const s of settled) {
        assert.equal(s.status, 'rejected');
        assert.match(String((s as PromiseRejectedResult).reason), /poisoned/);
      }
      assert.equal(await readDuring, undefined, 'a read must not see a write that then failed');
      assert.equal(await storage.get('a'), undefined);
      assertSameObject(await storage.get('before'), before);

      // The store carries on: the next batch commits and builds on committed state only.
      let seen: VersionedObject | undefined | 'not called' = 'not called';
      await storage.update('a', partition, (cur) => ((seen = cur), valueObject(encoder.encode('a2'))));
      assert.equal(seen, undefined);
      assertSameObject(await storage.get('a'), valueObject(encoder.encode('a2')));
    } finally {
      await t.cleanup();
    }
  });

  it('more concurrent writes than one batch holds all land, in order per key', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const count = 2500; // > 2 * storageBatchMax, so batches are flushed early
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          storage.update(`k${i}`, asPartitionId(i % 64), () => valueObject(encoder.encode(`k${i}`))),
        ),
      );
      const hot = Array.from({ length: count }, (_, i) =>
        storage.update('hot', partition, (cur) => valueObject(new Uint8Array(), 'n', (cur?.context.vv[0]?.[1] ?? 0) + 1)),
      );
      await Promise.all(hot);
      await storage.close();
      const again = t.open();
      for (let i = 0; i < count; i++) assertSameObject(await again.get(`k${i}`), valueObject(encoder.encode(`k${i}`)));
      assert.equal((await again.get('hot'))?.context.vv[0]?.[1], count, 'every increment survived');
    } finally {
      await t.cleanup();
    }
  });
});
