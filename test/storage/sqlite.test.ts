import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { QuarantinedRow, Storage } from '../../src/core/ports.js';
import { asNodeId, asPartitionId, type ActorId, type VersionedObject } from '../../src/core/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { WalSync } from '../../src/storage/wal-sync.js';
import { assertSameObject, storageConformance, valueObject, valueSibling } from './conformance.js';
import { assertTreesMatchRows } from './conformance-tree.js';
import { textObject } from './fixtures.js';
import { waitFor } from '../kit/wait.js';

const partition = asPartitionId(3);
const encoder = new TextEncoder();
const target = asNodeId('n2');

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

/** Runs `sql` on the store's database through a second connection (e.g. to plant a trigger). */
function execRaw(dir: string, sql: string): void {
  const raw = new Database(join(dir, 'kvorum.db'));
  try {
    raw.exec(sql);
  } finally {
    raw.close();
  }
}

for (const sync of ['normal', 'full'] as const) {
  storageConformance(`SqliteStorage (sync ${sync})`, async () => {
    const t = await tempStore(sync);
    return { storage: t.open(), reopen: async () => t.open(), cleanup: t.cleanup };
  });
}

describe('SqliteStorage', () => {
  it('sync full: a write is acknowledged, and its key read, only after the fsync that covers it', async () => {
    const t = await tempStore('full');
    const fsyncs: Array<(err: Error | null) => void> = [];
    try {
      const storage = t.open();
      // Stand in for fs.fsync so the test decides when it completes (wal-sync.test.ts covers WalSync itself).
      const commits = storage['commits'];
      await commits['walSync']!.close();
      commits['walSync'] = new WalSync(-1, (_fd, done) => void fsyncs.push(done));
      let acked = false;
      const write = storage.update('k', partition, () => textObject('v')).then(() => (acked = true));
      await waitFor(() => fsyncs.length === 1, { what: 'the commit to start an fsync', timeoutMs: 5000 });
      let read: string | undefined;
      const reading = storage.get('k').then((o) => (read = o?.siblings[0]?.value.kind));
      // Many turns: the commit, and any ack that did not wait for the fsync, would have happened.
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(acked, false, 'not acknowledged before its fsync');
      assert.equal(read, undefined, 'nor read');
      fsyncs.shift()!(null);
      await write;
      await reading;
      assert.equal(read, 'value');
    } finally {
      for (const done of fsyncs.splice(0)) done(null); // close waits for them
      await t.cleanup();
    }
  });

  it('uses WAL and records its schema version and incarnation', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const raw = new Database(join(t.dir, 'kvorum.db'), { readonly: true });
      try {
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
        const meta = Object.fromEntries(raw.prepare<[], [string, string]>('SELECT name, value FROM meta').raw().all());
        assert.equal(meta['schema_version'], '3');
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
      execRaw(t.dir, `CREATE TRIGGER poison BEFORE INSERT ON objects WHEN NEW.key = 'poison'
                      BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);

      const append = (o: VersionedObject | undefined): VersionedObject => ({
        context: { vv: [...o!.context.vv, ['b.1' as ActorId, 1]], cloud: [] },
        siblings: [...o!.siblings, valueSibling('b.1' as ActorId, 1, new Uint8Array([2]))],
      });
      const writes = [
        storage.update('a', partition, () => valueObject(encoder.encode('a'))),
        storage.update('before', partition, append),
        storage.update('poison', partition, () => valueObject(new Uint8Array())),
      ];
      const readDuring = storage.get('a'); // staged but not yet committed
      const scanDuring = storage.scanPartition(partition, undefined, 10);
      const settled = await Promise.allSettled(writes);
      for (const s of settled) {
        assert.equal(s.status, 'rejected');
        assert.match(String((s as PromiseRejectedResult).reason), /poisoned/);
      }
      assert.equal(await readDuring, undefined, 'a read must not see a write that then failed');
      assert.deepStrictEqual((await scanDuring).map((e) => e.key), ['before'], 'nor a scan');
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

  it('refuses a database with another schema version', async () => {
    const t = await tempStore();
    try {
      await t.open().close();
      execRaw(t.dir, `UPDATE meta SET value = '1' WHERE name = 'schema_version'`);
      assert.throws(() => t.open(), /unsupported schema_version 1/);
    } finally {
      await t.cleanup();
    }
  });

  it('migrates a schema 2 directory: every row gets its leaf and version hash, the trees are stored, once', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const keys = Array.from({ length: 300 }, (_, i) => `m${i}`);
      const parts = [asPartitionId(0), asPartitionId(1), asPartitionId(9)];
      await Promise.all(keys.map((k, i) => storage.update(k, parts[i % 3]!, () => valueObject(encoder.encode(k)))));
      await storage.close();
      // What schema 2 was: no tree columns, no leaf table, and one row that does not decode.
      execRaw(
        t.dir,
        `DROP INDEX objects_by_leaf; DROP TABLE leaf_hashes;
         ALTER TABLE objects DROP COLUMN leaf; ALTER TABLE objects DROP COLUMN vhash;
         INSERT INTO objects (key, partition, object) VALUES ('garbage', 0, x'c1c1');
         UPDATE meta SET value = '2' WHERE name = 'schema_version'`,
      );
      const logged: string[] = [];
      const migrated = SqliteStorage.open({ dir: t.dir, log: (m) => void logged.push(m) });
      try {
        assert.match(logged.join('\n'), /migrating schema 2 -> 3[^]*migrated 301 objects/);
        assert.equal(migrated.tree(parts[0]!).size, 100, 'the undecodable row counts in no tree');
        assert.equal(await migrated.get('garbage'), undefined, 'and is quarantined when read');
        await assertTreesMatchRows(migrated, 'after the migration', parts);
      } finally {
        await migrated.close();
      }
      const again = t.open(); // schema 3 now: opens without migrating
      await assertTreesMatchRows(again, 'reopened', parts);
      const raw = new Database(join(t.dir, 'kvorum.db'), { readonly: true });
      assert.equal(raw.prepare('SELECT value FROM meta WHERE name = ?').pluck().get('schema_version'), '3');
      raw.close();
    } finally {
      await t.cleanup();
    }
  });

  it('an update and an updateHint issued in the same turn commit or fail together', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      await storage.update('kept', partition, () => textObject('kept'));
      await storage.updateHint(target, 'old', partition, 1000, () => textObject('old'));
      const [old] = await storage.listHints(target, 10);
      const expectNothingLanded = async (message: string) => {
        assert.equal(await storage.get('obj'), undefined, message);
        assert.deepStrictEqual((await storage.listHints(target, 10)).map((h) => [h.key, h.version]), [['old', old!.version]], message);
        assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 1 }, message);
      };
      const sameTurn = () => [
        storage.update('obj', partition, () => textObject('obj')),
        storage.updateHint(target, 'new', partition, 2000, () => textObject('new')),
        storage.removeHint(target, 'old', old!.version),
        storage.updateHint(asNodeId('n3'), 'obj', partition, 2000, () => textObject('n3')),
      ];

      // The hint write fails: the object write and the removal go down with it.
      execRaw(t.dir, `CREATE TRIGGER poison BEFORE INSERT ON hints WHEN NEW.key = 'new'
                      BEGIN SELECT RAISE(ABORT, 'poisoned hint'); END`);
      for (const s of await Promise.allSettled(sameTurn())) assert.match(String((s as PromiseRejectedResult).reason), /poisoned hint/);
      await expectNothingLanded('a failed hint write');

      // The object write fails: the hint writes go down with it.
      execRaw(t.dir, `DROP TRIGGER poison; CREATE TRIGGER poison BEFORE INSERT ON objects WHEN NEW.key = 'obj'
                      BEGIN SELECT RAISE(ABORT, 'poisoned object'); END`);
      for (const s of await Promise.allSettled(sameTurn())) assert.match(String((s as PromiseRejectedResult).reason), /poisoned object/);
      await expectNothingLanded('a failed object write');

      // Without the trigger the same turn lands whole, and counts match what is on disk.
      execRaw(t.dir, 'DROP TRIGGER poison');
      const [, , removed] = await Promise.all(sameTurn());
      assert.equal(removed, true);
      assertSameObject(await storage.get('obj'), textObject('obj'));
      assert.deepStrictEqual((await storage.listHints(target, 10)).map((h) => h.key), ['new']);
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 1, n3: 1 });
      await storage.close();
      assert.deepStrictEqual(Object.fromEntries(t.open().hintCounts()), { n2: 1, n3: 1 });
    } finally {
      await t.cleanup();
    }
  });

  it('a data directory made before meta records existed gets their table on open', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      await first.update('k', partition, () => textObject('k'));
      await first.close();
      execRaw(t.dir, 'DROP TABLE meta_records');
      const again = t.open();
      assert.equal(again.incarnation, first.incarnation);
      assertSameObject(await again.get('k'), textObject('k'));
      assert.equal(await again.getMeta('ring'), undefined);
      await again.putMeta('ring', new Uint8Array([1, 2]));
      assert.deepStrictEqual(Array.from((await again.getMeta('ring'))!), [1, 2]);
    } finally {
      await t.cleanup();
    }
  });

  it("meta records never reach the engine's own schema_version and incarnation", async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      assert.equal(await storage.getMeta('incarnation'), undefined);
      await storage.putMeta('incarnation', encoder.encode('forged'));
      await storage.putMeta('schema_version', encoder.encode('1'));
      await storage.close();
      const again = t.open(); // would refuse a schema_version of 1
      assert.equal(again.incarnation, storage.incarnation);
      assert.deepStrictEqual(Array.from((await again.getMeta('incarnation'))!), Array.from(encoder.encode('forged')));
    } finally {
      await t.cleanup();
    }
  });

  it('meta writes, drops and updates issued in the same turn commit or fail together', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      await Promise.all(['a', 'b'].map((k) => storage.update(k, partition, () => textObject(k))));
      await storage.putMeta('ring', encoder.encode('v1'));
      const sameTurn = () => [
        storage.update('obj', asPartitionId(4), () => textObject('obj')),
        storage.putMeta('ring', encoder.encode('v2')),
        storage.dropPartition(partition, 10),
        storage.putMeta('cursor', encoder.encode('c')),
      ];
      execRaw(t.dir, `CREATE TRIGGER poison BEFORE INSERT ON meta_records WHEN NEW.name = 'cursor'
                      BEGIN SELECT RAISE(ABORT, 'poisoned meta'); END`);
      for (const s of await Promise.allSettled(sameTurn())) assert.match(String((s as PromiseRejectedResult).reason), /poisoned meta/);
      assert.equal(await storage.get('obj'), undefined);
      assert.deepStrictEqual(Array.from((await storage.getMeta('ring'))!), Array.from(encoder.encode('v1')));
      assert.deepStrictEqual((await storage.scanPartition(partition, undefined, 10)).map((e) => e.key), ['a', 'b'], 'the drop failed too');

      execRaw(t.dir, 'DROP TRIGGER poison');
      const [, , dropped] = await Promise.all(sameTurn());
      assert.equal(dropped, 2);
      assertSameObject(await storage.get('obj'), textObject('obj'));
      assert.deepStrictEqual(Array.from((await storage.getMeta('ring'))!), Array.from(encoder.encode('v2')));
      assert.deepStrictEqual(await storage.scanPartition(partition, undefined, 10), []);
    } finally {
      await t.cleanup();
    }
  });

  it('dropPartition quarantines a row whose key it could not delete by, and drops the rest', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const quarantined: QuarantinedRow[] = [];
      storage.onQuarantine((row) => quarantined.push(row));
      await Promise.all(['a', 'b'].map((k) => storage.update(k, partition, () => textObject(k))));
      // A BLOB key sorts after every TEXT one, so plant it where the drop's key scan meets it first: a NULL.
      execRaw(t.dir, `INSERT INTO objects (key, partition, object) VALUES (NULL, ${partition}, x'00')`);
      assert.equal(await storage.dropPartition(partition, 1), 1);
      assert.deepStrictEqual(quarantined.map((r) => [r.kind, r.key]), [['object', undefined]]);
      assert.equal(await storage.dropPartition(partition, 1), 1);
      assert.equal(await storage.dropPartition(partition, 1), 0);
    } finally {
      await t.cleanup();
    }
  });

  it('more concurrent hint writes than one batch holds all land and are counted', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const count = 2500; // > 2 * storageBatchMax
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          storage.updateHint(asNodeId(`n${i % 3}`), `k${i}`, partition, i, () => textObject(`k${i}`)),
        ),
      );
      const expected = { n0: 834, n1: 833, n2: 833 };
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), expected);
      const hints = await storage.listHints(asNodeId('n1'), count);
      assert.deepStrictEqual(hints.map((h) => h.key), Array.from({ length: 833 }, (_, j) => `k${3 * j + 1}`));
      const removed = await Promise.all(hints.map((h) => storage.removeHint(h.target, h.key, h.version)));
      assert.ok(removed.every(Boolean));
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n0: 834, n2: 833 });
      await storage.close();
      assert.deepStrictEqual(Object.fromEntries(t.open().hintCounts()), { n0: 834, n2: 833 });
    } finally {
      await t.cleanup();
    }
  });
});
