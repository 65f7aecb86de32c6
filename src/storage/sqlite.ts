// Durable Storage on SQLite (WAL). Writes are group-committed: every update staged during one
// turn of the event loop goes into a single transaction, so one commit pays for many writes.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Storage } from '../core/runtime.js';
import type { PartitionId, VersionedObject } from '../core/types.js';
import { decodeObject, encodeObject } from './object-codec.js';

/** Staged writes above this are flushed at once: bounds transaction size and memory under load. */
const storageBatchMax = 1024;
const schemaVersion = '1';

/** Writes staged since the last commit; `committed` settles when their transaction does. */
interface Batch {
  readonly writes: Map<string, { partition: number; bytes: Uint8Array }>;
  readonly committed: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

export class SqliteStorage implements Storage {
  private batch: Batch | undefined;
  private closed = false;
  private readonly selectObject: Database.Statement<[string], Buffer>;
  private readonly writeAll: (writes: Batch['writes']) => void;

  private constructor(
    private readonly db: Database.Database,
    readonly incarnation: string,
  ) {
    this.selectObject = db.prepare<[string], Buffer>('SELECT object FROM objects WHERE key = ?').pluck();
    const upsert = db.prepare<[string, number, Buffer]>(
      `INSERT INTO objects (key, partition, object) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET partition = excluded.partition, object = excluded.object`,
    );
    this.writeAll = db.transaction((writes: Batch['writes']) => {
      for (const [key, w] of writes) {
        // better-sqlite3 binds only Buffers as BLOBs; this is a view, not a copy.
        upsert.run(key, w.partition, Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength));
      }
    });
  }

  static open(opts: { dir: string; sync?: 'normal' | 'full' }): SqliteStorage {
    mkdirSync(opts.dir, { recursive: true });
    const db = new Database(join(opts.dir, 'kvorum.db'));
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a process crash; FULL also survives power loss.
      db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
      const incarnation = db.transaction(() => {
        db.exec(`
          CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
          -- A rowid table, not WITHOUT ROWID: objects are often KiBs, and SQLite keeps rows of a
          -- WITHOUT ROWID table inside the key's b-tree, which is slow for rows that large.
          CREATE TABLE IF NOT EXISTS objects (
            key TEXT PRIMARY KEY, partition INTEGER NOT NULL, object BLOB NOT NULL
          );
          CREATE INDEX IF NOT EXISTS objects_partition ON objects (partition);`);
        const meta = db.prepare<[string], string>('SELECT value FROM meta WHERE name = ?').pluck();
        const version = meta.get('schema_version');
        if (version !== undefined && version !== schemaVersion) {
          throw new Error(`storage: unsupported schema_version ${version} in ${opts.dir}`);
        }
        let id = meta.get('incarnation');
        if (id === undefined) {
          // First open of an empty database: this directory's identity from now on.
          id = randomBytes(8).toString('hex');
          const set = db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)');
          set.run('schema_version', schemaVersion);
          set.run('incarnation', id);
        }
        return id;
      }).immediate();
      return new SqliteStorage(db, incarnation);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Waits while `key` has a staged write, so a read never returns data whose commit may still
   * fail; it still sees this node's own writes, as soon as they are durable.
   */
  async get(key: string): Promise<VersionedObject | undefined> {
    while (this.batch?.writes.has(key)) await this.batch.committed.catch(() => {});
    return this.read(key);
  }

  /** Resolves with the object now stored under `key` (undefined if none), once it is durable. */
  update(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | undefined,
  ): Promise<VersionedObject | undefined> {
    try {
      // Flush before reading: if that commit fails, `current` must not come from its writes.
      if ((this.batch?.writes.size ?? 0) >= storageBatchMax) this.flush();
      // Read, change and stage in one synchronous step: no other update of the key interleaves.
      const current = this.read(key);
      const next = change(current);
      const batch = this.batch;
      if (next === undefined) {
        // A no-op on a staged value must still not be acknowledged before that value is durable.
        return batch?.writes.has(key) ? batch.committed.then(() => current) : Promise.resolve(current);
      }
      const bytes = encodeObject(next);
      const open = this.stage();
      open.writes.set(key, { partition, bytes });
      return open.committed.then(() => next);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Commits staged writes, then closes. Later get/update calls reject; closing again is a no-op. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  /** The current object: the staged write if there is one, else the committed row. */
  private read(key: string): VersionedObject | undefined {
    if (this.closed) throw new Error('storage: closed');
    const staged = this.batch?.writes.get(key);
    const bytes = staged?.bytes ?? this.selectObject.get(key);
    return bytes === undefined ? undefined : decodeObject(bytes);
  }

  /** The open batch, creating it (and scheduling its commit) if needed. */
  private stage(): Batch {
    if (this.batch) return this.batch;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const committed = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    committed.catch(() => {}); // failures reach each update's own promise; avoid an unhandled twin
    const batch: Batch = { writes: new Map(), committed, resolve, reject };
    this.batch = batch;
    // setImmediate runs after pending I/O callbacks, so a burst of requests shares one commit.
    setImmediate(() => this.batch === batch && this.flush());
    return batch;
  }

  /** Commits the open batch in one transaction. On failure its writes are dropped, not retried. */
  private flush(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    try {
      this.writeAll(batch.writes);
    } catch (err) {
      batch.reject(err);
      return;
    }
    batch.resolve();
  }
}
