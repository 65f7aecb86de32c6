// Ownership transfer (issue 12): a node in a partition's target but not yet among its replicas
// pulls the partition from a current replica in bounded pages, while the old replicas keep
// serving and every write reaches it too (pending). When the pages are through it compares its
// Merkle tree with the source's until they match, then reports to the claimant, which switches
// the partition once every new replica has. A node that no longer holds a partition pushes what
// the new replicas lack, then drops its copy. Progress is kept on disk per partition, so a
// transfer resumes after either side crashes from the last page received, not from zero.
import type { AntiEntropy } from './anti-entropy.js';
import type { CodedFailure } from './errors.js';
import { FailureLog } from './failure-log.js';
import { dropBatchKeys, transferPageKeysMax, transferVerifyRoundsMax } from './limits.js';
import type { Membership } from './membership.js';
import type { CoreMetrics } from './metrics.js';
import { Periodic } from './periodic.js';
import type { Logger, Runtime } from './ports.js';
import type { LocalReplica } from './replica.js';
import type { RingState } from './ring-state.js';
import type { RpcClient } from './rpc-client.js';
import { asPartitionId, type NodeId, type PartitionId } from './types.js';
import { TransferCursors, type TransferProgress } from './transfer-cursors.js';
import { objectBytes } from './object-bytes.js';

export interface TransferLimits {
  /** Partitions received at once. */
  readonly concurrency: number;
  /** Bytes received per second, over all transfers of this node. */
  readonly bytesPerSecond: number;
}

export interface TransfersDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly antiEntropy: AntiEntropy;
  readonly membership: Membership;
  readonly cursors: TransferCursors;
  readonly isUp: (node: NodeId) => boolean;
  readonly metrics: CoreMetrics;
  readonly log: Logger;
  readonly rpcTimeoutMs: number;
  readonly intervalMs: number;
  readonly limits: TransferLimits;
}

export class Transfers {
  private limits: TransferLimits;
  private readonly running = new Map<PartitionId, TransferProgress>();
  private readonly dropping = new Set<PartitionId>();
  /** The receive of each partition still running (its pages and checks write to storage until it ends). */
  private readonly inFlight = new Map<PartitionId, Promise<void>>();
  /** Partitions a round is starting (loading their cursor): rounds may overlap, and each must see the others' picks. */
  private readonly starting = new Set<PartitionId>();
  /** The drops in flight (a removed node waits for them before it stops: see handedOff). */
  private readonly drops = new Set<Promise<void>>();
  private readonly periodic: Periodic;
  private readonly failures: FailureLog;
  /** When the byte budget lets the next page start (monotonic ms). */
  private budgetAtMs = 0;

  constructor(private readonly deps: TransfersDeps) {
    this.limits = deps.limits;
    this.periodic = new Periodic({ name: 'transfers round', runtime: deps.runtime, log: deps.log, intervalMs: deps.intervalMs, task: () => this.round() });
    this.failures = new FailureLog({ log: deps.log, now: () => deps.runtime.now() });
    deps.membership.onChange(() => this.onRingChange());
  }

  /** Before serving: drops what a crash left of partitions this node no longer holds, starts trees for those it receives. */
  async start(): Promise<void> {
    const state = this.deps.membership.state();
    for (let p = 0; p < state.partitions; p++) {
      const partition = asPartitionId(p);
      if (!holds(state, this.deps.self, partition)) await this.dropStorage(partition);
    }
    this.onRingChange();
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** Whether this node takes reads and writes of `partition`: its ring says it holds it, and it is not still dropping an old copy. */
  accepts(partition: PartitionId): boolean {
    return holds(this.deps.membership.state(), this.deps.self, partition) && !this.dropping.has(partition);
  }

  setLimits(limits: TransferLimits): void {
    this.limits = limits;
    void this.periodic.run();
  }

  currentLimits(): TransferLimits {
    return this.limits;
  }

  /** Partitions this node is handing away (pushing what the new replicas lack, then deleting its copy). */
  droppingNow(): PartitionId[] {
    return [...this.dropping].sort((a, b) => a - b);
  }

  /** Every transfer this node is receiving or has received for the current plan. */
  progress(): TransferProgress[] {
    return [...this.running.values()].map((t) => ({ ...t }));
  }

  /** A page of a partition this node serves, for a receiver. */
  async page(partition: PartitionId, afterKey: string | undefined, limit: number) {
    const entries = await this.deps.replica.scanPartition(partition, afterKey, Math.min(limit, transferPageKeysMax));
    return entries.map(({ key, object }) => [key, object] as const);
  }

  private onRingChange(): void {
    const state = this.deps.membership.state();
    for (let p = 0; p < state.partitions; p++) {
      const partition = asPartitionId(p);
      const held = holds(state, this.deps.self, partition);
      if (held && !this.dropping.has(partition)) this.deps.antiEntropy.addTree(partition);
      if (!held && this.deps.antiEntropy.hasTree(partition) && !this.dropping.has(partition)) this.startDrop(partition);
      const transfer = this.running.get(partition);
      if (transfer && !receiving(state, this.deps.self, partition)) this.running.delete(partition);
    }
    void this.periodic.run();
  }

  /** Starts transfers up to the concurrency limit; re-reports finished ones not yet switched. */
  private async round(): Promise<void> {
    const state = this.deps.membership.state();
    for (let p = 0; p < state.partitions; p++) {
      const partition = asPartitionId(p);
      if (!receiving(state, this.deps.self, partition) || this.dropping.has(partition)) continue;
      const known = this.running.get(partition);
      if (known?.state === 'done') void this.report(partition, known);
      if (known !== undefined || this.starting.has(partition) || this.active() >= this.limits.concurrency) continue;
      // Taken before the await: a round started meanwhile (ring change, limits, timer) must not start it too.
      this.starting.add(partition);
      try {
        this.deps.antiEntropy.addTree(partition);
        const progress = await this.deps.cursors.load(partition, state.target[partition]!);
        this.running.set(partition, progress);
        const run = this.receive(partition, progress)
          .catch((err: unknown) => this.failed(partition, progress, err))
          .finally(() => this.inFlight.delete(partition));
        this.inFlight.set(partition, run);
      } finally {
        this.starting.delete(partition);
      }
    }
  }

  private active(): number {
    return this.starting.size + [...this.running.values()].filter((t) => t.state === 'streaming' || t.state === 'verifying').length;
  }

  /** Streams, verifies and reports one partition. */
  private async receive(partition: PartitionId, progress: TransferProgress): Promise<void> {
    const source = this.sourceFor(partition);
    if (source === undefined) throw new NoLiveSource(`no live replica of partition ${partition} to receive it from`);
    progress.from = source;
    progress.state = 'streaming';
    progress.error = undefined;
    progress.startedAtMs ??= this.deps.runtime.wallClockMs();
    while (!progress.streamed && this.stillReceiving(partition, progress)) await this.pullPage(partition, source, progress);
    if (!this.stillReceiving(partition, progress)) return;
    progress.state = 'verifying';
    for (let round = 0; ; round++) {
      // Done when a comparison finds nothing this node lacked (keys still on their way here do not count).
      const lacked = await this.deps.antiEntropy.syncPartition(source, partition);
      if (lacked === 0) break;
      if (round + 1 >= transferVerifyRoundsMax) throw new Error(`partition ${partition} still differs from ${source} after ${transferVerifyRoundsMax} comparisons`);
    }
    progress.state = 'done';
    progress.doneAtMs = this.deps.runtime.wallClockMs();
    await this.deps.cursors.save(progress);
    this.deps.metrics.inc('transfers_completed');
    this.deps.log.info({ partition, from: source, keys: progress.keys, bytes: progress.bytes }, `received partition ${partition} from ${source}`);
    await this.report(partition, progress);
  }

  private async pullPage(partition: PartitionId, source: NodeId, progress: TransferProgress): Promise<void> {
    await this.waitForBudget();
    const request = { type: 'transferPage', partition, afterKey: progress.afterKey, limit: transferPageKeysMax } as const;
    const { entries } = await this.deps.rpc.call(source, request, this.deps.rpcTimeoutMs);
    if (!this.stillReceiving(partition, progress)) return;
    await Promise.all(entries.map(([key, object]) => this.deps.replica.merge(key, object)));
    const bytes = entries.reduce((sum, [key, object]) => sum + key.length + objectBytes(object), 0);
    this.spend(bytes);
    progress.keys += entries.length;
    progress.bytes += bytes;
    progress.afterKey = entries.at(-1)?.[0] ?? progress.afterKey;
    progress.streamed = entries.length < transferPageKeysMax;
    this.deps.metrics.inc('transfer_keys', entries.length);
    this.deps.metrics.inc('transfer_bytes', bytes);
    await this.deps.cursors.save(progress);
  }

  private async report(partition: PartitionId, progress: TransferProgress): Promise<void> {
    const outcome = await this.deps.membership.admin({ op: 'transferDone', partition, node: this.deps.self, target: progress.target });
    if (!outcome.ok) this.deps.log.debug({ partition, code: outcome.code }, 'transfer done, the claimant has not taken the report yet');
  }

  private failed(partition: PartitionId, progress: TransferProgress, err: unknown): void {
    this.deps.metrics.inc('transfer_errors');
    progress.state = 'failed';
    progress.error = (err as Error).message;
    this.logFailure(`receiving partition ${partition}`, err, { partition, from: progress.from });
    // Retried by a later round, from the last page kept.
    this.running.delete(partition);
  }

  /**
   * Logs a failure by its class, unless this node is stopping: its storage then closes under a
   * drop or a transfer in flight (a removed node stops itself mid-drop), and a restart redoes the
   * drop (start()) or resumes the transfer from its last page, so that is no bug.
   */
  private logFailure(what: string, err: unknown, fields: object): void {
    if (this.periodic.stopped) this.deps.log.debug({ ...fields, err: (err as Error).message }, `${what} stopped with the node`);
    else this.failures.failed(what, err, fields);
  }

  private stillReceiving(partition: PartitionId, progress: TransferProgress): boolean {
    const state = this.deps.membership.state();
    return !this.periodic.stopped && receiving(state, this.deps.self, partition) && state.target[partition]!.join() === progress.target.join();
  }

  /** A replica leaving the partition if one is up (its copy is the one being replaced), else any live replica. */
  private sourceFor(partition: PartitionId): NodeId | undefined {
    const state = this.deps.membership.state();
    const replicas = state.replicas[partition]!.filter((id) => id !== this.deps.self && this.deps.isUp(id));
    const leaving = replicas.filter((id) => !state.target[partition]!.includes(id));
    return leaving[0] ?? replicas[0];
  }

  private async waitForBudget(): Promise<void> {
    const waitMs = this.budgetAtMs - this.deps.runtime.now();
    if (waitMs > 0) await new Promise<void>((resolve) => this.deps.runtime.setTimer(waitMs, resolve));
  }

  private spend(bytes: number): void {
    const start = Math.max(this.budgetAtMs, this.deps.runtime.now());
    this.budgetAtMs = start + (bytes * 1000) / this.limits.bytesPerSecond;
  }

  /**
   * Resolves once no partition is being handed away: every push to the new replicas is through.
   * A node its ring removed waits for this before it stops, so the writes that reached it after
   * the receivers' checks are not stopped half-pushed.
   */
  async handedOff(): Promise<void> {
    while (this.drops.size > 0) await Promise.allSettled([...this.drops]);
  }

  /** Stops taking the partition, pushes what the new replicas lack, then deletes the local copy. */
  private startDrop(partition: PartitionId): void {
    this.dropping.add(partition);
    const done = this.drop(partition)
      .catch((err: unknown) => this.logFailure(`dropping partition ${partition}`, err, { partition }))
      .finally(() => {
        this.drops.delete(done);
        this.dropping.delete(partition);
        // The ring may have given the partition back meanwhile: it then starts again from an empty copy.
        if (!this.periodic.stopped) this.onRingChange();
      });
    this.drops.add(done);
  }

  private async drop(partition: PartitionId): Promise<void> {
    // A receive of this partition (cancelled) may still be merging a page: let it end first.
    await this.inFlight.get(partition);
    const state = this.deps.membership.state();
    for (const peer of state.replicas[partition]!) {
      if (peer === this.deps.self || !this.deps.isUp(peer)) continue;
      await this.deps.antiEntropy.syncPartition(peer, partition, { pushOnly: true }).catch((err: unknown) => this.logFailure('pushing a partition before dropping it', err, { partition, peer }));
    }
    this.deps.antiEntropy.removeTree(partition);
    await this.deps.replica.writesSettled(partition);
    const keys = await this.dropStorage(partition);
    await this.deps.cursors.clear(partition);
    this.deps.log.info({ partition, keys }, `dropped partition ${partition}: this node no longer holds it`);
  }

  private async dropStorage(partition: PartitionId): Promise<number> {
    let total = 0;
    for (let deleted = -1; deleted !== 0; total += deleted) deleted = await this.deps.replica.dropPartition(partition, dropBatchKeys);
    return total;
  }
}

/** Every current replica of a partition is down as this node sees it (a network partition, crashes): a later round retries. */
class NoLiveSource extends Error implements CodedFailure {
  override readonly name = 'NoLiveSource';
  readonly failureCode = 'peer_unreachable';
}

/** Whether `node` serves or receives `partition` in this ring. */
const holds = (state: RingState, node: NodeId, p: PartitionId) => state.replicas[p]!.includes(node) || state.target[p]!.includes(node);

/** Whether `node` is receiving `partition`: in its target, not yet among its replicas. */
const receiving = (state: RingState, node: NodeId, p: PartitionId) => state.target[p]!.includes(node) && !state.replicas[p]!.includes(node);
