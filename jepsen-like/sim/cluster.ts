// K kvorum nodes in one process, each built with createNodeCore exactly as the real node does,
// over the simulated runtime, network and storage. Process-level faults live here: a crash
// discards the incarnation (its timers, its in-flight messages and its staged writes), a restart
// builds a new core over what the disk kept, a pause freezes the node's events until resume.
import type { CoreCounter, CoreMetrics } from '../../src/core/metrics.js';
import { createNodeCore, type ConvergenceSettings, type NodeCore } from '../../src/core/node-core.js';
import { createRing, type Ring } from '../../src/core/ring.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
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
}

export class SimCluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, SimNode>();
  readonly ring: Ring;
  readonly network: SimNetwork;
  readonly counters = new Map<CoreCounter, number>();
  /** Simulated times of wipes: data lost on purpose, which the durability checks allow for. */
  private readonly wipes: number[] = [];
  private readonly metrics: CoreMetrics = { inc: (c, by = 1) => void this.counters.set(c, (this.counters.get(c) ?? 0) + by) };

  constructor(
    private readonly world: World,
    readonly config: ClusterConfig,
    private readonly mutation: Mutation | undefined,
  ) {
    this.ids = Array.from({ length: config.nodes }, (_, i) => asNodeId(`n${i + 1}`));
    this.ring = createRing(this.ids, config.partitions, config.n);
    for (const id of this.ids) this.nodes.set(id, new SimNode(id, this.freshDisk(), (err) => world.fail(err)));
    this.network = new SimNetwork(world, this.nodes);
  }

  node(id: NodeId): SimNode {
    return this.nodes.get(id)!;
  }

  /** Boots a new incarnation of the node's process over its disk. */
  start(node: SimNode): void {
    if (node.state !== 'down') throw new Error(`start: ${node.id} is ${node.state}`);
    node.state = 'up';
    const [lo, hi] = this.config.commitDelayMs;
    const storage = new SimStorage(this.world, node, node.disk, {
      commitDelayMs: () => this.world.prng.int(lo, hi),
      ackBeforeCommit: this.mutation === 'ack-before-commit',
    });
    node.storage = storage;
    const core = createNodeCore({
      self: node.id,
      runtime: this.world.runtimeFor(node),
      transport: wrapTransport(this.network.transportFor(node), this.world, node, this.mutation),
      storage,
      initialRing: genesisOfIds(this.ids, this.ring.partitions, this.ring.n),
      log: node.log,
      metrics: this.metrics,
      settings: this.config.settings,
    });
    node.core = core;
    core.start().catch((err: unknown) => this.world.fail(new SimFailure('safety', 'start-failed', `${node.id}: start() failed: ${String(err)}`)));
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
    node.incarnations.push(node.disk.incarnation);
  }

  wipesSince(ms: number): number {
    return this.wipes.filter((t) => t >= ms).length;
  }

  private freshDisk(): MemoryStorage {
    return new MemoryStorage({ incarnation: this.world.prng.hex(16) });
  }
}
