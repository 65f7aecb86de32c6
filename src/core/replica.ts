// This node's replica: every change to stored objects and hints goes through here, so that the
// bound on hints per peer is enforced in one place, and so that what the tombstone reaper must
// know (keys being sent elsewhere, contexts of keys just reaped) is tracked in one place. The
// Merkle trees of anti-entropy are kept by storage with the rows (Storage.tree), so every
// committed change, drop and quarantine moves them exactly once. Rows the storage quarantines
// (unreadable) are reported here.
import { contextEntries, hasLiveValue, sync } from './dvv.js';
import { invariant } from './assert.js';
import { KvError, type CodedFailure } from './errors.js';
import { FailureLog } from './failure-log.js';
import type { CoreMetrics } from './metrics.js';
import { partitionOf, type Ring } from './ring.js';
import type { KeyHashes, TreeView } from './merkle.js';
import type { HintEntry, KeyScanPage, Logger, QuarantinedRow, Runtime, Storage, StoredEntry } from './ports.js';
import { contextEntriesMax, listScanRowsMax, reapedContextsMax } from './limits.js';
import type { CausalContext, NodeId, PartitionId, VersionedObject } from './types.js';

export class HintsFullError extends Error implements CodedFailure {
  override readonly name = 'HintsFullError';
  readonly failureCode = 'hints_full';
}

export interface ReplicaDeps {
  readonly self: NodeId;
  readonly storage: Storage;
  readonly ring: () => Ring;
  readonly runtime: Runtime;
  readonly log: Logger;
  readonly metrics: CoreMetrics;
  readonly hintsPerPeerMax: number;
  /** How long a reaped key's context is remembered (see `reap`). */
  readonly reapedMemoryMs: number;
  /**
   * Whether this node takes writes of `partition` now (Transfers.accepts: it holds or receives it
   * and is not dropping an old copy). Writes of other partitions are refused, so no stray copy is
   * left behind on a node the partition moved away from. Absent: every partition (a fixed ring).
   */
  readonly accepts?: (partition: PartitionId) => boolean;
}

export class LocalReplica {
  /** Hint stores not yet durable, per target: storage counts only durable hints. */
  private readonly hintsInFlight = new Map<NodeId, number>();
  private readonly failures: FailureLog;
  /** Keys with work in flight that may send a version of them to another node, and how many. */
  private readonly sending = new Map<string, number>();
  /** Writes to each partition not yet settled (see writesSettled). */
  private readonly writesInFlight = new Map<PartitionId, Set<Promise<void>>>();
  /** Recently reaped keys, oldest first: the tombstone's context, and until when it is remembered. */
  private readonly reaped = new Map<string, { readonly context: CausalContext; readonly untilMs: number }>();

  constructor(private readonly deps: ReplicaDeps) {
    this.failures = new FailureLog({ log: deps.log, now: () => deps.runtime.now() });
    deps.storage.onQuarantine((row) => this.quarantined(row));
  }

  /** Durable hints pending per target (see Storage.hintCounts). */
  hintCounts(): ReadonlyMap<NodeId, number> {
    return this.deps.storage.hintCounts();
  }

  /** Up to `limit` hints for `target`, oldest first: what handoff delivers next. */
  async listHints(target: NodeId, limit: number): Promise<HintEntry[]> {
    const hints = await this.deps.storage.listHints(target, limit);
    invariant(hints.length <= limit && hints.every((h) => h.target === target), () => `storage: listHints(${target}, ${limit}) gave ${hints.length} hints, not all for ${target}`);
    return hints;
  }

  /** Removes a delivered hint if nothing merged into it since (`version`); true if removed. */
  removeHint(target: NodeId, key: string, version: number): Promise<boolean> {
    return this.deps.storage.removeHint(target, key, version);
  }

  /** Stored keys of one partition in key order, after `afterKey`: for tree rebuilds and the reaper. */
  async scanPartition(partition: PartitionId, afterKey: string | undefined, limit: number): Promise<StoredEntry[]> {
    const page = await this.deps.storage.scanPartition(partition, afterKey, limit);
    invariant(page.length <= limit, () => `storage: scanPartition(${partition}, limit ${limit}) gave ${page.length} entries`);
    return page;
  }

  /**
   * Up to `limit` live keys of `partition` starting with `prefix`, after `afterKey`, in key order,
   * reading at most listScanRowsMax stored rows (see Storage.listKeys): one listing step.
   */
  async listKeys(partition: PartitionId, prefix: string, afterKey: string | undefined, limit: number): Promise<KeyScanPage> {
    const nowMs = this.deps.runtime.wallClockMs();
    const page = await this.deps.storage.listKeys(partition, {
      prefix, afterKey, rowsMax: listScanRowsMax, keysMax: limit, isLive: (object) => hasLiveValue(object, nowMs),
    });
    invariant(page.keys.length <= limit, () => `storage: listKeys(${partition}, limit ${limit}) gave ${page.keys.length} keys`);
    return page;
  }

  /** The committed Merkle tree of `partition` (see Storage.tree): a live view. */
  tree(partition: PartitionId): TreeView {
    return this.deps.storage.tree(partition);
  }

  /** The committed (key, version hash) pairs of some leaves of `partition`, leaf by leaf. */
  async leafKeys(partition: PartitionId, leaves: readonly number[]): Promise<KeyHashes> {
    const perLeaf = await Promise.all(leaves.map((leaf) => this.deps.storage.leafKeys(partition, leaf)));
    return perLeaf.flat();
  }

  /** The hash of the version `get(key)` would return (Storage.versionHashOf), without reading the object. */
  versionHashOf(key: string, partition: PartitionId): Promise<bigint | undefined> {
    return this.deps.storage.versionHashOf(key, partition);
  }

  get(key: string): Promise<VersionedObject | undefined> {
    return this.deps.storage.get(key);
  }

  /**
   * Marks `key` as being sent somewhere until `work` settles: a write's replication (which may end
   * in a hint), a read repair, an anti-entropy repair. The version it carries may predate a delete,
   * so the tombstone reaper waits for it (mayStillSend) rather than let it arrive after the reap.
   */
  sendingWhile<T>(key: string, work: Promise<T>): Promise<T> {
    this.sending.set(key, (this.sending.get(key) ?? 0) + 1);
    const done = () => {
      const left = (this.sending.get(key) ?? 1) - 1;
      if (left === 0) this.sending.delete(key);
      else this.sending.set(key, left);
    };
    work.then(done, done);
    return work;
  }

  /** Whether this node may still send a version of `key` to another: a stored hint, or work in flight. */
  async mayStillSend(key: string): Promise<boolean> {
    return this.sending.has(key) || (await this.deps.storage.hasHint(key));
  }

  /** Runs `change` atomically on the stored object (null deletes); resolves with the result once durable. */
  update(
    key: string,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
    partition: PartitionId = partitionOf(this.deps.ring(), key),
  ): Promise<VersionedObject | undefined> {
    // Checked in the same step as the write is registered (a drop waits for registered writes): a
    // copy arriving late (a transfer page, a repair or handoff checked before the partition moved
    // away) must not leave a row no tree counts and no drop removes.
    if (this.deps.accepts?.(partition) === false) {
      return Promise.reject(new KvError('not_replica', `${this.deps.self} does not hold partition ${partition}`));
    }
    const write = this.updateNow(key, change, partition);
    const settled = write.then(
      () => undefined,
      () => undefined,
    );
    const writes = this.writesInFlight.get(partition) ?? new Set<Promise<void>>();
    this.writesInFlight.set(partition, writes.add(settled));
    void settled.then(() => {
      writes.delete(settled);
      if (writes.size === 0 && this.writesInFlight.get(partition) === writes) this.writesInFlight.delete(partition);
    });
    return write;
  }

  /**
   * Resolves once every write to `partition` begun before the call has settled. A node dropping a
   * partition first stops taking writes of it, then waits for this: a write still queued behind
   * another of the same key in storage would otherwise land after the drop.
   */
  async writesSettled(partition: PartitionId): Promise<void> {
    await Promise.all([...(this.writesInFlight.get(partition) ?? [])]);
  }

  private async updateNow(
    key: string,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
    partition: PartitionId,
  ): Promise<VersionedObject | undefined> {
    return this.deps.storage.update(key, partition, (current) => {
      const next = change(current);
      if (next && contextEntries(next.context) > contextEntriesMax) {
        // Only forged contexts get here (real ones name a few replicas): refuse rather than store an object no peer would take.
        throw new KvError('invalid_context', `The write would give the key a history of more than ${contextEntriesMax} clock entries.`);
      }
      return next;
    });
  }

  /** Deletes up to `limit` objects of a partition this node no longer holds (its tree is already gone); how many. */
  dropPartition(partition: PartitionId, limit: number): Promise<number> {
    return this.deps.storage.dropPartition(partition, limit);
  }

  /** Merges a version from elsewhere (replication, repair, handoff) into the local replica. */
  merge(key: string, incoming: VersionedObject): Promise<VersionedObject | undefined> {
    return this.update(key, (current) => (current ? sync(current, incoming) : this.unlessReaped(key, incoming)));
  }

  /**
   * Deletes `key` if `reapable` says so of its current object, and remembers the tombstone's
   * context for `reapedMemoryMs` (at most reapedContextsMax keys): a late copy of a version the
   * tombstone superseded (a duplicated or long-delayed message the reaper could not know about)
   * then merges into that context and is dropped instead of bringing the key back.
   */
  async reap(key: string, reapable: (current: VersionedObject) => boolean): Promise<boolean> {
    if (this.deps.accepts?.(partitionOf(this.deps.ring(), key)) === false) return false; // its drop removes it
    let context: CausalContext | undefined;
    await this.update(key, (current) => {
      if (!current || !reapable(current)) return undefined;
      context = current.context;
      return null;
    });
    if (context === undefined) return false;
    this.reaped.delete(key);
    this.reaped.set(key, { context, untilMs: this.deps.runtime.now() + this.deps.reapedMemoryMs });
    for (const oldest of this.reaped.keys()) {
      if (this.reaped.size <= reapedContextsMax) break;
      this.reaped.delete(oldest);
    }
    return true;
  }

  /**
   * Storage moved an unreadable row aside. For an object the key is now absent here: storage took
   * it out of its tree with the row, so anti-entropy restores it from the other replicas. A hint's
   * write is lost from this node; anti-entropy covers it too.
   */
  private quarantined(row: QuarantinedRow): void {
    this.deps.metrics.inc(row.kind === 'object' ? 'storage_quarantined_objects' : 'storage_quarantined_hints');
    this.failures.report(
      'row_quarantined',
      `storage: quarantined an unreadable ${row.kind} row; it reads as absent (kept in the quarantine table)`,
      { kind: row.kind, key: row.key, target: row.target, reason: row.reason },
    );
  }

  /** What to store for a key this replica does not hold: `incoming` minus what a recent reap superseded. */
  private unlessReaped(key: string, incoming: VersionedObject): VersionedObject | undefined {
    const gone = this.reaped.get(key);
    if (gone === undefined) return incoming;
    if (gone.untilMs < this.deps.runtime.now()) {
      this.reaped.delete(key);
      return incoming;
    }
    const kept = sync({ context: gone.context, siblings: [] }, incoming);
    return kept.siblings.length > 0 ? kept : undefined;
  }

  /**
   * Keeps `object` for `target`, a primary that could not take it, until handoff. Refused with
   * HintsFullError when `target` already has hintsPerPeerMax hints: the caller then does not
   * count this node toward the write's quorum, and anti-entropy repairs the key later.
   */
  async storeHint(target: NodeId, key: string, object: VersionedObject): Promise<void> {
    const inFlight = this.hintsInFlight.get(target) ?? 0;
    const pending = (this.deps.storage.hintCounts().get(target) ?? 0) + inFlight;
    if (pending >= this.deps.hintsPerPeerMax) {
      this.deps.metrics.inc('hints_refused');
      // The caller logs it by its class (a condition, rate-limited): one place, not two.
      throw new HintsFullError(`${this.deps.self} holds ${pending} hints for ${target}, hintsPerPeerMax: refusing more (anti-entropy will repair the key)`);
    }
    const partition = partitionOf(this.deps.ring(), key);
    // Storage counts a hint only once its write resolves: hold this one's place until then (a merge
    // into an existing hint holds one too, erring on the side of refusing).
    this.hintsInFlight.set(target, inFlight + 1);
    try {
      await this.deps.storage.updateHint(target, key, partition, this.deps.runtime.wallClockMs(), (current) =>
        current ? sync(current, object) : object,
      );
    } finally {
      const left = (this.hintsInFlight.get(target) ?? 1) - 1;
      if (left > 0) this.hintsInFlight.set(target, left);
      else this.hintsInFlight.delete(target);
    }
    this.deps.metrics.inc('hints_stored');
  }
}
