// The rows of the floor bench's SQLite phase and the two ways it writes them: kvorum's object write
// (its schema, from openDatabase itself, and the statements of sqlite-tables.ts's committer and
// sqlite-trees.ts's TreeTable, copied verbatim: keep them in step) and the smallest possible
// table. Rows are made before anything is timed: the timed part is SQLite's work only.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { update } from '../../src/core/dvv.js';
import { dotCountersPerMs, partitionsDefault, sqliteCacheKiB } from '../../src/core/limits.js';
import { leafOf, merkleLeaves, versionHash } from '../../src/core/merkle.js';
import { keyHash32 } from '../../src/core/ring.js';
import { actorIdOf, asNodeId } from '../../src/core/types.js';
import { encodeObject } from '../../src/storage/object-codec.js';
import { openDatabase } from '../../src/storage/sqlite-tables.js';
import { signed } from '../../src/storage/sqlite-trees.js';
import { valueFor } from './common.js';
import type { SqliteSchema } from './floor-common.js';

/** One object row as a replica stores it after a PUT of a new key. */
export interface FloorRow {
  readonly key: string;
  readonly partition: number;
  readonly leaf: number;
  readonly vhash: bigint;
  readonly object: Buffer;
}

/** Writes rows[from..to) in one transaction. */
export interface RowWriter {
  write(rows: readonly FloorRow[], from: number, to: number): void;
  /** Copies the WAL into the database and empties it (between the preload and the timed part). */
  checkpoint(): void;
  close(): void;
}

/** Rows of keys `key-0`..`key-(count-1)`: the object a first PUT of a `valueBytes` value leaves (application/octet-stream). */
export function makeRows(count: number, valueBytes: number): FloorRow[] {
  const actor = actorIdOf(asNodeId('n1'), 'f100rbe4c0000000');
  const bits = Math.log2(partitionsDefault);
  const rows: FloorRow[] = [];
  for (let i = 0; i < count; i++) {
    const key = `key-${i}`;
    const value = { kind: 'value' as const, data: new Uint8Array(valueFor(key, valueBytes)), contentType: 'application/octet-stream' };
    const { object } = update(undefined, undefined, actor, value, Date.now() * dotCountersPerMs);
    const bytes = encodeObject(object);
    rows.push({ key, partition: keyHash32(key) >>> (32 - bits), leaf: leafOf(key), vhash: versionHash(key, object), object: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  }
  return rows;
}

export function openWriter(schema: SqliteSchema, dir: string): RowWriter {
  return schema === 'kvorum' ? kvorumWriter(dir) : minimalWriter(dir);
}

const closer = (db: Database.Database) => ({
  checkpoint: () => void db.pragma('wal_checkpoint(TRUNCATE)'),
  close: () => db.close(),
});

/**
 * kvorum's object write of a new version, per row: the replaced row's (partition, leaf, vhash)
 * (what the tree loses), the object upsert, the upsert of its leaf's hash and count. kvorum writes
 * each touched leaf once per batch; with 64 x 256 leaves a batch of <= 64 new keys touches as many
 * leaves as rows but for a rare collision.
 */
function kvorumWriter(dir: string): RowWriter {
  const { db } = openDatabase(dir, () => {});
  const byKey = db.prepare<[string], [unknown, unknown, unknown]>('SELECT partition, leaf, vhash FROM objects WHERE key = ?').raw().safeIntegers();
  const upsertObject = db.prepare<[string, number, Buffer, number, bigint]>(
    `INSERT INTO objects (key, partition, object, leaf, vhash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET partition = excluded.partition, object = excluded.object,
       leaf = excluded.leaf, vhash = excluded.vhash`,
  );
  const upsertLeaf = db.prepare<[number, number, bigint, number]>(
    `INSERT INTO leaf_hashes (partition, leaf, hash, keys) VALUES (?, ?, ?, ?)
     ON CONFLICT (partition, leaf) DO UPDATE SET hash = excluded.hash, keys = excluded.keys`,
  );
  // The in-memory mirror of leaf_hashes (TreeTable's LeafTrees), by partition x merkleLeaves + leaf.
  const leaves = new Map<number, { hash: bigint; keys: number }>();
  const tx = db.transaction((rows: readonly FloorRow[], from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = rows[i]!;
      if (byKey.get(r.key) !== undefined) throw new Error(`floor-sqlite: ${r.key} is not a new key`);
      upsertObject.run(r.key, r.partition, r.object, r.leaf, signed(r.vhash));
      const id = r.partition * merkleLeaves + r.leaf;
      const was = leaves.get(id) ?? { hash: 0n, keys: 0 };
      const now = { hash: was.hash ^ r.vhash, keys: was.keys + 1 };
      upsertLeaf.run(r.partition, r.leaf, signed(now.hash), now.keys);
      leaves.set(id, now);
    }
  });
  return { write: (rows, from, to) => tx(rows, from, to), ...closer(db) };
}

/** The floor of "a row in SQLite": one table, its primary key, nothing else; same pragmas as kvorum. */
function minimalWriter(dir: string): RowWriter {
  const db = new Database(join(dir, 'minimal.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`cache_size = -${sqliteCacheKiB}`);
  db.exec('CREATE TABLE objects (key TEXT PRIMARY KEY, object BLOB)');
  const upsert = db.prepare<[string, Buffer]>('INSERT INTO objects (key, object) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET object = excluded.object');
  const tx = db.transaction((rows: readonly FloorRow[], from: number, to: number) => {
    for (let i = from; i < to; i++) upsert.run(rows[i]!.key, rows[i]!.object);
  });
  return { write: (rows, from, to) => tx(rows, from, to), ...closer(db) };
}
