// Hinted handoff (Dynamo section 4.6): hints this node keeps for primaries that missed writes are
// delivered when the owner is reachable again, in bounded batches, and deleted only after the
// owner acknowledged them (and only if no newer write merged into the hint meanwhile). Hints never
// expire: a hint may be the only copy of an acknowledged write beyond the ones that failed, so
// dropping it could leave that write on fewer than w nodes. (The tombstone reaper waits until no
// node holds a hint for a key, so a late hint cannot resurrect a reaped key either.)
import type { FailureDetector } from './failure-detector.js';
import type { CoreMetrics } from './metrics.js';
import type { LocalReplica } from './replica.js';
import { Periodic } from './periodic.js';
import type { HintEntry, Logger, Runtime } from './ports.js';
import type { Ring } from './ring.js';
import type { RpcClient } from './rpc-client.js';
import type { NodeId, PartitionId } from './types.js';

export interface HandoffDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly detector: FailureDetector;
  readonly metrics: CoreMetrics;
  readonly log: Logger;
  readonly intervalMs: number;
  readonly batchMax: number;
  readonly rpcTimeoutMs: number;
  readonly ring: () => Ring;
}

export class HintedHandoff {
  private readonly periodic: Periodic;
  private running = false;

  constructor(private readonly deps: HandoffDeps) {
    this.periodic = new Periodic({ name: 'hinted handoff round', runtime: deps.runtime, log: deps.log, intervalMs: deps.intervalMs, task: () => this.round() });
    // An owner that comes back gets its hints now, not at the next tick.
    deps.detector.onUp(() => void this.periodic.run());
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** One pass over every owner with pending hints; at most one pass runs at a time. */
  async round(): Promise<void> {
    if (this.running || this.periodic.stopped) return;
    this.running = true;
    try {
      for (const [target, count] of this.deps.replica.hintCounts()) {
        if (count > 0 && this.deps.detector.isUp(target)) await this.deliver(target);
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Who takes a hint held for `target`: the target while it still holds the partition; once the
   * partition has moved away from it, every current replica (the hint stands in for a copy the
   * new owners must have).
   */
  private recipientsOf(target: NodeId, partition: PartitionId): NodeId[] {
    const ring = this.deps.ring();
    const holders = [...ring.replicas[partition]!, ...ring.pending[partition]!];
    return holders.includes(target) ? [target] : [...ring.replicas[partition]!];
  }

  private async handTo(node: NodeId, hint: HintEntry): Promise<void> {
    if (node === this.deps.self) await this.deps.replica.merge(hint.key, hint.object);
    else await this.deps.rpc.call(node, { type: 'replicate', key: hint.key, object: hint.object }, this.deps.rpcTimeoutMs);
  }

  /** Delivers batches to `target` until none are left or a batch makes no progress. */
  private async deliver(target: NodeId): Promise<void> {
    const { replica } = this.deps;
    let delivered = 0;
    for (;;) {
      const hints = await replica.listHints(target, this.deps.batchMax);
      if (hints.length === 0 || this.periodic.stopped) break;
      const outcomes = await Promise.all(
        hints.map(async (hint) => {
          try {
            await Promise.all(this.recipientsOf(target, hint.partition).map((to) => this.handTo(to, hint)));
          } catch {
            return false;
          }
          // A write that merged into the hint after we read it keeps the hint for the next round.
          return replica.removeHint(target, hint.key, hint.version);
        }),
      );
      const ok = outcomes.filter(Boolean).length;
      delivered += ok;
      if (ok === 0) break;
    }
    if (delivered > 0) {
      this.deps.metrics.inc('hints_delivered', delivered);
      this.deps.log.info({ target, delivered, pending: replica.hintCounts().get(target) ?? 0 }, `handed off ${delivered} hints to ${target}`);
    }
  }
}
