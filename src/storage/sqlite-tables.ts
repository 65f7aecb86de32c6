// The SQLite side of SqliteStorage: schema, prepared statements and the batch transaction.
// SqliteStorage owns staging and group commit; everything that speaks SQL is here.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteCacheKiB } from '../core/limits.js';
import type { NodeId } from '../core/types.js';
import { migrateFrom2 } from './sqlite-migrate.js';
import { TreeDelta, TreeTable, signed, treeSchema } from './sqlite-trees.js';

/** Schema 2 (no tree columns) is migrated on open; any other version is refused. */
export const schemaVersion = '3';

/** A hint row as staged or stored; `bytes` is an encoded VersionedObject. */
export interface HintRow {
  readonly partition: number;
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly createdAtMs: number;
}

/**
 * A row as read, before any check: a column may hold any SQLite value (NULL, a number, text, a
 * BLOB) whatever its declared type, if something other than this engine wrote it.
 */
export interface RawObjectRow {
  readonly rowid: number;
  readonly key: unknown;
  readonly partition: unknown;
  readonly bytes: unknown;
}

export interface RawHintRow extends RawObjectRow {
  readonly version: unknown;
  readonly createdAtMs: unknown;
}

/** A staged object write: the new row (its leaf and version hash with it), or bytes null to delete the key. */
export interface ObjectWrite {
  readonly partition: number;
  readonly bytes: Uint8Array | null;
  readonly leaf: number;
  readonly vhash: bigint;
}

/** What one transaction writes: for each key (or meta record name) the new row, or null to delete it. */
export interface BatchWrites {
  readonly objects: ReadonlyMap<string, ObjectWrite>;
  readonly hints: ReadonlyMap<NodeId, ReadonlyMap<string, { readonly next: HintRow | null }>>;
  readonly meta: ReadonlyMap<string, Uint8Array | null>;
}

/** A committed object's key as read by a key-only scan, unchecked (see RawObjectRow). */
export interface RawKeyRow {
  readonly rowid: number;
  readonly key: unknown;
}

// better-sqlite3 binds only Buffers as BLOBs; this is a view, not a copy.
const blob = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

// All TEXT columns use the default BINARY collation: keys compare as memcmp of their UTF-8 bytes,
// the order scanPartition promises (and MemoryStorage reproduces).
const schema = `
  -- Rowid tables, not WITHOUT ROWID: objects are often KiBs, and SQLite keeps rows of a
  -- WITHOUT ROWID table inside the key's b-tree, which is slow for rows that large.
  -- leaf and vhash: the row's anti-entropy tree leaf and version hash (sqlite-trees.ts).
  CREATE TABLE objects (key TEXT PRIMARY KEY, partition INTEGER NOT NULL, object BLOB NOT NULL, leaf INTEGER, vhash INTEGER);
  -- (partition, key): a partition scan is an ordered range read of this index.
  CREATE INDEX objects_by_partition ON objects (partition, key);
  CREATE TABLE hints (
    target TEXT NOT NULL, key TEXT NOT NULL, partition INTEGER NOT NULL, object BLOB NOT NULL,
    version INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (target, key)
  );
  -- listHints reads one target's hints oldest first.
  CREATE INDEX hints_oldest ON hints (target, created_at_ms, version);`;

// Added after schema 2 shipped; created on open when missing, so older version-2 directories get them too.
// The tombstone reaper asks whether any target holds a hint for a key.
const hintsByKeyIndex = 'CREATE INDEX IF NOT EXISTS hints_by_key ON hints (key)';
// Rows the engine could not serve, moved aside when first met and never deleted by kvorum (operators
// inspect them). Untyped columns keep each value exactly as it was stored, whatever its type.
const quarantineTable = `
  CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- 'object' or 'hint'
    target,                             -- hints: the node the hint was for; NULL for objects
    key, partition, object,             -- the row's columns as stored; object holds the raw bytes
    version, created_at_ms,             -- hints only
    reason TEXT NOT NULL,
    quarantined_at_ms INTEGER NOT NULL  -- wall clock, ms since the epoch
  )`;
// Storage.putMeta's records (the ring last seen, transfer cursors), opaque bytes by name. Not the
// `meta` table, which holds this file's own schema_version and incarnation: callers must not reach those.
const metaRecordsTable = 'CREATE TABLE IF NOT EXISTS meta_records (name TEXT PRIMARY KEY, bytes BLOB NOT NULL)';

/** `limit` as a SQL LIMIT: SQLite reads a negative one as "no limit" and refuses Infinity. */
export function pageSize(limit: number): number {
  return limit >= 1 ? Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER) : 0;
}

/** Opens (creating if needed) the database in `dir`; migrates schema 2, refuses any other version. */
export function openDatabase(dir: string, log: (message: string) => void): { db: Database.Database; incarnation: string } {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'kvorum.db'));
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash. `--sync full` (power loss too) keeps NORMAL and
    // fsyncs the WAL off the event loop before acknowledging (wal-sync.ts), instead of SQLite's FULL,
    // which fsyncs inside every commit on this thread.
    db.pragma('synchronous = NORMAL');
    // SQLite's default page cache is 2 MB: with millions of keys the indexes' upper levels fall out
    // of it and every point read becomes system calls into the OS cache.
    db.pragma(`cache_size = -${sqliteCacheKiB}`);
    const incarnation = db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)');
      const meta = db.prepare<[string], string>('SELECT value FROM meta WHERE name = ?').pluck();
      const version = meta.get('schema_version');
      if (version === '2') migrateFrom2(db, log);
      else if (version !== undefined && version !== schemaVersion) {
        throw new Error(`storage: unsupported schema_version ${version} in ${dir} (this build reads ${schemaVersion} and migrates 2)`);
      }
      let id = meta.get('incarnation');
      if (id === undefined) {
        // First open of an empty database: this directory's identity from now on.
        db.exec(schema);
        id = randomBytes(8).toString('hex');
        const set = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
        set.run('schema_version', schemaVersion);
        set.run('incarnation', id);
      }
      db.exec(treeSchema);
      db.exec(hintsByKeyIndex);
      db.exec(quarantineTable);
      db.exec(metaRecordsTable);
      return id;
    }).immediate();
    return { db, incarnation };
  } catch (err) {
    db.close();
    throw err;
  }
}

type ObjectColumns = [rowid: number, key: unknown, partition: unknown, bytes: unknown];
type HintColumns = [...ObjectColumns, version: unknown, createdAtMs: unknown];
const objectRow = ([rowid, key, partition, bytes]: ObjectColumns): RawObjectRow => ({ rowid, key, partition, bytes });
const hintRow = ([rowid, key, partition, bytes, version, createdAtMs]: HintColumns): RawHintRow => ({
  rowid,
  key,
  partition,
  bytes,
  version,
  createdAtMs,
});

/**
 * Moves one row of objects or hints into `quarantine` and deletes it, in one transaction. By rowid:
 * a row whose key is not text could not be named by key. An object row leaves its tree in the same
 * transaction.
 */
function quarantiner(db: Database.Database, kind: 'object' | 'hint', trees: TreeTable): (rowid: number, reason: string, atMs: number) => void {
  const table = kind === 'object' ? 'objects' : 'hints';
  const columns = kind === 'object' ? 'key, partition, object' : 'target, key, partition, object, version, created_at_ms';
  const move = db.prepare<[string, number, number]>(
    `INSERT INTO quarantine (kind, ${columns}, reason, quarantined_at_ms) SELECT '${kind}', ${columns}, ?, ? FROM ${table} WHERE rowid = ?`,
  );
  const drop = db.prepare<[number]>(`DELETE FROM ${table} WHERE rowid = ?`);
  const tx = db.transaction((rowid: number, reason: string, atMs: number) => {
    const delta = new TreeDelta();
    if (kind === 'object') delta.add(trees.ofRowid(rowid), -1);
    move.run(reason, atMs, rowid);
    drop.run(rowid);
    trees.persist(delta);
    return delta;
  });
  return (rowid, reason, atMs) => trees.apply(tx(rowid, reason, atMs));
}

/**
 * The transaction that applies one batch of staged writes, trees included; the trees' mirror moves
 * once it has committed.
 */
function committer(db: Database.Database, trees: TreeTable): (writes: BatchWrites) => void {
  const upsertObject = db.prepare<[string, number, Buffer, number, bigint]>(
    `INSERT INTO objects (key, partition, object, leaf, vhash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET partition = excluded.partition, object = excluded.object,
       leaf = excluded.leaf, vhash = excluded.vhash`,
  );
  const deleteObject = db.prepare<[string]>('DELETE FROM objects WHERE key = ?');
  const upsertHint = db.prepare<[string, string, number, Buffer, number, number]>(
    `INSERT INTO hints (target, key, partition, object, version, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (target, key) DO UPDATE SET partition = excluded.partition, object = excluded.object,
       version = excluded.version, created_at_ms = excluded.created_at_ms`,
  );
  const deleteHint = db.prepare<[string, string]>('DELETE FROM hints WHERE target = ? AND key = ?');
  const upsertMeta = db.prepare<[string, Buffer]>(
    'INSERT INTO meta_records (name, bytes) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET bytes = excluded.bytes',
  );
  const deleteMeta = db.prepare<[string]>('DELETE FROM meta_records WHERE name = ?');
  const tx = db.transaction((writes: BatchWrites) => {
    const delta = new TreeDelta();
    for (const [key, w] of writes.objects) {
      // Read in the transaction: exactly the row this write replaces, whatever happened since staging.
      delta.add(trees.ofKey(key), -1);
      if (w.bytes === null) deleteObject.run(key);
      else {
        upsertObject.run(key, w.partition, blob(w.bytes), w.leaf, signed(w.vhash));
        delta.add({ partition: w.partition, leaf: w.leaf, vhash: w.vhash }, +1);
      }
    }
    trees.persist(delta);
    for (const [target, staged] of writes.hints) {
      for (const [key, { next: h }] of staged) {
        if (h === null) deleteHint.run(target, key);
        else upsertHint.run(target, key, h.partition, blob(h.bytes), h.version, h.createdAtMs);
      }
    }
    for (const [name, bytes] of writes.meta) {
      if (bytes === null) deleteMeta.run(name);
      else upsertMeta.run(name, blob(bytes));
    }
    return delta;
  });
  return (writes) => trees.apply(tx(writes));
}

/** Prepared statements over an open database. Reads see committed rows only, unchecked. */
export class Tables {
  readonly object: (key: string) => RawObjectRow | undefined;
  readonly hint: (target: NodeId, key: string) => RawHintRow | undefined;
  /** Whether any target has a committed hint for the key. */
  readonly hasHint: (key: string) => boolean;
  readonly commit: (writes: BatchWrites) => void;
  /** The anti-entropy trees, persisted with the rows. */
  readonly trees: TreeTable;
  /** Moves the row into `quarantine` and deletes it, in one transaction. */
  readonly quarantineObject: (rowid: number, reason: string, atMs: number) => void;
  readonly quarantineHint: (rowid: number, reason: string, atMs: number) => void;
  private readonly scanFrom: Database.Statement<[number, number], ObjectColumns>;
  private readonly scanAfter: Database.Statement<[number, string, number], ObjectColumns>;
  private readonly rangeFrom: Database.Statement<[number, string, Buffer, number], ObjectColumns>;
  private readonly rangeAfter: Database.Statement<[number, string, Buffer, number], ObjectColumns>;
  private readonly hintsOf: Database.Statement<[string, number], HintColumns>;
  private readonly keysOf: Database.Statement<[number, number], [number, unknown]>;
  private readonly metaRecord: Database.Statement<[string], unknown>;

  constructor(private readonly db: Database.Database) {
    const object = db.prepare<[string], ObjectColumns>('SELECT rowid, key, partition, object FROM objects WHERE key = ?').raw();
    this.object = (key) => {
      const row = object.get(key);
      return row && objectRow(row);
    };
    const hint = db
      .prepare<[string, string], HintColumns>(
        'SELECT rowid, key, partition, object, version, created_at_ms FROM hints WHERE target = ? AND key = ?',
      )
      .raw();
    this.hint = (target, key) => {
      const row = hint.get(target, key);
      return row && hintRow(row);
    };
    const anyHint = db.prepare<[string], number>('SELECT 1 FROM hints WHERE key = ? LIMIT 1').pluck();
    this.hasHint = (key) => anyHint.get(key) !== undefined;
    this.scanFrom = db.prepare<[number, number], ObjectColumns>(
      'SELECT rowid, key, partition, object FROM objects WHERE partition = ? ORDER BY key LIMIT ?',
    ).raw();
    this.scanAfter = db.prepare<[number, string, number], ObjectColumns>(
      'SELECT rowid, key, partition, object FROM objects WHERE partition = ? AND key > ? ORDER BY key LIMIT ?',
    ).raw();
    // The upper bound is bytes that may not be UTF-8 (key-range.ts): bound as a BLOB, compared as TEXT.
    const range = (lower: '>=' | '>') =>
      db.prepare<[number, string, Buffer, number], ObjectColumns>(
        `SELECT rowid, key, partition, object FROM objects WHERE partition = ? AND key ${lower} ? AND key < CAST(? AS TEXT) ORDER BY key LIMIT ?`,
      ).raw();
    this.rangeFrom = range('>=');
    this.rangeAfter = range('>');
    this.hintsOf = db.prepare<[string, number], HintColumns>(
      `SELECT rowid, key, partition, object, version, created_at_ms FROM hints WHERE target = ?
       ORDER BY created_at_ms, version LIMIT ?`,
    ).raw();

    this.trees = new TreeTable(db);
    this.quarantineObject = quarantiner(db, 'object', this.trees);
    this.quarantineHint = quarantiner(db, 'hint', this.trees);

    this.commit = committer(db, this.trees);
    this.keysOf = db.prepare<[number, number], [number, unknown]>(
      'SELECT rowid, key FROM objects WHERE partition = ? ORDER BY key LIMIT ?',
    ).raw();
    this.metaRecord = db.prepare<[string], unknown>('SELECT bytes FROM meta_records WHERE name = ?').pluck();
  }

  /** Up to `limit` (> 0) committed objects of `partition` with key > afterKey, in key order. */
  scan(partition: number, afterKey: string | undefined, limit: number): RawObjectRow[] {
    return (afterKey === undefined ? this.scanFrom.all(partition, limit) : this.scanAfter.all(partition, afterKey, limit)).map(objectRow);
  }

  /**
   * Up to `limit` (> 0) committed objects of `partition` with `from` <= key (< when not `inclusive`)
   * and key < `upper` (raw bytes), in key order: a range read of the (partition, key) index.
   */
  range(partition: number, from: string, inclusive: boolean, upper: Buffer, limit: number): RawObjectRow[] {
    return (inclusive ? this.rangeFrom : this.rangeAfter).all(partition, from, upper, limit).map(objectRow);
  }

  /** Up to `limit` (> 0) committed keys of `partition`, in key order; reads the (partition, key) index only. */
  keys(partition: number, limit: number): RawKeyRow[] {
    return this.keysOf.all(partition, limit).map(([rowid, key]) => ({ rowid, key }));
  }

  /** The committed meta record `name`'s value, unchecked (a BLOB unless something else wrote it). */
  meta(name: string): unknown {
    return this.metaRecord.get(name);
  }

  /** Up to `limit` (> 0) committed hints for `target`, oldest first. */
  hints(target: NodeId, limit: number): RawHintRow[] {
    return this.hintsOf.all(target, limit).map(hintRow);
  }

  /** The highest hint version stored (0 if none): new versions continue above it. */
  maxHintVersion(): number {
    // Integers only: SQLite's max() ranks any text above every number, and a corrupt row's text
    // version would make every later version NaN.
    return this.db.prepare<[], number>(`SELECT coalesce(max(version), 0) FROM hints WHERE typeof(version) = 'integer'`).pluck().get() ?? 0;
  }

  /** Committed hints per target. */
  hintCounts(): Map<NodeId, number> {
    const rows = this.db.prepare<[], [NodeId, number]>('SELECT target, count(*) FROM hints GROUP BY target').raw().all();
    return new Map(rows);
  }
}
