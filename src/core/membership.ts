// Membership (issue 12): this node's copy of the versioned ring, kept on disk, spread by gossip,
// and changed only by the claimant.
//
// Gossip: every gossipIntervalMs this node sends its ring to one random member, which merges it
// and answers with its own (push-pull); a change is also pushed to every member at once. Merging
// is a semilattice (ring-state.ts), so all nodes converge on one ring.
//
// The claimant rule: the ring names one claimant, and only it changes the ring (stage, commit,
// clear, cancel, register a joining node, switch a partition whose transfers are done). Other
// nodes forward membership operations to it; if it cannot be reached they refuse with
// claimant_unreachable and nothing changes. The claimant changes only inside a ring change: to the
// first valid member by id when it leaves or is removed, or to the node that force-removes it
// when it is dead. So under a network partition, membership changes wait on the side without
// the claimant and the data path keeps the last ring. Only a forced removal of a claimant that
// is in fact alive can produce two concurrent changes; merging then keeps one whole (the other
// side's change is undone everywhere, never half-applied).
import { KvError, type ErrorCode } from './errors.js';
import { FailureLog } from './failure-log.js';
import { cancelPartition, incomingOf, movingPartitions, planOf, stage, switchPartition } from './membership-plan.js';
import { Periodic } from './periodic.js';
import type { Logger, Runtime } from './ports.js';
import { TransportError } from './ports.js';
import { decodeRingState, encodeRingState } from './ring-schema.js';
import { covers, digestOfRing, mergeRings, nextRing, sameDigest, type RingContent, type RingDigest, type RingState } from './ring-state.js';
import { ringViewOf } from './ring-view.js';
import type { Ring } from './ring.js';
import type { AdminOp, AdminOutcome } from './rpc.js';
import type { RpcClient } from './rpc-client.js';
import { asPartitionId, type NodeId } from './types.js';

/** Where the ring is kept: the storage's meta records. */
export interface RingStore {
  getMeta(name: string): Promise<Uint8Array | undefined>;
  putMeta(name: string, bytes: Uint8Array | undefined): Promise<void>;
}

export const ringMetaName = 'ring';

export interface MembershipDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly store: RingStore;
  readonly log: Logger;
  readonly isUp: (node: NodeId) => boolean;
  readonly gossipIntervalMs: number;
  readonly rpcTimeoutMs: number;
}

type ChangeListener = (ring: Ring, state: RingState, previous: RingState) => void;

export class Membership {
  private current: RingState;
  private view: Ring;
  private readonly listeners: ChangeListener[] = [];
  /** Serializes adoptions and the claimant's operations: each sees the ring the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Claimant only: the receivers that reported each moving partition complete. */
  private readonly done = new Map<number, Set<NodeId>>();
  private readonly periodic: Periodic;
  private readonly failures: FailureLog;

  constructor(
    private readonly deps: MembershipDeps,
    initial: RingState,
  ) {
    this.current = initial;
    this.view = ringViewOf(initial);
    this.periodic = new Periodic({ name: 'ring gossip', runtime: deps.runtime, log: deps.log, intervalMs: deps.gossipIntervalMs, task: () => this.gossipOnce() });
    this.failures = new FailureLog({ log: deps.log, now: () => deps.runtime.now() });
  }

  /** The ring kept in `store`, if there is one; throws if it is there but unreadable (the node must not guess). */
  static async loadStored(store: RingStore): Promise<RingState | undefined> {
    const bytes = await store.getMeta(ringMetaName);
    if (bytes === undefined) return undefined;
    const decoded = decodeRingState(bytes);
    if (!decoded.ok) throw new Error(`the ring kept in the data directory cannot be read (${decoded.problem})`);
    return decoded.value;
  }

  ring(): Ring {
    return this.view;
  }

  state(): RingState {
    return this.current;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Keeps the ring on disk (a first start has not stored it yet) and starts gossiping. */
  async start(): Promise<void> {
    await this.deps.store.putMeta(ringMetaName, encodeRingState(this.current));
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** Merges a ring heard from a peer; resolves with the ring this node holds afterwards. */
  receive(heard: RingState): Promise<RingState> {
    return this.serially(() => this.adopt(mergeRings(this.current, heard)));
  }

  /** Answers a peer's gossip: merges its ring if sent; this node's ring, or undefined when it has the peer's digest. */
  async gossipFrom(digest: RingDigest, ring: RingState | undefined): Promise<RingState | undefined> {
    const held = ring === undefined ? this.current : await this.receive(ring);
    return sameDigest(held, digest) ? undefined : held;
  }

  /** Runs a membership operation here if this node is the claimant, else at the claimant. */
  async admin(op: AdminOp, forwarded = false): Promise<AdminOutcome> {
    const claimant = this.current.claimant;
    if (claimant === this.deps.self) return this.serially(() => this.runAsClaimant(op));
    if (op.op === 'stage' && op.change.kind === 'remove' && op.change.node === claimant && op.force && !this.deps.isUp(claimant)) {
      return this.serially(() => this.takeOver(op));
    }
    if (forwarded) return refused('claimant_unreachable', `this node's ring names ${claimant} as claimant, not itself: retry once gossip has spread the ring`);
    try {
      const reply = await this.deps.rpc.call(claimant, { type: 'admin', op, forwarded: true }, this.deps.rpcTimeoutMs);
      if (reply.outcome.ok) await this.receive(reply.outcome.after);
      return reply.outcome;
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      return refused('claimant_unreachable', `the claimant ${claimant} cannot be reached (${err.reason}); membership changes wait for it, or remove a dead claimant with --force`);
    }
  }

  /** One gossip round: push this ring to a random member and merge its answer. */
  async gossipOnce(): Promise<void> {
    const peers = this.peers();
    if (peers.length === 0) return;
    const peer = peers[Math.floor(this.deps.runtime.random() * peers.length)]!;
    await this.exchangeWith(peer);
  }

  /**
   * Call once this node's ring says it was removed; resolves when a member that stays holds that
   * ring (or a newer one). Only then may the node stop: when it was the claimant, the switch of its
   * own last partition removed it and named the next claimant, and if it stopped first (its push
   * cut short, the reply to the report lost) the others would keep a ring with that partition
   * moving and a gone claimant for ever. Pushes to every remaining member each gossip interval
   * until one confirms: under a network partition the node waits for it to heal (SIGTERM still
   * stops it at once: stop() ends the wait too).
   */
  async handOver(): Promise<void> {
    for (let round = 1; !this.periodic.stopped; round++) {
      const ring = this.current;
      for (const peer of this.peers()) if (await this.confirms(peer, ring)) return;
      if (round % 50 === 0) this.failures.report('peer_unreachable', 'removed from the cluster, still waiting for a member to take the ring before stopping');
      await new Promise<void>((resolve) => this.deps.runtime.setTimer(this.deps.gossipIntervalMs, resolve));
    }
  }

  /** Whether `peer`, sent `ring`, answers with a ring at least as new. */
  private async confirms(peer: NodeId, ring: RingState): Promise<boolean> {
    try {
      const reply = await this.deps.rpc.call(peer, { type: 'ringGossip', digest: digestOfRing(ring), ring }, this.deps.rpcTimeoutMs);
      if (reply.ring === undefined) return true; // the peer holds this very ring
      await this.receive(reply.ring);
      return covers(reply.ring, ring);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      return false;
    }
  }

  /** Members other than this node that are still in the cluster. */
  peers(): NodeId[] {
    return this.current.members.filter((m) => m.id !== this.deps.self && m.status !== 'removed').map((m) => m.id);
  }

  /**
   * Push-pull with `peer`. Periodic gossip sends the digest first: the ring itself crosses only
   * when the two differ (the peer's when it answers with one, then this node's if the peer still
   * lacks something). A change is pushed whole (`push`): its receiver surely lacks it.
   */
  private async exchangeWith(peer: NodeId, push = false): Promise<void> {
    try {
      const mine = this.current;
      const request = { type: 'ringGossip', digest: digestOfRing(mine), ring: push ? mine : undefined } as const;
      const reply = await this.deps.rpc.call(peer, request, this.deps.rpcTimeoutMs);
      if (reply.ring === undefined) return;
      const held = await this.receive(reply.ring);
      if (!push && !sameDigest(held, reply.ring)) await this.exchangeWith(peer, true);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
    }
  }

  private async runAsClaimant(op: AdminOp): Promise<AdminOutcome> {
    const before = this.current;
    let content: RingContent;
    try {
      content = this.claimantChange(op);
    } catch (err) {
      if (err instanceof KvError) return refused(err.code, err.message);
      throw err;
    }
    if (content === before) return { ok: true, before, after: before };
    const after = await this.adopt(nextRing(before, this.deps.self, content));
    this.pushToAll();
    return { ok: true, before, after };
  }

  /** The content `op` makes from the current ring (the same object when it changes nothing); throws KvError to refuse. */
  private claimantChange(op: AdminOp): RingContent {
    const ring = this.current;
    switch (op.op) {
      case 'stage':
        return stage(ring, op.change, { isUp: this.deps.isUp, force: op.force });
      case 'commit':
        this.done.clear();
        return planOf(ring).content;
      case 'clear':
        if (ring.staged.length === 0) throw new KvError('membership_refused', 'nothing is staged');
        return { ...ring, staged: [] };
      case 'cancel':
        return cancelMoves(ring, op.partition);
      case 'register':
        return register(ring, op);
      case 'transferDone':
        return this.transferDone(ring, op);
    }
  }

  private transferDone(ring: RingContent, op: Extract<AdminOp, { op: 'transferDone' }>): RingContent {
    const p = asPartitionId(op.partition);
    if (p >= ring.partitions || ring.target[p]!.join() !== op.target.join()) return ring; // a report about an older plan
    const incoming = incomingOf(ring, p);
    if (!incoming.includes(op.node)) return ring;
    const reported = this.done.get(p) ?? new Set<NodeId>();
    this.done.set(p, reported.add(op.node));
    if (!incoming.every((id) => reported.has(id))) return ring;
    this.done.delete(p);
    this.deps.log.info({ partition: p, replicas: ring.target[p] }, `partition ${p} switched to its new replicas`);
    return switchPartition(ring, p);
  }

  /** A dead claimant is removed by force: this node becomes the claimant and stages the removal. */
  private async takeOver(op: Extract<AdminOp, { op: 'stage' }>): Promise<AdminOutcome> {
    const before = this.current;
    let content: RingContent;
    try {
      content = stage({ ...before, claimant: this.deps.self }, op.change, { isUp: this.deps.isUp, force: true, whileMoving: true });
    } catch (err) {
      // Refused like any other stage (e.g. too few valid members would be left): nothing changes.
      if (err instanceof KvError) return refused(err.code, err.message);
      throw err;
    }
    this.deps.log.warn({ claimant: before.claimant }, `taking over as claimant from ${before.claimant}, which is down and being removed by force`);
    const after = await this.adopt(nextRing(before, this.deps.self, content));
    this.pushToAll();
    return { ok: true, before, after };
  }

  private pushToAll(): void {
    for (const peer of this.peers()) {
      this.exchangeWith(peer, true).catch((err: unknown) => this.failures.failed('pushing the ring', err, { peer }));
    }
  }

  /** Makes `next` this node's ring: on disk first (a restart must know it), then in memory, then tells listeners. */
  private async adopt(next: RingState): Promise<RingState> {
    const previous = this.current;
    if (JSON.stringify(next) === JSON.stringify(previous)) return previous;
    await this.deps.store.putMeta(ringMetaName, encodeRingState(next));
    this.current = next;
    this.view = ringViewOf(next);
    for (const listener of this.listeners) listener(this.view, next, previous);
    return next;
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function refused(code: ErrorCode, message: string): AdminOutcome {
  return { ok: false, code, message };
}

function cancelMoves(ring: RingContent, partition: number | undefined): RingContent {
  const moving = movingPartitions(ring);
  const chosen = partition === undefined ? moving : moving.filter((p) => p === partition);
  if (chosen.length === 0) throw new KvError('membership_refused', partition === undefined ? 'no partition is moving' : `partition ${partition} is not moving`);
  return chosen.reduce(cancelPartition, ring);
}

/**
 * A node started with --join: added as joining, its join staged. Idempotent for the same id and
 * URL. The id of a removed member may be taken again (a restarted machine or a Kubernetes pod keeps
 * its name): only with an empty data directory, since a node whose ring says it was removed never
 * registers, and its new storage incarnation gives it new DVV actors.
 */
function register(ring: RingContent, op: Extract<AdminOp, { op: 'register' }>): RingContent {
  if (op.partitions !== ring.partitions || op.n !== ring.n) {
    throw new KvError('membership_refused', `the cluster has ${ring.partitions} partitions and N=${ring.n}; the joining node was started with ${op.partitions} and N=${op.n}`);
  }
  const existing = ring.members.find((m) => m.id === op.id);
  if (existing?.status === 'joining' && existing.url === op.url) return ring;
  if (existing !== undefined && existing.status !== 'removed') {
    throw new KvError('membership_refused', `node id ${op.id} is already taken (${existing.status}, ${existing.url}): start the new node with another --id`);
  }
  const others = ring.members.filter((m) => m.id !== op.id);
  const members = [...others, { id: op.id, url: op.url, status: 'joining' as const }].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { ...ring, members, staged: [...ring.staged, { kind: 'join', node: op.id }] };
}
