// Durable Storage on SQLite (WAL). Writes are group-committed: every object and hint write staged
// during one turn of the event loop goes into a single transaction, so one commit pays for many
// writes, and an `update` and an `updateHint` issued together land (or fail) together.
// A committed row that cannot be served (undecodable, or a key or partition no write of ours could
// have stored) is quarantined when first read: moved aside, reported, and treated as absent.
import type Database from 'better-sqlite3';
import { leafOf, versionHash, type TreeView } from '../core/merkle.js';
import type { HintEntry, KeyScan, KeyScanPage, QuarantinedRow, Storage, StoredEntry } from '../core/ports.js';
import type { NodeId, PartitionId, VersionedObject } from '../core/types.js';
import { checkLeaf, checkMetaBytes, checkMetaName, dropLimit } from './checks.js';
import { Checkpointer, type CheckpointerEvents } from './checkpointer.js';
import { listKeyRange, prefixUpperBound } from './key-range.js';
import { decodeObject, encodeObject } from './object-codec.js';
import { checkHintRow, checkKey, checkObjectRow, sqlType } from './sqlite-rows.js';
import { countCommittedHints, firstKeysWithStaged, moveHintCount, stageHintIn, type Batch, type StagedHint } from './sqlite-batch.js';
import { GroupCommit } from './sqlite-commits.js';
import { openDatabase, pageSize, Tables, type HintRow, type RawHintRow, type RawObjectRow } from './sqlite-tables.js';
import { WalSync } from './wal-sync.js';
import { OnlineCopy } from './sqlite-backup.js';

export class SqliteStorage implements Storage {
  private closed = false;
  private readonly tables: Tables;
  /** Last hint version handed out; versions only ever grow (restarting above the stored maximum). */
  private hintVersion: number;
  /** Committed hints per target: changed only after a batch commits (or a quarantine), so a failed one leaves it right. */
  private readonly counts: Map<NodeId, number>;
  private readonly quarantineListeners: Array<(row: QuarantinedRow) => void> = [];
  private checkpointer: Checkpointer | undefined;
  private readonly commits: GroupCommit;
  /** The online backup being copied, if any: close() stops it and waits for it. */
  private readonly copy = new OnlineCopy();

  private constructor(
    private readonly db: Database.Database,
    readonly incarnation: string,
    walSync: WalSync | undefined,
  ) {
    this.tables = new Tables(db);
    this.hintVersion = this.tables.maxHintVersion();
    this.counts = this.tables.hintCounts();
    const commit = (batch: Batch) => {
      this.tables.commit(batch);
      countCommittedHints(this.counts, batch);
    };
    this.commits = new GroupCommit(commit, () => this.checkpointer?.restartLongWal(), walSync);
  }

  /**
   * `log` hears about a one-time schema migration (slow: it hashes every object). With
   * `checkpoints`, WAL checkpoints run on a worker thread (checkpointer.ts), not inside commits on
   * this thread; its problems go to `onProblem`. A node opens its store so; tests mostly do not.
   * `sync: 'full'`: a write resolves once it is on disk (fsynced), not only committed.
   */
  static open(opts: { dir: string; sync?: 'normal' | 'full'; log?: (message: string) => void; checkpoints?: CheckpointerEvents }): SqliteStorage {
    const { db, incarnation } = openDatabase(opts.dir, opts.log ?? (() => {}));
    try {
      const storage = new SqliteStorage(db, incarnation, opts.sync === 'full' ? WalSync.open(`${db.name}-wal`) : undefined);
      if (opts.checkpoints) storage.checkpointer = Checkpointer.start(db, db.name, opts.checkpoints);
      return storage;
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
    await this.commits.unstaged(key);
    return this.read(key);
  }

  /** Resolves with the object now stored under `key` (undefined if none), once it is durable. */
  update(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
  ): Promise<VersionedObject | undefined> {
    try {
      this.commits.makeRoom();
      // Read, change and stage in one synchronous step: no other update of the key interleaves.
      const current = this.read(key);
      const next = change(current);
      if (next === undefined || (next === null && current === undefined)) {
        // A no-op on a staged write must still not be acknowledged before that write is durable.
        const batch = this.commits.staged;
        return batch?.objects.has(key) ? batch.committed.then(() => current) : Promise.resolve(current);
      }
      const open = this.commits.stage();
      // The version's tree contribution, hashed once here and kept with the row.
      const write = next === null ? { partition, bytes: null, leaf: 0, vhash: 0n } : { partition, bytes: encodeObject(next), leaf: leafOf(key), vhash: versionHash(key, next) };
      open.objects.set(key, write);
      return open.committed.then(() => next ?? undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Committed objects only, never a staged write (like `get`). First waits for the batch open at
   * the call, so it sees every write issued before it (unless that write's commit failed).
   */
  async scanPartition(partition: PartitionId, afterKey: string | undefined, limit: number): Promise<StoredEntry[]> {
    const batch = this.commits.staged;
    if (batch && batch.objects.size > 0) await batch.committed.catch(() => {});
    this.checkOpen();
    const n = pageSize(limit);
    const page: StoredEntry[] = [];
    // Callers take a short page for the partition's end, so rows quarantined on the way are
    // replaced by reading on. Bounded: every extra read follows at least one row moved out.
    for (let after = afterKey; page.length < n; after = page.at(-1)?.key ?? afterKey) {
      const asked = n - page.length;
      const rows = this.tables.scan(partition, after, asked);
      let skipped = 0;
      for (const row of rows) {
        const entry = this.objectOf(row);
        if (entry) page.push(entry);
        else skipped++;
      }
      if (skipped === 0 || rows.length < asked) break;
    }
    return page;
  }

  /**
   * Committed objects only; waits for the batch open at the call first, as scanPartition does. A
   * row that cannot be served is quarantined and counts as read.
   */
  async listKeys(partition: PartitionId, scan: KeyScan): Promise<KeyScanPage> {
    const batch = this.commits.staged;
    if (batch && batch.objects.size > 0) await batch.committed.catch(() => {});
    this.checkOpen();
    const upper = prefixUpperBound(scan.prefix);
    const read = (from: string, inclusive: boolean, limit: number) => this.tables.range(partition, from, inclusive, upper, limit);
    // Rows of the range have TEXT keys: any other type sorts outside every TEXT bound.
    return listKeyRange(scan, read, (row) => String(row.key), (row) => this.objectOf(row));
  }

  /** Merges into the hint for (target, key) atomically, like `update`; resolves once durable. */
  updateHint(
    target: NodeId,
    key: string,
    partition: PartitionId,
    createdAtMs: number,
    change: (current: VersionedObject | undefined) => VersionedObject,
  ): Promise<void> {
    try {
      this.commits.makeRoom();
      const { current, staged } = this.readHint(target, key);
      const bytes = encodeObject(change(current?.object));
      // A merge keeps the hint's age, so hints cannot be kept alive forever by new writes.
      const next = { partition, bytes, version: ++this.hintVersion, createdAtMs: current?.createdAtMs ?? createdAtMs };
      return this.stageHint(target, key, staged ?? { existed: current !== undefined, next }, next).committed;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Committed hints only; waits for the open batch first, as scanPartition does. */
  async listHints(target: NodeId, limit: number): Promise<HintEntry[]> {
    const batch = this.commits.staged;
    if (batch && batch.hintWrites > 0) await batch.committed.catch(() => {});
    this.checkOpen();
    const n = pageSize(limit);
    // As in scanPartition, a page is never short because rows were quarantined (and the
    // listing has no cursor: moved-out rows are simply not met again).
    for (;;) {
      const rows = n === 0 ? [] : this.tables.hints(target, n);
      const page: HintEntry[] = [];
      for (const row of rows) {
        const hint = this.hintOf(target, row);
        if (!hint) continue;
        const { key, partition, object, version, createdAtMs } = hint;
        page.push({ target, key, partition: partition as PartitionId, object, version, createdAtMs });
      }
      if (page.length === rows.length || rows.length < n) return page;
    }
  }

  /** Stages the removal if the hint (staged or committed) is still at `version`; durable on resolve. */
  removeHint(target: NodeId, key: string, version: number): Promise<boolean> {
    try {
      this.commits.makeRoom();
      const { current, staged } = this.readHint(target, key);
      if (current?.version !== version) {
        // The answer rests on a staged write: give it only once that write is durable.
        const batch = this.commits.staged;
        return staged ? batch!.committed.then(() => false) : Promise.resolve(false);
      }
      return this.stageHint(target, key, staged ?? { existed: true, next: null }, null).committed.then(() => true);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Committed or staged; a staged removal still answers true until it commits (the safe side). */
  async hasHint(key: string): Promise<boolean> {
    this.checkOpen();
    for (const staged of this.commits.staged?.hints.values() ?? []) if (staged.get(key)?.next) return true;
    return this.tables.hasHint(key);
  }

  /** A snapshot of committed counts: callers may keep iterating it while hints come and go. */
  hintCounts(): ReadonlyMap<NodeId, number> {
    return new Map(this.counts);
  }

  onQuarantine(listener: (row: QuarantinedRow) => void): void {
    this.quarantineListeners.push(listener);
  }

  /**
   * Waits while `name` has a staged write, as `get` does for keys. Returns a copy, not the Buffer
   * better-sqlite3 made: callers compare and keep plain Uint8Arrays.
   */
  async getMeta(name: string): Promise<Uint8Array | undefined> {
    checkMetaName(name);
    while (this.commits.staged?.meta.has(name)) await this.commits.staged.committed.catch(() => {});
    this.checkOpen();
    const bytes = this.tables.meta(name);
    if (bytes === undefined) return undefined;
    if (!(bytes instanceof Uint8Array)) throw new Error(`storage: meta record ${JSON.stringify(name)} is ${sqlType(bytes)}, not a BLOB`);
    return new Uint8Array(bytes);
  }

  /** Staged with the turn's other writes; a copy is staged, so the caller may reuse its buffer. */
  putMeta(name: string, bytes: Uint8Array | undefined): Promise<void> {
    try {
      checkMetaName(name);
      checkMetaBytes(bytes);
      this.checkOpen();
      this.commits.makeRoom();
      const open = this.commits.stage();
      open.meta.set(name, bytes === undefined ? null : new Uint8Array(bytes));
      return open.committed;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Stages deletes of the partition's first keys as they stand at the call (staged writes
   * included), so it is ordered with `update` exactly as updates are among themselves. At most a
   * batch's worth (dropLimit): a drop is never a transaction much larger than any other.
   */
  dropPartition(partition: PartitionId, limit: number): Promise<number> {
    try {
      const n = dropLimit(limit);
      this.commits.makeRoom(n);
      const keys = this.firstKeys(partition, n);
      if (keys.length === 0) {
        // "Empty" may rest on staged writes (deletes, moves): answer once they are durable.
        const batch = this.commits.staged;
        return batch && batch.objects.size > 0 ? batch.committed.then(() => 0) : Promise.resolve(0);
      }
      const open = this.commits.stage();
      for (const key of keys) open.objects.set(key, { partition, bytes: null, leaf: 0, vhash: 0n });
      return open.committed.then(() => keys.length);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Committed rows only: the mirror moves when a transaction commits. */
  tree(partition: PartitionId): TreeView {
    return this.tables.trees.tree(partition);
  }

  /** Committed rows only, read from the (partition, leaf, key, vhash) index without waiting for a staged batch. */
  async leafKeys(partition: PartitionId, leaf: number): Promise<Array<[string, bigint]>> {
    checkLeaf(leaf);
    this.checkOpen();
    return this.tables.trees.leafKeys(partition, leaf);
  }

  /** Waits for a staged write of `key` as get does, then reads the tree index only (never the row). */
  async versionHashOf(key: string, partition: PartitionId): Promise<bigint | undefined> {
    await this.commits.unstaged(key);
    this.checkOpen();
    return this.tables.trees.hashOf(key, partition);
  }

  /** The database file's size: pages times page size. */
  sizeBytes(): number {
    this.checkOpen();
    return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /**
   * Copies the database online to `path` (sqlite-backup.ts), one copy at a time; writes go on
   * meanwhile and the copy holds every write committed before its last step. `signal`, or close(),
   * stops it (the promise then rejects and `path` may hold a partial copy).
   */
  async backup(path: string, signal: AbortSignal): Promise<{ pages: number }> {
    this.checkOpen();
    return this.copy.run(this.db, path, signal);
  }

  /** Commits staged writes, then closes. Later calls reject; closing again is a no-op. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.copy.stop();
    await this.commits.close();
    // The worker's connection closes first: the last one to close checkpoints the WAL away.
    await this.checkpointer?.stop();
    this.db.close();
  }

  /** The current object: the staged write if there is one, else the committed row. */
  private read(key: string): VersionedObject | undefined {
    this.checkOpen();
    const staged = this.commits.staged?.objects.get(key);
    if (staged) return staged.bytes ? decodeObject(staged.bytes) : undefined;
    const row = this.tables.object(key);
    return row && this.objectOf(row)?.object;
  }

  /** The first `n` keys of `partition` in key order: staged writes applied over the committed rows. */
  private firstKeys(partition: PartitionId, n: number): string[] {
    this.checkOpen();
    return firstKeysWithStaged(this.commits.staged?.objects ?? new Map(), partition, n, (limit) => this.committedKeys(partition, limit));
  }

  /**
   * Up to `limit` committed keys of `partition`, in key order. A row whose key no write of ours
   * could have stored is quarantined (it could not be deleted by key) and read past, as in scans.
   */
  private committedKeys(partition: PartitionId, limit: number): string[] {
    for (;;) {
      const rows = this.tables.keys(partition, limit);
      const keys: string[] = [];
      for (const row of rows) {
        const checked = checkKey(row.key);
        if (checked.ok) keys.push(checked.value);
        else this.quarantineObject(row.rowid, row.key, checked.reason);
      }
      // Quarantined rows are gone from the table: reading again from the start meets new ones.
      if (keys.length === rows.length || rows.length < limit) return keys;
    }
  }

  /** The current hint (staged if there is a staged write, else committed) and that staged write. */
  private readHint(
    target: NodeId,
    key: string,
  ): { current: (HintRow & { object: VersionedObject }) | undefined; staged: StagedHint | undefined } {
    this.checkOpen();
    const staged = this.commits.staged?.hints.get(target)?.get(key);
    if (staged) return { current: staged.next ? { ...staged.next, object: decodeObject(staged.next.bytes) } : undefined, staged };
    const row = this.tables.hint(target, key);
    return { current: row && this.hintOf(target, row), staged };
  }

  /** A committed object row as an entry, or undefined once it has been quarantined. */
  private objectOf(row: RawObjectRow): StoredEntry | undefined {
    const checked = checkObjectRow(row);
    if (checked.ok) return { key: checked.value.key, object: checked.value.object };
    this.quarantineObject(row.rowid, row.key, checked.reason);
    return undefined;
  }

  private quarantineObject(rowid: number, key: unknown, reason: string): void {
    this.tables.quarantineObject(rowid, reason, Date.now());
    this.reportQuarantine({ kind: 'object', key: typeof key === 'string' ? key : undefined, reason });
  }

  /** A committed hint row of `target`, decoded, or undefined once it has been quarantined. */
  private hintOf(target: NodeId, row: RawHintRow): (HintRow & { key: string; object: VersionedObject }) | undefined {
    const checked = checkHintRow(row);
    if (checked.ok) return { ...checked.value.hint, key: checked.value.key, object: checked.value.object };
    this.tables.quarantineHint(row.rowid, checked.reason, Date.now());
    const key = typeof row.key === 'string' ? row.key : undefined;
    // The committed row is gone: the count drops now, and a write staged over it will add, not replace.
    moveHintCount(this.counts, target, -1);
    const staged = key === undefined ? undefined : this.commits.staged?.hints.get(target)?.get(key);
    if (staged) staged.existed = false;
    this.reportQuarantine({ kind: 'hint', key, target, reason: checked.reason });
    return undefined;
  }

  private reportQuarantine(row: QuarantinedRow): void {
    for (const listener of this.quarantineListeners) listener(row);
  }

  private stageHint(target: NodeId, key: string, entry: StagedHint, next: HintRow | null): Batch {
    const open = this.commits.stage();
    stageHintIn(open, target, key, entry, next);
    return open;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('storage: closed');
  }
}
