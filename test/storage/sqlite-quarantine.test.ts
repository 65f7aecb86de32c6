// Rows SqliteStorage cannot serve (undecodable bytes, an invalid key or partition) are moved to the
// quarantine table when first met, reported once, and read as absent; everything else is untouched.
// The bad rows are written behind the engine's back, through a second connection, as corruption
// or a foreign writer would.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';
import type { CoreCounter } from '../../src/core/metrics.js';
import { createNodeCore } from '../../src/core/node-core.js';
import { unpackHashes, versionHash } from '../../src/core/merkle.js';
import { createRing, partitionOf } from '../../src/core/ring.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import type { Logger, QuarantinedRow } from '../../src/core/ports.js';
import { asNodeId, asPartitionId, type PartitionId } from '../../src/core/types.js';
import { encodeObject } from '../../src/storage/object-codec.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { FakeNetwork, SimTime, fastSettings } from '../unit/fakes.js';
import { assertSameObject, textObject } from './fixtures.js';

const partition = asPartitionId(3);
const target = asNodeId('n2');

const garbage = Buffer.from('definitely not msgpack \xff\xc1');
// The stored array form, except that a value's data is a string where bytes belong.
const stringData = Buffer.from(new Packr({ useRecords: false }).pack([2, [['a.1', 1]], [], [['a.1', 1, 'not bytes', 'text/plain']]]));
const good = (text: string) => Buffer.from(encodeObject(textObject(text)));
const overLongKey = 'x'.repeat(513);

/** A temp data dir; `open` opens the store on it and records every quarantine it reports. */
async function tempStore() {
  const dir = await mkdtemp(join(tmpdir(), 'kvorum-quarantine-'));
  const opened: SqliteStorage[] = [];
  const reported: QuarantinedRow[] = [];
  const open = (): SqliteStorage => {
    const s = SqliteStorage.open({ dir });
    s.onQuarantine((row) => reported.push(row));
    opened.push(s);
    return s;
  };
  const cleanup = async () => {
    for (const s of opened) await s.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, open, reported, cleanup };
}

/** Runs `fn` on a second connection to the store's database (the store itself may be open). */
function raw<T>(dir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dir, 'kvorum.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function plantObject(dir: string, key: unknown, partitionColumn: unknown, bytes: unknown): void {
  raw(dir, (db) => db.prepare('INSERT INTO objects (key, partition, object) VALUES (?, ?, ?)').run(key, partitionColumn, bytes));
}

function plantHint(dir: string, key: string, bytes: Buffer, version: unknown, createdAtMs: number): void {
  raw(dir, (db) =>
    db
      .prepare('INSERT INTO hints (target, key, partition, object, version, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)')
      .run(target, key, partition, bytes, version, createdAtMs),
  );
}

interface QuarantineRecord {
  kind: string;
  target: string | null;
  key: unknown;
  partition: unknown;
  object: unknown;
  version: unknown;
  created_at_ms: unknown;
  reason: string;
  quarantined_at_ms: number;
}

const quarantined = (dir: string): QuarantineRecord[] =>
  raw(dir, (db) => db.prepare<[], QuarantineRecord>('SELECT * FROM quarantine ORDER BY id').all());
const objectKeys = (dir: string): unknown[] => raw(dir, (db) => db.prepare('SELECT key FROM objects ORDER BY key').pluck().all());
const hintKeys = (dir: string): unknown[] => raw(dir, (db) => db.prepare('SELECT key FROM hints ORDER BY key').pluck().all());

/** Reads a whole partition the way the tree rebuild and the reaper do: a short page is the end. */
async function scanAll(storage: SqliteStorage, p: PartitionId, pageSize: number): Promise<{ keys: string[]; pages: number[] }> {
  const keys: string[] = [];
  const pages: number[] = [];
  for (let after: string | undefined; ; ) {
    const page = await storage.scanPartition(p, after, pageSize);
    pages.push(page.length);
    keys.push(...page.map((e) => e.key));
    if (page.length < pageSize) return { keys, pages };
    after = page.at(-1)!.key;
  }
}

describe('SqliteStorage quarantine', () => {
  it('get and update skip an undecodable object row, move it to quarantine once, and keep the rest', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      for (const key of ['a', 'b']) await first.update(key, partition, () => textObject(key));
      await first.close();
      plantObject(t.dir, 'garbage', partition, garbage);
      plantObject(t.dir, 'string-data', partition, stringData);

      const before = Date.now();
      const storage = t.open();
      assert.equal(await storage.get('garbage'), undefined);
      assert.equal(await storage.get('garbage'), undefined, 'still absent, and not reported again');
      let seen: unknown = 'not called';
      const written = await storage.update('string-data', partition, (current) => ((seen = current), textObject('rewritten')));
      assert.equal(seen, undefined, 'update saw no current object');
      assertSameObject(written, textObject('rewritten'));
      const after = Date.now();

      assert.deepStrictEqual(
        t.reported.map((r) => [r.kind, r.key]),
        [['object', 'garbage'], ['object', 'string-data']],
        'each bad row reported exactly once',
      );
      assert.match(t.reported[0]!.reason, /does not decode/);
      const records = quarantined(t.dir);
      assert.deepStrictEqual(records.map((r) => [r.kind, r.target, r.key, r.partition]), [
        ['object', null, 'garbage', partition],
        ['object', null, 'string-data', partition],
      ]);
      assert.deepStrictEqual(records[0]!.object, garbage, 'the raw bytes are kept');
      assert.deepStrictEqual(records[1]!.object, stringData);
      for (const r of records) {
        assert.match(r.reason, /does not decode/);
        assert.ok(r.quarantined_at_ms >= before && r.quarantined_at_ms <= after, `quarantined_at_ms ${r.quarantined_at_ms} is the wall clock`);
      }
      assert.deepStrictEqual(objectKeys(t.dir), ['a', 'b', 'string-data'], 'the bad rows left objects; the rewrite is a new row');
      assertSameObject(await storage.get('a'), textObject('a'));
      assertSameObject(await storage.get('string-data'), textObject('rewritten'));
    } finally {
      await t.cleanup();
    }
  });

  it('a scan skips bad rows anywhere in a page and still returns full pages of every good row', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      const goodKeys = Array.from({ length: 10 }, (_, i) => `k${i}`);
      for (const key of goodKeys) await first.update(key, partition, () => textObject(key));
      await first.update('other', asPartitionId(4), () => textObject('other'));
      await first.close();
      // Between good keys (k1 < k1x < k2), two in a row, at the end, and rows SQLite sorts
      // before (NULL) and after (BLOB) every text key.
      plantObject(t.dir, 'k1x', partition, garbage);
      plantObject(t.dir, 'k4x', partition, stringData);
      plantObject(t.dir, 'k4y', partition, garbage);
      plantObject(t.dir, 'k9x', partition, garbage);
      plantObject(t.dir, overLongKey, partition, good('long'));
      plantObject(t.dir, null, partition, good('null key'));
      plantObject(t.dir, Buffer.from('blob key'), partition, good('blob key'));

      const storage = t.open();
      const { keys, pages } = await scanAll(storage, partition, 3);
      assert.deepStrictEqual(keys, goodKeys, 'every good key, in order');
      assert.deepStrictEqual(pages, [3, 3, 3, 1], 'no page came back short before the end');
      assert.equal(t.reported.length, 7, 'every bad row reported once');
      assert.deepStrictEqual(
        t.reported.map((r) => r.key).sort(),
        [undefined, undefined, 'k1x', 'k4x', 'k4y', 'k9x', overLongKey].sort(),
      );
      const reasons = t.reported.map((r) => r.reason).join('\n');
      assert.match(reasons, /key is 513 bytes, not 1\.\.512/);
      assert.match(reasons, /key is NULL, not TEXT/);
      assert.match(reasons, /key is BLOB, not TEXT/);
      assert.deepStrictEqual(quarantined(t.dir).find((r) => r.kind === 'object' && Buffer.isBuffer(r.key))?.key, Buffer.from('blob key'), 'a BLOB key is kept as it was');
      assert.deepStrictEqual(objectKeys(t.dir), [...goodKeys, 'other'].sort());

      assert.deepStrictEqual((await scanAll(storage, partition, 3)).keys, goodKeys, 'a second scan finds the same keys');
      assert.equal(t.reported.length, 7, 'and reports nothing new');
      assertSameObject(await storage.get('other'), textObject('other'));
    } finally {
      await t.cleanup();
    }
  });

  it('a listing quarantines bad rows of its range, counts them as read, lists every good key', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      const goodKeys = ['k0', 'k1', 'k2', 'k3'];
      for (const key of goodKeys) await first.update(key, partition, () => textObject(key));
      await first.close();
      plantObject(t.dir, 'k0x', partition, garbage);
      plantObject(t.dir, 'k2x', partition, stringData);
      plantObject(t.dir, null, partition, good('null key'));
      plantObject(t.dir, Buffer.from('k blob'), partition, good('blob key'));
      const storage = t.open();
      const scan = (afterKey: string | undefined, rowsMax: number) => ({ prefix: 'k', afterKey, rowsMax, keysMax: 10, isLive: () => true });
      // k0, k0x (bad), k1: three rows read, two keys.
      assert.deepStrictEqual(await storage.listKeys(partition, scan(undefined, 3)), { keys: ['k0', 'k1'], next: 'k1' });
      assert.deepStrictEqual(t.reported.map((r) => r.key), ['k0x']);
      assert.deepStrictEqual(await storage.listKeys(partition, scan('k1', 10)), { keys: ['k2', 'k3'], next: undefined });
      assert.deepStrictEqual(t.reported.map((r) => r.key), ['k0x', 'k2x'], 'rows outside every TEXT range (NULL, BLOB keys) are never met');
      assert.deepStrictEqual(await storage.listKeys(partition, scan(undefined, 10)), { keys: goodKeys, next: undefined }, 'a second listing');
      assert.equal(t.reported.length, 2, 'reports nothing new');
      assert.deepStrictEqual(quarantined(t.dir).map((r) => r.key), ['k0x', 'k2x']);
    } finally {
      await t.cleanup();
    }
  });

  it('a scan page made only of bad rows reads on instead of ending the partition', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      await first.update('z', partition, () => textObject('z'));
      await first.close();
      for (const key of ['a', 'b', 'c', 'd']) plantObject(t.dir, key, partition, garbage);
      const storage = t.open();
      assert.deepStrictEqual((await storage.scanPartition(partition, undefined, 2)).map((e) => e.key), ['z']);
      assert.equal(t.reported.length, 4);
    } finally {
      await t.cleanup();
    }
  });

  it('an object row whose partition is not a partition number is quarantined when read', async () => {
    const t = await tempStore();
    try {
      await t.open().close();
      plantObject(t.dir, 'text-partition', 'three', good('x'));
      plantObject(t.dir, 'real-partition', 3.5, good('y'));
      const storage = t.open();
      assert.equal(await storage.get('text-partition'), undefined);
      assert.equal(await storage.get('real-partition'), undefined);
      assert.deepStrictEqual(t.reported.map((r) => r.reason), [
        'partition is TEXT three, not a partition number',
        'partition is REAL 3.5, not a partition number',
      ]);
      assert.deepStrictEqual(quarantined(t.dir).map((r) => r.partition), ['three', 3.5]);
      assert.deepStrictEqual(objectKeys(t.dir), []);
    } finally {
      await t.cleanup();
    }
  });

  it('listHints skips and quarantines bad hints, returns a full page and keeps counts right', async () => {
    const t = await tempStore();
    try {
      const first = t.open();
      for (const [i, key] of ['h1', 'h2', 'h3'].entries()) await first.updateHint(target, key, partition, 1000 + i, () => textObject(key));
      await first.close();
      // Older than every good hint, so they come first in the listing.
      plantHint(t.dir, 'bad-garbage', garbage, 900, 1);
      plantHint(t.dir, 'bad-string', stringData, 901, 2);
      plantHint(t.dir, 'bad-version', good('v'), 'nine hundred', 3);

      const storage = t.open();
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 6 }, 'counted as stored, before anyone read them');
      const listed = await storage.listHints(target, 2);
      assert.deepStrictEqual(listed.map((h) => h.key), ['h1', 'h2'], 'a full page of good hints, oldest first');
      assertSameObject(listed[0]!.object, textObject('h1'));
      assert.deepStrictEqual(
        t.reported.map((r) => [r.kind, r.target, r.key]),
        [['hint', 'n2', 'bad-garbage'], ['hint', 'n2', 'bad-string'], ['hint', 'n2', 'bad-version']],
      );
      assert.match(t.reported[2]!.reason, /version is TEXT, not an integer/);
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 3 });
      const records = quarantined(t.dir);
      assert.deepStrictEqual(records.map((r) => [r.kind, r.target, r.key, r.partition, r.version, r.created_at_ms]), [
        ['hint', 'n2', 'bad-garbage', partition, 900, 1],
        ['hint', 'n2', 'bad-string', partition, 901, 2],
        ['hint', 'n2', 'bad-version', partition, 'nine hundred', 3],
      ]);
      assert.deepStrictEqual(records[0]!.object, garbage);
      assert.deepStrictEqual(hintKeys(t.dir), ['h1', 'h2', 'h3']);
      assert.deepStrictEqual((await storage.listHints(target, 10)).map((h) => h.key), ['h1', 'h2', 'h3']);
      assert.equal(t.reported.length, 3, 'nothing reported twice');
      await storage.close();
      assert.deepStrictEqual(Object.fromEntries(t.open().hintCounts()), { n2: 3 }, 'counts match the disk');
    } finally {
      await t.cleanup();
    }
  });

  it('updateHint over a bad hint starts afresh, and the count stays right', async () => {
    const t = await tempStore();
    try {
      await t.open().close();
      plantHint(t.dir, 'k', stringData, 7, 5);
      const storage = t.open();
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 1 });
      let seen: unknown = 'not called';
      await storage.updateHint(target, 'k', partition, 2000, (current) => ((seen = current), textObject('fresh')));
      assert.equal(seen, undefined);
      assert.deepStrictEqual(t.reported.map((r) => [r.kind, r.key]), [['hint', 'k']]);
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 1 }, 'the bad hint left, the new one came');
      const [hint] = await storage.listHints(target, 10);
      assertSameObject(hint?.object, textObject('fresh'));
      assert.equal(hint?.createdAtMs, 2000, 'the new hint does not inherit the bad one\'s age');
      assert.ok(await storage.removeHint(target, 'k', hint!.version));
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), {});
      await storage.close();
      assert.deepStrictEqual(Object.fromEntries(t.open().hintCounts()), {});
    } finally {
      await t.cleanup();
    }
  });

  it('a hint quarantined under a staged write of the same hint keeps the counts right', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const first = storage.updateHint(target, 'k', partition, 1000, () => textObject('first'));
      const listing = storage.listHints(target, 10); // waits for the batch holding `first`
      let second: Promise<void> | undefined;
      // Runs once `first` is committed and before the listing reads: a new batch stages over the
      // (then valid) committed hint, and the row goes bad behind the engine's back.
      void first.then(() => {
        second = storage.updateHint(target, 'k', partition, 2000, () => textObject('second'));
        raw(t.dir, (db) => db.prepare('UPDATE hints SET object = ? WHERE key = ?').run(garbage, 'k'));
      });
      assert.deepStrictEqual((await listing).map((h) => h.key), [], 'the listing met the bad row while the second write was staged');
      await second;
      assert.deepStrictEqual(t.reported.map((r) => [r.kind, r.key]), [['hint', 'k']]);
      assert.deepStrictEqual(hintKeys(t.dir), ['k'], 'the staged write landed as a new row');
      assert.deepStrictEqual(Object.fromEntries(storage.hintCounts()), { n2: 1 });
      await storage.close();
      assert.deepStrictEqual(Object.fromEntries(t.open().hintCounts()), { n2: 1 });
    } finally {
      await t.cleanup();
    }
  });

  it('a version-2 database from before the quarantine table gets it on open', async () => {
    const t = await tempStore();
    try {
      await t.open().close();
      raw(t.dir, (db) => db.exec('DROP TABLE quarantine'));
      plantObject(t.dir, 'old', partition, garbage);
      const storage = t.open();
      assert.equal(await storage.get('old'), undefined);
      assert.deepStrictEqual(quarantined(t.dir).map((r) => r.key), ['old']);
    } finally {
      await t.cleanup();
    }
  });
});

describe('LocalReplica over SqliteStorage: a quarantine found at run time', () => {
  it('is logged, counted, and removes the key from the anti-entropy tree', async () => {
    const t = await tempStore();
    try {
      const storage = t.open();
      const self = asNodeId('n1');
      const ring = createRing([self], 16, 1);
      const counts = new Map<CoreCounter, number>();
      const errors: Array<{ fields: object; message: string }> = [];
      const log: Logger = { debug() {}, info() {}, warn() {}, error: (fields, message) => void errors.push({ fields, message }) };
      const time = new SimTime();
      const core = createNodeCore({
        self,
        runtime: time.runtime,
        transport: new FakeNetwork(time.runtime).transportFor(self),
        storage,
        initialRing: genesisOfIds([self], 16, 1),
        log,
        metrics: { inc: (c, by = 1) => void counts.set(c, (counts.get(c) ?? 0) + by) },
        settings: fastSettings,
      });
      const keyPartition = partitionOf(ring, 'doomed');
      const root = async () => {
        const reply = await core.antiEntropy.handle({ type: 'aeRoots', partitions: [keyPartition] });
        assert.ok(reply.type === 'hashes' && reply.absent === undefined);
        return unpackHashes(reply.hashes)[0];
      };
      await core.replica.update('doomed', () => textObject('doomed'));
      await core.replica.update('kept', () => textObject('kept'), keyPartition);
      await core.antiEntropy.takeUpTrees();
      const counted = await root();

      raw(t.dir, (db) => db.prepare('UPDATE objects SET object = ? WHERE key = ?').run(garbage, 'doomed'));
      assert.equal(await core.replica.get('doomed'), undefined);
      const afterQuarantine = await root();
      assert.notEqual(afterQuarantine, counted, 'the tree no longer counts the key');
      const kept = await core.replica.get('kept');
      assert.equal(afterQuarantine, versionHash('kept', kept!), 'the tree equals one built from what storage now holds');
      assert.equal(storage.tree(keyPartition).size, 1);
      // The persisted leaf hashes moved in the quarantine's transaction too: another connection reads them.
      assert.equal(t.open().tree(keyPartition).root(), afterQuarantine);
      assert.equal(counts.get('storage_quarantined_objects'), 1);
      assert.equal(counts.get('storage_quarantined_hints'), undefined);
      assert.equal(errors.length, 1);
      assert.deepStrictEqual(errors[0]!.fields, { kind: 'object', key: 'doomed', target: undefined, reason: t.reported[0]!.reason, failure: 'row_quarantined' });
      assert.match(errors[0]!.message, /quarantined/);
    } finally {
      await t.cleanup();
    }
  });
});
