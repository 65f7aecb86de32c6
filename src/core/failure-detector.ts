// Which peers look alive. Fed by a periodic ping and by the outcome of every call to a peer (all go
// through RpcClient), so a dead peer is noticed by the first request that hits it, not only by the
// next probe. Coordinators use it to send writes straight to a fallback instead of waiting on a
// dead primary (sloppy quorum), and hinted handoff uses it to know when an owner is back. It is
// advice, never proof: a write to a peer marked down simply goes to a fallback, and a peer marked
// up may still fail.
import type { Logger, Runtime, Timer } from './ports.js';
import type { RpcClient } from './rpc-client.js';
import type { NodeId } from './types.js';

export type PeerStatus = 'up' | 'down' | 'unknown';

export interface FailureDetectorDeps {
  readonly self: NodeId;
  readonly peers: () => readonly NodeId[];
  readonly runtime: Runtime;
  /** Feeds this detector back: a pong reports the peer up, an unreachable one down. */
  readonly rpc: RpcClient;
  readonly log: Logger;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
}

export class FailureDetector {
  private readonly status = new Map<NodeId, PeerStatus>();
  private readonly upListeners: ((peer: NodeId) => void)[] = [];
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly deps: FailureDetectorDeps) {}

  start(): void {
    this.stopped = false;
    this.probe();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  statusOf(peer: NodeId): PeerStatus {
    return peer === this.deps.self ? 'up' : (this.status.get(peer) ?? 'unknown');
  }

  /** Unknown counts as up: a peer we have not heard about yet deserves a try. */
  isUp(peer: NodeId): boolean {
    return this.statusOf(peer) !== 'down';
  }

  onUp(listener: (peer: NodeId) => void): void {
    this.upListeners.push(listener);
  }

  reportSuccess(peer: NodeId): void {
    this.set(peer, 'up');
  }

  reportFailure(peer: NodeId): void {
    this.set(peer, 'down');
  }

  private set(peer: NodeId, next: PeerStatus): void {
    const before = this.status.get(peer);
    if (before === next) return;
    this.status.set(peer, next);
    if (before !== undefined || next === 'down') this.deps.log.info({ peer, status: next }, `peer ${peer} is ${next}`);
    if (next === 'up') for (const listener of this.upListeners) listener(peer);
  }

  private probe(): void {
    if (this.stopped) return;
    for (const peer of this.deps.peers()) {
      if (peer === this.deps.self) continue;
      // The probe is the liveness check itself: unlike other calls, any failed ping (a timeout
      // too) marks the peer down. The client has already reported a pong or an unreachable peer.
      this.deps.rpc.call(peer, { type: 'ping' }, this.deps.probeTimeoutMs).catch(() => this.reportFailure(peer));
    }
    this.timer = this.deps.runtime.setTimer(this.deps.probeIntervalMs, () => this.probe());
  }
}
