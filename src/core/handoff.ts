// Hinted handoff (Dynamo section 4.6): hints this node keeps for primaries that missed writes are
// delivered when the owner is reachable again, in bounded batches, and deleted only after the
// owner acknowledged them (and only if no newer write merged into the hint meanwhile). Hints
// older than `hintMaxAgeMs` are dropped instead: by then a tombstone they predate may have been
// reaped, and delivering them would resurrect the key (anti-entropy repairs what they carried).
import type { FailureDetector } from './failure-detector.js';
import type { CoreMetrics } from './metrics.js';
import type { LocalReplica } from './replica.js';
import { Periodic } from './periodic.js';
import type { Logger, Runtime, Transport } from './runtime.js';
import type { NodeId } from './types.js';

export interface HandoffOptions {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly transport: Transport;
  readonly replica: LocalReplica;
  readonly detector: FailureDetector;
  readonly metrics: CoreMetrics;
  readonly log: Logger;
  readonly intervalMs: number;
  readonly batchMax: number;
  readonly hintMaxAgeMs: number;
  readonly rpcTimeoutMs: number;
}

export class HintedHandoff {
  private readonly periodic: Periodic;
  private running = false;

  constructor(private readonly opts: HandoffOptions) {
    this.periodic = new Periodic(opts.runtime, opts.intervalMs, () => this.round());
    // An owner that comes back gets its hints now, not at the next tick.
    opts.detector.onUp(() => void this.round());
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
      for (const [target, count] of this.opts.replica.storage.hintCounts()) {
        if (count > 0 && this.opts.detector.isUp(target)) await this.deliver(target);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'hinted handoff round failed');
    } finally {
      this.running = false;
    }
  }

  /** Delivers batches to `target` until none are left or a batch makes no progress. */
  private async deliver(target: NodeId): Promise<void> {
    const { storage } = this.opts.replica;
    let delivered = 0;
    let expired = 0;
    for (;;) {
      const hints = await storage.listHints(target, this.opts.batchMax);
      if (hints.length === 0 || this.periodic.stopped) break;
      const oldestAllowedMs = this.opts.runtime.wallClockMs() - this.opts.hintMaxAgeMs;
      const outcomes = await Promise.all(
        hints.map(async (hint) => {
          if (hint.createdAtMs < oldestAllowedMs) {
            await storage.removeHint(target, hint.key, hint.version);
            return 'expired' as const;
          }
          try {
            const reply = await this.opts.transport.call(target, { type: 'replicate', key: hint.key, object: hint.object }, this.opts.rpcTimeoutMs);
            if (reply.type !== 'ack') return 'failed' as const;
          } catch {
            return 'failed' as const;
          }
          // A write that merged into the hint after we read it keeps the hint for the next round.
          return (await storage.removeHint(target, hint.key, hint.version)) ? ('delivered' as const) : ('failed' as const);
        }),
      );
      const ok = outcomes.filter((o) => o === 'delivered').length;
      const gone = outcomes.filter((o) => o === 'expired').length;
      delivered += ok;
      expired += gone;
      if (ok + gone === 0) break;
    }
    if (delivered > 0) this.opts.metrics.inc('hints_delivered', delivered);
    if (expired > 0) this.opts.metrics.inc('hints_expired', expired);
    if (delivered + expired > 0) {
      this.opts.log.info({ target, delivered, expired, pending: storage.hintCounts().get(target) ?? 0 }, `handed off ${delivered} hints to ${target}`);
    }
  }
}
