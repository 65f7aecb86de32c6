// Storage with crash semantics. `disk` (a MemoryStorage) is what survives a crash; this wrapper
// is one process's view of it. As in SqliteStorage, writes are staged and group-committed: every
// write staged before the commit event lands in one batch, and a write's promise resolves only
// once its batch is committed. A crash drops the staged batch (its promises never settle) and
// keeps everything committed. Reads never see a staged write (they wait for its commit), like the
// SQLite engine. Staged operations run against the disk at commit, in staging order: no other
// write can come between, so this is the same atomic read-modify-write the engines promise.
// Meta records and partition drops are staged the same way (a drop is ordered with the updates
// around it because it runs in staging order too).
import type { TreeView } from '../../src/core/merkle.js';
import type { HintEntry, KeyScan, KeyScanPage, Storage, StoredEntry } from '../../src/core/ports.js';
import type { NodeId, PartitionId, VersionedObject } from '../../src/core/types.js';
import { checkMetaBytes, checkMetaName, dropLimit } from '../../src/storage/checks.js';
import type { MemoryStorage } from '../../src/storage/memory.js';
import type { EventOwner } from './queue.js';
import type { World } from './world.js';

interface Batch {
  /** Applied to the disk at commit, in order. */
  readonly ops: (() => void)[];
  /** Writes acknowledged before commit (the ack-before-commit mutation only), with what they replaced. */
  readonly undo: { readonly key: string; readonly partition: PartitionId; readonly before: VersionedObject | undefined }[];
  readonly keys: Set<string>;
  /** Names of meta records written. */
  readonly meta: Set<string>;
  /** Partition drops staged: they change keys not known until they run. */
  drops: number;
  hintWrites: number;
  readonly committed: Promise<void>;
  resolve(): void;
}

export interface SimStorageOptions {
  /** Simulated delay from the first staged write to the commit of its batch. */
  readonly commitDelayMs: () => number;
  /** Mutation: object writes are applied and acknowledged at once, made durable only at commit. */
  readonly ackBeforeCommit: boolean;
  /** Told of every object the core removes (the reaper): the durability check excuses what it superseded. */
  readonly onRemoved?: (key: string, removed: VersionedObject) => void;
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export class SimStorage implements Storage {
  readonly incarnation: string;
  private batch: Batch | undefined;
  private dead = false;
  private closed = false;
  commits = 0;

  constructor(
    private readonly world: World,
    private readonly owner: EventOwner,
    readonly disk: MemoryStorage,
    private readonly opts: SimStorageOptions,
  ) {
    this.incarnation = disk.incarnation;
  }

  async get(key: string): Promise<VersionedObject | undefined> {
    while (this.batch?.keys.has(key) || this.batch?.drops) await this.batch.committed;
    return this.alive(() => this.disk.get(key));
  }

  async versionHashOf(key: string, partition: PartitionId): Promise<bigint | undefined> {
    while (this.batch?.keys.has(key) || this.batch?.drops) await this.batch.committed;
    return this.alive(() => this.disk.versionHashOf(key, partition));
  }

  update(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
  ): Promise<VersionedObject | undefined> {
    if (this.closed) return Promise.reject(new Error('storage: closed'));
    if (this.dead) return never();
    const onRemoved = this.opts.onRemoved;
    const changed = onRemoved === undefined ? change : (current: VersionedObject | undefined) => {
      const next = change(current);
      if (next === null && current !== undefined) onRemoved(key, current);
      return next;
    };
    if (this.opts.ackBeforeCommit) return this.updateUnsafely(key, partition, changed);
    const batch = this.open();
    batch.keys.add(key);
    return this.stage(batch, () => this.disk.update(key, partition, changed));
  }

  async scanPartition(partition: PartitionId, afterKey: string | undefined, limit: number): Promise<StoredEntry[]> {
    const batch = this.batch;
    if (batch && (batch.keys.size > 0 || batch.drops > 0)) await batch.committed;
    return this.alive(() => this.disk.scanPartition(partition, afterKey, limit));
  }

  async listKeys(partition: PartitionId, scan: KeyScan): Promise<KeyScanPage> {
    const batch = this.batch;
    if (batch && (batch.keys.size > 0 || batch.drops > 0)) await batch.committed;
    return this.alive(() => this.disk.listKeys(partition, scan));
  }

  updateHint(
    target: NodeId,
    key: string,
    partition: PartitionId,
    createdAtMs: number,
    change: (current: VersionedObject | undefined) => VersionedObject,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new Error('storage: closed'));
    if (this.dead) return never();
    const batch = this.open();
    batch.hintWrites++;
    return this.stage(batch, () => this.disk.updateHint(target, key, partition, createdAtMs, change));
  }

  async listHints(target: NodeId, limit: number): Promise<HintEntry[]> {
    const batch = this.batch;
    if (batch && batch.hintWrites > 0) await batch.committed;
    return this.alive(() => this.disk.listHints(target, limit));
  }

  removeHint(target: NodeId, key: string, version: number): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('storage: closed'));
    if (this.dead) return never();
    const batch = this.open();
    batch.hintWrites++;
    return this.stage(batch, () => this.disk.removeHint(target, key, version));
  }

  async hasHint(key: string): Promise<boolean> {
    const batch = this.batch;
    if (batch && batch.hintWrites > 0) await batch.committed;
    return this.alive(() => this.disk.hasHint(key));
  }

  /** Committed hints only, as in SqliteStorage. */
  hintCounts(): ReadonlyMap<NodeId, number> {
    return this.disk.hintCounts();
  }

  /** Never called back: the disk is a MemoryStorage, which has nothing to quarantine. */
  onQuarantine(): void {}

  async getMeta(name: string): Promise<Uint8Array | undefined> {
    checkMetaName(name);
    while (this.batch?.meta.has(name)) await this.batch.committed;
    return this.alive(() => this.disk.getMeta(name));
  }

  /** Stages a copy: the caller may reuse its buffer before the commit. */
  putMeta(name: string, bytes: Uint8Array | undefined): Promise<void> {
    try {
      checkMetaName(name);
      checkMetaBytes(bytes);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(new Error('storage: closed'));
    if (this.dead) return never();
    const copy = bytes && new Uint8Array(bytes);
    const batch = this.open();
    batch.meta.add(name);
    return this.stage(batch, () => this.disk.putMeta(name, copy));
  }

  dropPartition(partition: PartitionId, limit: number): Promise<number> {
    let n: number;
    try {
      n = dropLimit(limit);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(new Error('storage: closed'));
    if (this.dead) return never();
    if (this.opts.ackBeforeCommit) return this.dropUnsafely(partition, n);
    const batch = this.open();
    batch.drops++;
    return this.stage(batch, () => this.disk.dropPartition(partition, n));
  }

  /** The disk's: what is committed (plus, under the ack-before-commit mutation, what it applied early). */
  tree(partition: PartitionId): TreeView {
    return this.disk.tree(partition);
  }

  /** Committed pairs, without waiting for a staged batch: the tree they match counts only committed objects. */
  leafKeys(partition: PartitionId, leaf: number): Promise<Array<[string, bigint]>> {
    return this.alive(() => this.disk.leafKeys(partition, leaf));
  }

  /** Commits what is staged, then refuses every later call, as SqliteStorage does. */
  close(): Promise<void> {
    if (this.batch) this.commit(this.batch);
    this.closed = true;
    return Promise.resolve();
  }

  /** The process died: staged writes are gone and nothing this view was asked for ever answers. */
  crash(): void {
    this.dead = true;
    const batch = this.batch;
    this.batch = undefined;
    // Writes acknowledged before commit (mutation) were never durable: take them back off the disk.
    if (batch) for (const { key, partition, before } of [...batch.undo].reverse()) void this.disk.update(key, partition, () => before ?? null);
  }

  /** What a crash now would leave of `key` (for the invariants): the disk minus unsafe acknowledged writes. */
  committed(key: string): Promise<VersionedObject | undefined> {
    const unsafe = this.batch?.undo.find((u) => u.key === key);
    return unsafe ? Promise.resolve(unsafe.before) : this.disk.get(key);
  }

  /** Whether a batch is staged and not yet committed (for the invariants). */
  get staging(): boolean {
    return this.batch !== undefined;
  }

  private alive<T>(read: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('storage: closed'));
    return this.dead ? never() : read();
  }

  private stage<T>(batch: Batch, apply: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => batch.ops.push(() => void apply().then(resolve, reject)));
  }

  /** The open batch, creating it and scheduling its commit (an event that dies with the process). */
  private open(): Batch {
    if (this.batch) return this.batch;
    let resolve!: () => void;
    const committed = new Promise<void>((r) => (resolve = r));
    const batch: Batch = { ops: [], undo: [], keys: new Set(), meta: new Set(), drops: 0, hintWrites: 0, committed, resolve };
    this.batch = batch;
    this.world.schedule(this.opts.commitDelayMs(), () => this.commit(batch), this.owner);
    return batch;
  }

  private commit(batch: Batch): void {
    if (this.batch !== batch || this.dead) return;
    this.batch = undefined;
    this.commits++;
    for (const op of batch.ops) op();
    batch.resolve();
  }

  /** The mutation, for drops: object writes too, so it stays ordered with the updates around it. */
  private dropUnsafely(partition: PartitionId, limit: number): Promise<number> {
    const batch = this.open();
    const dropped = this.disk.takePartition(partition, limit);
    for (const { key, object } of dropped) batch.undo.push({ key, partition, before: object });
    return Promise.resolve(dropped.length);
  }

  /** The mutation: apply now, acknowledge now, remember how to undo it if we crash before commit. */
  private updateUnsafely(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
  ): Promise<VersionedObject | undefined> {
    const batch = this.open();
    let before: VersionedObject | undefined;
    let changed = false;
    const result = this.disk.update(key, partition, (current) => {
      before = current;
      const next = change(current);
      changed = next !== undefined;
      return next;
    });
    if (changed) batch.undo.push({ key, partition, before });
    return result;
  }
}
