// Tombstone reaping: a deleted key's tombstone is removed only once every primary replica holds
// exactly the same tombstone-only version, no member holds a hint for the key or has a copy of it
// in flight, and the grace period has passed since the delete. A replica that missed the delete therefore blocks the reap
// until handoff or anti-entropy has given it the tombstone, and a hint (or a write or repair in
// flight) carrying an older version blocks it until delivered, so neither can bring the key back
// (the classic resurrection bug). An unreachable member blocks reaping too: it may hold either.
// An expired value (a PUT's ttl) counts as a tombstone deleted at its expiry and takes the same path.
// Only the first primary of a partition drives its reaping, scanning a bounded slice per round.
import { goneSinceMs } from './dvv.js';
import { objectDigest } from './merkle.js';
import type { CoreMetrics } from './metrics.js';
import type { LocalReplica } from './replica.js';
import { preferenceList, type Ring } from './ring.js';
import { Periodic } from './periodic.js';
import type { RpcRequest } from './rpc.js';
import type { RpcClient } from './rpc-client.js';
import type { Logger, Runtime } from './ports.js';
import { asPartitionId, type NodeId, type VersionedObject } from './types.js';

export interface ReaperDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly ring: () => Ring;
  readonly metrics: CoreMetrics;
  readonly log: Logger;
  readonly graceMs: number;
  readonly intervalMs: number;
  /** Stored keys looked at per round, so a round's cost is bounded whatever the data size. */
  readonly scanPerRoundMax: number;
  /** Keys read per storage call: a call (and its decoding) runs without yielding, so it is kept short. */
  readonly scanPageSize: number;
  readonly rpcTimeoutMs: number;
}

/**
 * True when every sibling has been gone for the grace period: a tombstone deleted, or a value
 * expired (a TTL's expiry counts as its delete), at least `graceMs` before `nowMs`.
 */
export function isReapable(object: VersionedObject, nowMs: number, graceMs: number): boolean {
  return (
    object.siblings.length > 0 &&
    object.siblings.every((s) => {
      const gone = goneSinceMs(s.value);
      return gone !== undefined && gone <= nowMs - graceMs;
    })
  );
}

export class TombstoneReaper {
  private readonly periodic: Periodic;
  /** Where the next round resumes: a partition index and the last key scanned in it. */
  private cursor: { partition: number; afterKey: string | undefined } = { partition: 0, afterKey: undefined };

  constructor(private readonly deps: ReaperDeps) {
    this.periodic = new Periodic({ name: 'tombstone reaping round', runtime: deps.runtime, log: deps.log, intervalMs: deps.intervalMs, task: () => this.round() });
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** Handles a peer's `reap`: deletes the key only if it still holds exactly that tombstone. */
  async reapLocal(key: string, digest: string): Promise<boolean> {
    const reaped = await this.deps.replica.reap(
      key,
      (current) => objectDigest(current) === digest && isReapable(current, this.deps.runtime.wallClockMs(), this.deps.graceMs),
    );
    if (reaped) this.deps.metrics.inc('tombstones_reaped');
    return reaped;
  }

  /** Scans up to scanPerRoundMax keys of partitions this node leads, reaping what it may. */
  async round(): Promise<number> {
    const ring = this.deps.ring();
    let scanned = 0;
    let reaped = 0;
    let deferred = 0;
    for (let visited = 0; visited < ring.partitions && scanned < this.deps.scanPerRoundMax && !this.periodic.stopped; ) {
      const partition = asPartitionId(this.cursor.partition % ring.partitions);
      const primaries = preferenceList(ring, partition).primaries;
      // A partition being moved is left alone until it settles: its receivers are not asked.
      const limit = Math.min(this.deps.scanPageSize, this.deps.scanPerRoundMax - scanned);
      const page = primaries[0] === this.deps.self && ring.pending[partition]!.length === 0
        ? await this.deps.replica.scanPartition(partition, this.cursor.afterKey, limit)
        : [];
      scanned += page.length;
      for (const { key, object } of page) {
        if (!isReapable(object, this.deps.runtime.wallClockMs(), this.deps.graceMs)) continue;
        if (await this.reapEverywhere(key, object, primaries)) reaped++;
        else deferred++;
      }
      if (page.length === limit) {
        // A full page: the partition may hold more; the next page (this round or the next) resumes after it.
        this.cursor = { partition, afterKey: page[page.length - 1]!.key };
      } else {
        this.cursor = { partition: (partition + 1) % ring.partitions, afterKey: undefined };
        visited++;
      }
    }
    if (deferred > 0) this.deps.metrics.inc('tombstones_reap_deferred', deferred);
    if (reaped + deferred > 0) this.deps.log.info({ reaped, deferred, scanned }, `reaped ${reaped} tombstones, ${deferred} past the grace left for later`);
    return reaped;
  }

  private async reapEverywhere(key: string, object: VersionedObject, primaries: readonly NodeId[]): Promise<boolean> {
    const digest = objectDigest(object);
    const others = primaries.filter((p) => p !== this.deps.self);
    const call = <R extends RpcRequest>(peer: NodeId, request: R) => this.deps.rpc.call(peer, request, this.deps.rpcTimeoutMs);
    try {
      if (await this.deps.replica.mayStillSend(key)) return false;
      const [copies, pending] = await Promise.all([
        Promise.all(others.map((peer) => call(peer, { type: 'read', key }))),
        Promise.all(this.deps.ring().members.filter((m) => m !== this.deps.self).map((peer) => call(peer, { type: 'keyPending', key }))),
      ]);
      // Every primary must hold exactly this tombstone; otherwise wait for repair to make it so.
      if (!copies.every((c) => c.object !== null && objectDigest(c.object) === digest)) return false;
      // A hint, or a write or repair in flight, may carry a version this tombstone supersedes:
      // arriving after the reap, it would resurrect the key.
      if (!pending.every((p) => !p.pending)) return false;
      await Promise.all(others.map((peer) => call(peer, { type: 'reap', key, digest })));
    } catch {
      return false; // a primary is unreachable: try again next round
    }
    return this.reapLocal(key, digest);
  }
}
