// Unit-test fakes for driving the real core: time is the simulator's world (one deterministic
// fake runtime for unit tests and the simulator, one settling rule: jepsen-like/sim/world.ts), and
// a fake network whose every link can be healthy, down, slow or silent. Timers fire only when the
// test moves the world's time.
import { World } from '../../jepsen-like/sim/world.js';
import type { EventOwner } from '../../jepsen-like/sim/queue.js';
import { phiThresholdDefault } from '../../src/core/limits.js';
import { noMetrics } from '../../src/core/metrics.js';
import { createNodeCore, type ConvergenceSettings, type NodeCore } from '../../src/core/node-core.js';
import { createRing, type Ring } from '../../src/core/ring.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import { TransportError, silentLogger, type Logger, type Runtime, type Transport } from '../../src/core/ports.js';
import type { RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
import { MemoryStorage } from '../../src/storage/memory.js';

/** The owner of every unit-test timer: never crashes, never pauses (no fault is simulated here). */
const alwaysUp: EventOwner = { gen: 0, state: 'up', deferred: [] };

/** A simulator world seen as one runtime, and the two ways a unit test moves it. */
export class SimTime {
  readonly world: World;
  /** The Runtime every fake node and the fake network use. */
  readonly runtime: Runtime;

  constructor(seed = 1) {
    this.world = new World(seed);
    this.runtime = this.world.runtimeFor(alwaysUp);
  }

  /** Moves time `ms` forward, firing each due timer in order and letting every promise it started settle (the world's rule). */
  advance(ms: number): Promise<void> {
    return this.world.run(this.world.now + ms);
  }

  /** Lets the promise chains already started run to completion (and fires what is due now); time stands still. */
  settle(): Promise<void> {
    return this.world.run(this.world.now);
  }
}

export type LinkState = { kind: 'up' } | { kind: 'down' } | { kind: 'slow'; delayMs: number } | { kind: 'silent' };

export class FakeNetwork {
  readonly handlers = new Map<NodeId, (r: RpcRequest) => Promise<RpcResponse>>();
  private readonly links = new Map<NodeId, LinkState>();
  private readonly halted = new Set<NodeId>();
  /** Every call made, for assertions: [from, to, type]. */
  readonly log: [NodeId, NodeId, string][] = [];

  constructor(private readonly runtime: Runtime) {}

  setNode(node: NodeId, state: LinkState): void {
    this.links.set(node, state);
  }

  /** A node that stopped: calls to it and from it fail, and so do its answers not yet delivered. */
  halt(node: NodeId): void {
    this.halted.add(node);
    this.setNode(node, { kind: 'down' });
  }

  transportFor(from: NodeId): Transport {
    return {
      call: (peer, request, timeoutMs) => {
        this.log.push([from, peer, request.type]);
        if (this.halted.has(from)) return Promise.reject(new TransportError(peer, 'unreachable', `${from} stopped`));
        const state = this.links.get(peer) ?? { kind: 'up' };
        const handler = this.handlers.get(peer);
        if (!handler || state.kind === 'down') return Promise.reject(new TransportError(peer, 'unreachable', 'down'));
        return new Promise<RpcResponse>((resolve, reject) => {
          const timer = this.runtime.setTimer(timeoutMs, () => reject(new TransportError(peer, 'timeout', 'timed out')));
          if (state.kind === 'silent') return;
          // A node halted before its answer left (killed mid-request): the answer is lost.
          const answer = (r: RpcResponse) => (this.halted.has(peer) ? reject(new TransportError(peer, 'unreachable', `${peer} stopped`)) : resolve(r));
          const deliver = () =>
            handler(request).then(
              (r) => (timer.cancel(), answer(r)),
              (e: unknown) => (timer.cancel(), reject(e)),
            );
          if (state.kind === 'slow') this.runtime.setTimer(state.delayMs, deliver);
          else deliver();
        });
      },
    };
  }
}

export interface FakeNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly core: NodeCore;
  readonly coordinator: NodeCore['coordinator'];
}

export const fastSettings: ConvergenceSettings = {
  tombstoneGraceMs: 10_000,
  antiEntropyIntervalMs: 500,
  handoffIntervalMs: 200,
  hintsPerPeerMax: 1000,
  probeIntervalMs: 100,
  gossipIntervalMs: 200,
  transferLimits: { concurrency: 2, bytesPerSecond: 32 * 1024 * 1024 },
  phiThreshold: phiThresholdDefault,
};

/** K nodes on one simulated time and fake network. Background services are not started unless a test does. */
export function fakeCluster(size: number, opts: { n?: number; partitions?: number; settings?: Partial<ConvergenceSettings>; log?: Logger | ((id: NodeId) => Logger) } = {}) {
  const time = new SimTime();
  const network = new FakeNetwork(time.runtime);
  const ids = Array.from({ length: size }, (_, i) => asNodeId(`n${i + 1}`));
  const ring: Ring = createRing(ids, opts.partitions ?? 16, opts.n ?? 3);
  const nodes = new Map<NodeId, FakeNode>();
  for (const id of ids) {
    const storage = new MemoryStorage({ incarnation: `i${id}` });
    const core = createNodeCore({
      self: id,
      runtime: time.runtime,
      transport: network.transportFor(id),
      storage,
      initialRing: genesisOfIds(ids, ring.partitions, ring.n),
      log: (typeof opts.log === 'function' ? opts.log(id) : opts.log) ?? silentLogger,
      metrics: noMetrics,
      settings: { ...fastSettings, ...opts.settings },
    });
    network.handlers.set(id, (r) => core.rpc.handle(r));
    nodes.set(id, { id, storage, core, coordinator: core.coordinator });
  }
  return { time, network, ring, ids, node: (id: NodeId) => nodes.get(id)! };
}
