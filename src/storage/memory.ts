// In-memory Storage for tests and the simulator. Objects and hints are kept encoded so no caller
// can hold a reference into stored state, and so the codec is exercised exactly as on disk.
// Semantics match SqliteStorage; every write is "durable" (and visible) as soon as it is made,
// and hint counts move when the write resolves, as the Storage port requires.
import { randomBytes } from 'node:crypto';
import { emptyTree, LeafTree, leafOf, versionHash, type TreeView } from '../core/merkle.js';
import type { HintEntry, KeyScan, KeyScanPage, Storage, StoredEntry } from '../core/ports.js';
import type { NodeId, PartitionId, VersionedObject } from '../core/types.js';
import { checkLeaf, checkMetaBytes, checkMetaName, dropLimit } from './checks.js';
import { listKeyRange } from './key-range.js';
import { decodeOwnObject, encodeObject } from './object-codec.js';
import { SortedKeys } from './sorted-keys.js';

interface StoredObject {
  readonly partition: PartitionId;
  readonly bytes: Uint8Array;
  /** The version's tree contribution, computed once when it is written. */
  readonly vhash: bigint;
}

interface StoredHint {
  readonly partition: PartitionId;
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly createdAtMs: number;
}

// Copy: pack() returns a view into a shared 8 KiB slab we should not pin per key.
const encode = (o: VersionedObject): Uint8Array => new Uint8Array(encodeObject(o));

/** Runs `body` and turns a throw into a rejection, so callers only ever see promises settle. */
function settle<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (err) {
    return Promise.reject(err);
  }
}

export class MemoryStorage implements Storage {
  readonly incarnation: string;
  private readonly objects = new Map<string, StoredObject>();
  /** Keys of each partition in UTF-8 byte order, for scanPartition. */
  private readonly partitions = new Map<PartitionId, SortedKeys>();
  /** Anti-entropy tree of each partition holding objects, moved with every change. */
  private readonly trees = new Map<PartitionId, LeafTree>();
  private readonly hints = new Map<NodeId, Map<string, StoredHint>>();
  /** Hints per target, moved only when the write that changes them resolves (see Storage.hintCounts). */
  private readonly counts = new Map<NodeId, number>();
  /** Last hint version handed out; versions only ever grow. */
  private hintVersion = 0;
  /** Meta records, copies of what was put (callers keep their buffers). */
  private readonly meta = new Map<string, Uint8Array>();
  private closed = false;

  constructor(opts: { incarnation?: string } = {}) {
    this.incarnation = opts.incarnation ?? randomBytes(8).toString('hex');
  }

  get(key: string): Promise<VersionedObject | undefined> {
    return settle(() => this.read(key));
  }

  versionHashOf(key: string, partition: PartitionId): Promise<bigint | undefined> {
    return settle(() => {
      const stored = this.objects.get(key);
      return stored?.partition === partition ? stored.vhash : undefined;
    });
  }

  /** Resolves with the object now stored under `key` (undefined if none). */
  update(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
  ): Promise<VersionedObject | undefined> {
    return settle(() => {
      // Read, change and store in one synchronous step: nothing can interleave.
      const current = this.read(key);
      const next = change(current);
      if (next === undefined) return current;
      const old = this.objects.get(key);
      if (next === null) {
        if (old) this.unindex(key, old);
        this.objects.delete(key);
        return undefined;
      }
      const stored = { partition, bytes: encode(next), vhash: versionHash(key, next) };
      this.objects.set(key, stored);
      this.count(key, stored, +1);
      if (old) this.count(key, old, -1);
      if (old?.partition !== partition) {
        if (old) this.unindex(key, old, false);
        this.index(key, partition);
      }
      return next;
    });
  }

  scanPartition(partition: PartitionId, afterKey: string | undefined, limit: number): Promise<StoredEntry[]> {
    return settle(() => {
      this.checkOpen();
      const keys = this.partitions.get(partition)?.after(afterKey, Math.floor(limit)) ?? [];
      return keys.map((key) => ({ key, object: decodeOwnObject(this.objects.get(key)!.bytes) }));
    });
  }

  listKeys(partition: PartitionId, scan: KeyScan): Promise<KeyScanPage> {
    return settle(() => {
      this.checkOpen();
      const index = this.partitions.get(partition);
      // The range ends at the first key without the prefix (keys with it are contiguous in byte order).
      const read = (from: string, inclusive: boolean, limit: number): string[] => {
        const keys = index?.from(from, inclusive, limit) ?? [];
        const end = keys.findIndex((key) => !key.startsWith(scan.prefix));
        return end === -1 ? keys : keys.slice(0, end);
      };
      const entryOf = (key: string): StoredEntry => ({ key, object: decodeOwnObject(this.objects.get(key)!.bytes) });
      return listKeyRange(scan, read, (key) => key, entryOf);
    });
  }

  updateHint(
    target: NodeId,
    key: string,
    partition: PartitionId,
    createdAtMs: number,
    change: (current: VersionedObject | undefined) => VersionedObject,
  ): Promise<void> {
    return settle(() => {
      this.checkOpen();
      const forTarget = this.hints.get(target);
      const old = forTarget?.get(key);
      const next = change(old && decodeOwnObject(old.bytes));
      const hint: StoredHint = {
        partition,
        bytes: encode(next),
        version: ++this.hintVersion,
        createdAtMs: old?.createdAtMs ?? createdAtMs, // a merge keeps the hint's age
      };
      if (forTarget) forTarget.set(key, hint);
      else this.hints.set(target, new Map([[key, hint]]));
      if (old === undefined) this.countOnResolve(target, +1);
    });
  }

  listHints(target: NodeId, limit: number): Promise<HintEntry[]> {
    return settle(() => {
      this.checkOpen();
      const all = [...(this.hints.get(target) ?? [])];
      all.sort(([, a], [, b]) => a.createdAtMs - b.createdAtMs || a.version - b.version);
      return all.slice(0, Math.max(0, Math.floor(limit))).map(([key, h]) => ({
        target,
        key,
        partition: h.partition,
        object: decodeOwnObject(h.bytes),
        version: h.version,
        createdAtMs: h.createdAtMs,
      }));
    });
  }

  removeHint(target: NodeId, key: string, version: number): Promise<boolean> {
    return settle(() => {
      this.checkOpen();
      const forTarget = this.hints.get(target);
      if (forTarget?.get(key)?.version !== version) return false;
      forTarget.delete(key);
      if (forTarget.size === 0) this.hints.delete(target);
      this.countOnResolve(target, -1);
      return true;
    });
  }

  hasHint(key: string): Promise<boolean> {
    return settle(() => {
      this.checkOpen();
      return [...this.hints.values()].some((forTarget) => forTarget.has(key));
    });
  }

  /** A snapshot: callers may keep iterating it while hints come and go. */
  hintCounts(): ReadonlyMap<NodeId, number> {
    return new Map(this.counts);
  }

  /** Never called back: this engine holds only what encodeObject produced, nothing to quarantine. */
  onQuarantine(): void {}

  /** A copy: the caller may decode in place without touching the stored record. */
  getMeta(name: string): Promise<Uint8Array | undefined> {
    return settle(() => {
      checkMetaName(name);
      this.checkOpen();
      const bytes = this.meta.get(name);
      return bytes && new Uint8Array(bytes);
    });
  }

  putMeta(name: string, bytes: Uint8Array | undefined): Promise<void> {
    return settle(() => {
      checkMetaName(name);
      checkMetaBytes(bytes);
      this.checkOpen();
      if (bytes === undefined) this.meta.delete(name);
      else this.meta.set(name, new Uint8Array(bytes));
    });
  }

  dropPartition(partition: PartitionId, limit: number): Promise<number> {
    return settle(() => this.takePartition(partition, limit).length);
  }

  /**
   * dropPartition, synchronously, returning what it deleted: the simulator's storage needs them to
   * undo a drop it acknowledged before commit (its ack-before-commit mutation).
   */
  takePartition(partition: PartitionId, limit: number): StoredEntry[] {
    const n = dropLimit(limit);
    this.checkOpen();
    const keys = this.partitions.get(partition)?.after(undefined, n) ?? [];
    return keys.map((key) => {
      const stored = this.objects.get(key)!;
      this.objects.delete(key);
      this.unindex(key, stored);
      return { key, object: decodeOwnObject(stored.bytes) };
    });
  }

  tree(partition: PartitionId): TreeView {
    return this.trees.get(partition) ?? emptyTree;
  }

  /** Walks the partition's keys: this engine serves tests and the simulator, with few keys per partition. */
  leafKeys(partition: PartitionId, leaf: number): Promise<Array<[string, bigint]>> {
    return settle(() => {
      checkLeaf(leaf);
      this.checkOpen();
      const keys = this.partitions.get(partition)?.after(undefined, Infinity) ?? [];
      return keys.filter((key) => leafOf(key) === leaf).map((key): [string, bigint] => [key, this.objects.get(key)!.vhash]);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private read(key: string): VersionedObject | undefined {
    this.checkOpen();
    const stored = this.objects.get(key);
    return stored === undefined ? undefined : decodeOwnObject(stored.bytes);
  }

  /**
   * Moves the count once the write's (already settled) promise resolves: a microtask queued now runs
   * before any reaction the caller attaches, so nobody sees the write resolved and the count unmoved.
   */
  private countOnResolve(target: NodeId, delta: 1 | -1): void {
    queueMicrotask(() => {
      const count = (this.counts.get(target) ?? 0) + delta;
      if (count > 0) this.counts.set(target, count);
      else this.counts.delete(target);
    });
  }

  private index(key: string, partition: PartitionId): void {
    let keys = this.partitions.get(partition);
    if (!keys) this.partitions.set(partition, (keys = new SortedKeys()));
    keys.add(key);
  }

  /** Takes a stored object out of its partition's index and (unless `counted` is false) out of its tree. */
  private unindex(key: string, stored: StoredObject, counted = true): void {
    const keys = this.partitions.get(stored.partition);
    keys?.delete(key);
    if (keys?.size === 0) this.partitions.delete(stored.partition);
    if (counted) this.count(key, stored, -1);
  }

  /** Moves `stored`'s contribution into (+1) or out of (-1) its partition's tree. */
  private count(key: string, stored: StoredObject, sign: 1 | -1): void {
    let tree = this.trees.get(stored.partition);
    if (!tree) this.trees.set(stored.partition, (tree = new LeafTree()));
    tree.xor(leafOf(key), stored.vhash, sign);
    if (tree.size === 0) this.trees.delete(stored.partition);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('storage: closed');
  }
}
