// K kvorum nodes in one process, each built with createNodeCore exactly as the real node does,
// over the simulated runtime, network and storage. Process-level faults live here: a crash
// discards the incarnation (its timers, its in-flight messages and its staged writes), a restart
// builds a new core over what the disk kept (its ring too), a pause freezes the node's events
// until resume. Membership (membership.ts) adds spare nodes that join and members that leave for
// good: `active` is who runs now, in a fixed order (the members, then spares as they join).
import { shutdownGraceMs } from '../../src/core/limits.js';
import type { CoreCounter, CoreMetrics } from '../../src/core/metrics.js';
import { createNodeCore, type ConvergenceSettings } from '../../src/core/node-core.js';
import type { RingState } from '../../src/core/ring-state.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import { covers, isLive } from '../../src/core/dvv.js';
import { asNodeId, type CausalContext, type Dot, type NodeId, type PartitionId, type VersionedObject } from '../../src/core/types.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { wrapTransport, type Mutation } from './mutations.js';
import { SimNetwork } from './network.js';
import { SimNode } from './node.js';
import { SimStorage } from './sim-storage.js';
import { SimFailure, type World } from './world.js';

export interface ClusterConfig {
  readonly nodes: number;
  readonly n: number;
  readonly partitions: number;
  readonly settings: ConvergenceSettings;
  /** Group-commit delay range of the storage, simulated ms. */
  readonly commitDelayMs: readonly [number, number];
  /** Nodes started later, by a join (membership seeds only). */
  readonly spares?: number;
}

export class SimCluster {
  /** The members the cluster starts with. */
  readonly ids: NodeId[];
  readonly spareIds: NodeId[];
  readonly nodes = new Map<NodeId, SimNode>();
  /** Nodes started (members, joined spares) and not gone for good, in a fixed order. Clients use this list. */
  readonly active: NodeId[];
  /** Nodes gone for good: removed (crashed, their disk lost) or left (stopped once the ring said removed). */
  readonly retired = new Set<NodeId>();
  /** Per partition, every node some node's ring ever named as its replica: who may have written as its primary. */
  private readonly served = new Map<PartitionId, Set<NodeId>>();
  readonly network: SimNetwork;
  readonly counters = new Map<CoreCounter, number>();
  /** Simulated times of wipes and removals: data lost on purpose, which the durability checks allow for. */
  private readonly wipes: number[] = [];
  /** Per key, the contexts of dead versions the reaper removed anywhere. */
  private readonly reapedContexts = new Map<string, CausalContext[]>();
  private readonly ringListeners: ((state: RingState) => void)[] = [];
  private readonly metrics: CoreMetrics = { inc: (c, by = 1) => void this.counters.set(c, (this.counters.get(c) ?? 0) + by) };

  constructor(
    private readonly world: World,
    readonly config: ClusterConfig,
    private readonly mutation: Mutation | undefined,
  ) {
    this.ids = Array.from({ length: config.nodes }, (_, i) => asNodeId(`n${i + 1}`));
    this.spareIds = Array.from({ length: config.spares ?? 0 }, (_, i) => asNodeId(`n${config.nodes + i + 1}`));
    this.active = [...this.ids];
    const genesis = genesisOfIds(this.ids, config.partitions, config.n);
    this.observeRing(genesis);
    for (const id of [...this.ids, ...this.spareIds]) this.nodes.set(id, new SimNode(id, this.freshDisk(), (err) => world.fail(err)));
    for (const id of this.ids) this.node(id).startRing = genesis;
    this.network = new SimNetwork(world, this.nodes);
  }

  node(id: NodeId): SimNode {
    return this.nodes.get(id)!;
  }

  /** The active nodes, as SimNodes. */
  activeNodes(): SimNode[] {
    return this.active.map((id) => this.node(id));
  }

  /** Boots a new incarnation of the node's process over its disk, from the ring the disk keeps. */
  start(node: SimNode): void {
    if (node.state !== 'down') throw new Error(`start: ${node.id} is ${node.state}`);
    if (this.retired.has(node.id)) throw new Error(`start: ${node.id} is gone for good`);
    node.state = 'up';
    const [lo, hi] = this.config.commitDelayMs;
    const storage = new SimStorage(this.world, node, node.disk, {
      commitDelayMs: () => this.world.prng.int(lo, hi),
      ackBeforeCommit: this.mutation === 'ack-before-commit',
      onRemoved: (key, removed) => this.removed(key, removed),
    });
    node.storage = storage;
    const initialRing = node.storedRing ?? node.startRing!;
    const core = createNodeCore({
      self: node.id,
      runtime: this.world.runtimeFor(node),
      transport: wrapTransport(this.network.transportFor(node), this.world, node, this.mutation),
      storage,
      initialRing,
      log: node.log,
      metrics: this.metrics,
      settings: this.config.settings,
    });
    node.core = core;
    core.membership.onChange((_ring, state) => this.ringAdopted(node, state));
    core.start().then(
      () => {
        if (node.core !== core) return;
        node.ready = true;
        // A node that learned it was removed and crashed before stopping stops once it has started.
        this.leaveIfRemoved(node, core.membership.state());
      },
      (err: unknown) => this.world.fail(new SimFailure('safety', 'start-failed', `${node.id}: start() failed: ${String(err)}`)),
    );
  }

  /** Starts a spare for the first time, from the ring its join was given. */
  join(node: SimNode, ring: RingState): void {
    node.startRing = ring;
    this.active.push(node.id);
    this.start(node);
  }

  /** Restarts a node a fault stopped, unless it is gone for good meanwhile. */
  restart(node: SimNode): void {
    if (node.state === 'down' && !this.retired.has(node.id)) this.start(node);
  }

  /** SIGKILL: everything not on disk is gone. */
  crash(node: SimNode): void {
    if (node.state === 'down') return;
    node.kill();
  }

  pause(node: SimNode): void {
    if (node.state === 'up') node.state = 'paused';
  }

  resume(node: SimNode): void {
    if (node.state !== 'paused') return;
    node.state = 'up';
    this.world.replay(node.deferred.splice(0));
  }

  /** Crash, then lose the data directory: the next start gets an empty disk and a new incarnation. */
  wipe(node: SimNode): void {
    this.crash(node);
    this.wipes.push(this.world.now);
    node.disk = this.freshDisk();
    node.storedRing = undefined;
    node.incarnations.push(node.disk.incarnation);
  }

  /** The machine dies for good (to be removed): crashed, its disk lost (counted as a wipe), never started again. */
  destroy(node: SimNode): void {
    this.crash(node);
    this.wipes.push(this.world.now);
    this.retire(node);
  }

  /**
   * A node removed `key`'s object (the reaper): remembered when it was dead, every sibling a
   * tombstone or an expired value, so the durability check may excuse what its context superseded.
   * A live sibling removed is not remembered: the check then reports its loss.
   */
  private removed(key: string, object: VersionedObject): void {
    if (object.siblings.some((s) => isLive(s.value, this.world.wallClockMs))) return;
    this.reapedContexts.set(key, [...(this.reapedContexts.get(key) ?? []), object.context]);
  }

  /** Whether a dead version of `key` whose context covered `dot` was reaped somewhere. */
  reapedOver(key: string, dot: Dot): boolean {
    return (this.reapedContexts.get(key) ?? []).some((c) => covers(c, dot));
  }

  wipesSince(ms: number): number {
    return this.wipes.filter((t) => t >= ms).length;
  }

  /** Told of every ring any node adopts, as it adopts it (observers: the invariants). */
  onRing(listener: (state: RingState) => void): void {
    this.ringListeners.push(listener);
  }

  /** Every node any ring named as a replica of `partition`, ever. */
  servedEver(partition: PartitionId): ReadonlySet<NodeId> {
    return this.served.get(partition)!;
  }

  private retire(node: SimNode): void {
    this.retired.add(node.id);
    this.active.splice(this.active.indexOf(node.id), 1);
  }

  /** A ring the node made its own: on disk already (adopt stores it first), so a restart begins from it. */
  private ringAdopted(node: SimNode, state: RingState): void {
    node.storedRing = state;
    this.observeRing(state);
    for (const listener of this.ringListeners) listener(state);
    this.leaveIfRemoved(node, state);
  }

  private observeRing(state: RingState): void {
    state.replicas.forEach((replicas, p) => {
      const set = this.served.get(p as PartitionId) ?? new Set<NodeId>();
      for (const id of replicas) set.add(id);
      this.served.set(p as PartitionId, set);
    });
  }

  /**
   * A node its ring says was removed stops itself, as the real node does (kvorum start exits):
   * once it has handed its last partitions away (bounded by the shutdown grace), then gone for good.
   */
  private leaveIfRemoved(node: SimNode, state: RingState): void {
    if (state.members.find((m) => m.id === node.id)?.status !== 'removed' || node.leaving) return;
    const core = node.core!;
    node.leaving = true;
    const stop = () => {
      if (node.core !== core || this.retired.has(node.id)) return;
      core.stop();
      void node.storage?.close();
      node.kill();
      this.retire(node);
    };
    this.world.schedule(shutdownGraceMs, stop, node);
    void core.transfers.handedOff().then(() => this.world.schedule(0, stop, node));
  }

  private freshDisk(): MemoryStorage {
    return new MemoryStorage({ incarnation: this.world.prng.hex(16) });
  }
}
