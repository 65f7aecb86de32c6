// Fake time and a fake network for driving the real core in unit tests: timers fire only when
// the test advances the clock, and every link can be healthy, down, slow or silent.
import { noMetrics } from '../../src/core/metrics.js';
import { createNodeCore, type ConvergenceSettings, type NodeCore } from '../../src/core/node-core.js';
import { createRing, type Ring } from '../../src/core/ring.js';
import { TransportError, silentLogger, type Runtime, type Timer, type Transport } from '../../src/core/runtime.js';
import type { RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
import { MemoryStorage } from '../../src/storage/memory.js';

export class FakeClock implements Runtime {
  private time = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fire: () => void; live: boolean }[] = [];

  now(): number {
    return this.time;
  }

  /** An arbitrary fixed epoch plus simulated time. */
  wallClockMs(): number {
    return 1_700_000_000_000 + this.time;
  }

  random(): number {
    return 0.5;
  }

  setTimer(delayMs: number, fire: () => void): Timer {
    const t = { at: this.time + Math.max(0, delayMs), seq: this.seq++, fire, live: true };
    this.timers.push(t);
    return { cancel: () => void (t.live = false) };
  }

  /** Advances time by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => t.live);
      const next = this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next || next.at > end) break;
      this.time = next.at;
      next.live = false;
      next.fire();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets every pending promise chain run (several macrotask turns, bounded). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export type LinkState = { kind: 'up' } | { kind: 'down' } | { kind: 'slow'; delayMs: number } | { kind: 'silent' };

export class FakeNetwork {
  readonly handlers = new Map<NodeId, (r: RpcRequest) => Promise<RpcResponse>>();
  private readonly links = new Map<NodeId, LinkState>();
  /** Every call made, for assertions: [from, to, type]. */
  readonly log: [NodeId, NodeId, string][] = [];

  constructor(private readonly clock: FakeClock) {}

  setNode(node: NodeId, state: LinkState): void {
    this.links.set(node, state);
  }

  transportFor(from: NodeId): Transport {
    return {
      call: (peer, request, timeoutMs) => {
        this.log.push([from, peer, request.type]);
        const state = this.links.get(peer) ?? { kind: 'up' };
        const handler = this.handlers.get(peer);
        if (!handler || state.kind === 'down') return Promise.reject(new TransportError(peer, 'unreachable', 'down'));
        return new Promise<RpcResponse>((resolve, reject) => {
          const timer = this.clock.setTimer(timeoutMs, () => reject(new TransportError(peer, 'timeout', 'timed out')));
          if (state.kind === 'silent') return;
          const deliver = () =>
            handler(request).then(
              (r) => (timer.cancel(), resolve(r)),
              (e: unknown) => (timer.cancel(), reject(e)),
            );
          if (state.kind === 'slow') this.clock.setTimer(state.delayMs, deliver);
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
};

/** K nodes on one fake clock and network. Background services are not started unless a test does. */
export function fakeCluster(size: number, opts: { n?: number; partitions?: number; settings?: Partial<ConvergenceSettings> } = {}) {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const ids = Array.from({ length: size }, (_, i) => asNodeId(`n${i + 1}`));
  const ring: Ring = createRing(ids, opts.partitions ?? 16, opts.n ?? 3);
  const nodes = new Map<NodeId, FakeNode>();
  for (const id of ids) {
    const storage = new MemoryStorage({ incarnation: `i${id}` });
    const core = createNodeCore({
      self: id,
      runtime: clock,
      transport: network.transportFor(id),
      storage,
      ring: () => ring,
      log: silentLogger,
      metrics: noMetrics,
      settings: { ...fastSettings, ...opts.settings },
    });
    network.handlers.set(id, (r) => core.rpc.handle(r));
    nodes.set(id, { id, storage, core, coordinator: core.coordinator });
  }
  return { clock, network, ring, ids, node: (id: NodeId) => nodes.get(id)! };
}
