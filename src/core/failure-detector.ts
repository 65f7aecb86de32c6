// Which peers look alive: a phi-accrual detector per peer (phi-accrual.ts; Hayashibara et al.,
// Cassandra's and Akka's default threshold 8). Coordinators send writes straight to a fallback
// instead of waiting on a primary believed down (sloppy quorum), anti-entropy skips such peers, and
// hinted handoff uses it to know when an owner is back. It is advice, never proof: a write to a
// peer marked down simply goes to a fallback, and a peer marked up may still fail.
//
// The rule. A peer is down when its phi exceeds the threshold, or when the last call to it was
// refused ('unreachable': its process is gone, no need to wait for phi to rise). Otherwise it is
// unknown until first heard from, and up after. A peer's clock starts when it is first probed, as
// if it had just answered: one that never answers is down once that silence is too long (3.3 s
// with one-second probes), not unknown (so tried as a primary) forever. What feeds it:
// - heartbeats: the pong of the periodic probe (sent every probeIntervalMs), and heartbeat(peer) for
//   any other regular sign of life (gossip). Only these enter the estimator's window: replies to
//   other calls come at irregular times and would widen the deviation, so slow suspicion down;
// - any other reply (RpcClient): it revives a peer believed down or not yet heard from (it counts
//   as that peer's heartbeat), and is otherwise ignored;
// - a refused call (RpcClient, 'unreachable'): down at once, until the next reply or heartbeat.
//
// A peer heard from while not believed up (down, or not heard from yet) starts a fresh estimator
// with that heartbeat. For one coming back from down this is instead of having long intervals
// capped as Cassandra's fd_max_interval does. The gap spanning an outage would otherwise enter the
// window: after a 10-minute outage, a window of 1000 one-second intervals has a deviation of about
// 19 s, and the next failure takes ~102 s to detect instead of ~2.5 s, until the window turns over
// (17 minutes). Starting afresh uses the detector's own verdict, with no second bound to tune
// against the probe interval, and drops a history that belonged to a process which may since have
// restarted elsewhere; a cap would still record one capped interval per outage. The cost: a fresh
// window holds the first heartbeat's seeds (deviation a quarter of the probe interval), so in the
// first ten seconds or so after a return suspicion comes a little later (up to ~3.3 s, not ~2.5 s).
import { PhiAccrual, type PhiAccrualOptions } from './phi-accrual.js';
import type { Logger, Runtime, Timer } from './ports.js';
import type { RpcClient } from './rpc-client.js';
import type { NodeId } from './types.js';

export type PeerStatus = 'up' | 'down' | 'unknown';

export interface FailureDetectorDeps {
  readonly self: NodeId;
  /** The members to watch, asked at every probe: membership changes at run time. */
  readonly peers: () => readonly NodeId[];
  readonly runtime: Runtime;
  /** Feeds this detector back: a pong is a heartbeat, an unreachable peer is down (rpc-client.ts). */
  readonly rpc: RpcClient;
  readonly log: Logger;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  /** A peer whose phi exceeds this is believed down (Cassandra's phi_convict_threshold). */
  readonly phiThreshold: number;
}

interface PeerState {
  estimator: PhiAccrual;
  /** Whether the estimator's heartbeats are real; false while it runs from when probing began. */
  heard: boolean;
  /** The last call was refused: down whatever phi says, until the peer is heard from again. */
  unreachable: boolean;
  /** The status last logged and told to listeners: a phi crossing is noticed at the next probe. */
  announced: PeerStatus;
}

export class FailureDetector {
  private readonly peers = new Map<NodeId, PeerState>();
  private readonly upListeners: ((peer: NodeId) => void)[] = [];
  private readonly estimatorOptions: Partial<PhiAccrualOptions>;
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly deps: FailureDetectorDeps) {
    // Heartbeats come once per probe interval: the first interval is assumed to be one, and one
    // lost or late pong is tolerated (the limits.ts defaults are for the default interval).
    this.estimatorOptions = { firstIntervalEstimateMs: deps.probeIntervalMs, acceptablePauseMs: deps.probeIntervalMs };
  }

  /** Probes now and every probeIntervalMs; calling it again restarts the cycle (never runs two). */
  start(): void {
    this.stopped = false;
    this.timer?.cancel();
    this.probe();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  statusOf(peer: NodeId): PeerStatus {
    if (peer === this.deps.self) return 'up';
    const state = this.peers.get(peer);
    return state === undefined ? 'unknown' : this.statusAt(state, this.deps.runtime.now());
  }

  /** Unknown counts as up: a peer we have not heard about yet deserves a try. */
  isUp(peer: NodeId): boolean {
    return this.statusOf(peer) !== 'down';
  }

  /** The peer's suspicion level now; undefined for this node and for a peer never heard from. */
  phi(peer: NodeId): number | undefined {
    const state = peer === this.deps.self ? undefined : this.peers.get(peer);
    if (state === undefined || !state.heard) return undefined;
    return state.estimator.phi(this.deps.runtime.now());
  }

  onUp(listener: (peer: NodeId) => void): void {
    this.upListeners.push(listener);
  }

  /** A regular sign of life from `peer` (a pong; gossip): enters its estimator's window. */
  heartbeat(peer: NodeId): void {
    if (peer === this.deps.self) return;
    const now = this.deps.runtime.now();
    const state = this.stateOf(peer);
    const status = this.statusAt(state, now);
    if (status !== 'up') {
      if (status === 'down') this.announce(peer, state, 'down');
      state.estimator = new PhiAccrual(this.estimatorOptions);
      state.heard = true;
      state.unreachable = false;
    }
    state.estimator.heartbeat(now);
    this.announce(peer, state, 'up');
  }

  /** A reply to a call other than a probe: revives a peer not believed up, else says nothing new. */
  reportSuccess(peer: NodeId): void {
    if (this.statusOf(peer) !== 'up') this.heartbeat(peer);
  }

  /** The peer refused a connection: its process is gone. */
  reportFailure(peer: NodeId): void {
    if (peer === this.deps.self) return;
    const state = this.stateOf(peer);
    state.unreachable = true;
    this.announce(peer, state, 'down');
  }

  private statusAt(state: PeerState, nowMs: number): PeerStatus {
    if (state.unreachable || state.estimator.phi(nowMs) > this.deps.phiThreshold) return 'down';
    return state.heard ? 'up' : 'unknown';
  }

  private stateOf(peer: NodeId): PeerState {
    let state = this.peers.get(peer);
    if (state === undefined) {
      const estimator = new PhiAccrual(this.estimatorOptions);
      estimator.heartbeat(this.deps.runtime.now());
      state = { estimator, heard: false, unreachable: false, announced: 'unknown' };
      this.peers.set(peer, state);
    }
    return state;
  }

  /** Logs a change of status (not a first "up": start-up is not news) and tells listeners of an up. */
  private announce(peer: NodeId, state: PeerState, next: PeerStatus): void {
    const before = state.announced;
    if (before === next) return;
    state.announced = next;
    if (before !== 'unknown' || next === 'down') {
      const phi = state.estimator.phi(this.deps.runtime.now());
      this.deps.log.info({ peer, status: next, phi, heard: state.heard, unreachable: state.unreachable }, `peer ${peer} is ${next}`);
    }
    if (next === 'up') for (const listener of this.upListeners) listener(peer);
  }

  private probe(): void {
    if (this.stopped) return;
    const listed = new Set(this.deps.peers());
    for (const peer of this.peers.keys()) if (!listed.has(peer)) this.peers.delete(peer);
    const now = this.deps.runtime.now();
    for (const peer of listed) {
      if (peer === this.deps.self) continue;
      const state = this.stateOf(peer);
      if (this.statusAt(state, now) === 'down') this.announce(peer, state, 'down');
      // The pong is fed back by the client as a heartbeat, a refusal as a failure; a timeout is
      // only a missing heartbeat, which phi accounts for.
      this.deps.rpc.call(peer, { type: 'ping' }, this.deps.probeTimeoutMs).catch(() => {});
    }
    this.timer = this.deps.runtime.setTimer(this.deps.probeIntervalMs, () => this.probe());
  }
}
