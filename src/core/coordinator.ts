// The coordinator: turns one client operation into replica calls and a quorum decision
// (Dynamo section 4.5). Any node accepts a request; it coordinates if it is a primary replica of
// the key, otherwise it forwards to one that is. Writes use a sloppy quorum: a primary that is
// down or fails is replaced by the next live fallback, which keeps the write as a hint (section
// 4.6). Reads ask the primaries only (for a digest of their version first, see readCalls) and
// read-repair stale ones after answering.
import { emptyContext, joinContexts, liveValues, sameContext, sync, update, type UpdateResult } from './dvv.js';
import type { FailureDetector } from './failure-detector.js';
import { KvError } from './errors.js';
import { FailureLog } from './failure-log.js';
import { dotCountersPerMs, forwardMarginMs, readSpeculateAfterMs, siblingsMax, siblingsWarn } from './limits.js';
import { awaitQuorum, type Reply } from './quorum-wait.js';
import { resolveQuorum } from './quorum.js';
import { staggeredCalls } from './staggered-calls.js';
import { expiresAtMs } from './ttl.js';
import type { ReadRepair } from './read-repair.js';
import { unpackHashes, versionHash } from './merkle.js';
import type { LocalReplica } from './replica.js';
import { preferenceListForKey, type Ring } from './ring.js';
import { TransportError, type Logger, type Runtime } from './ports.js';
import type { ClientOp, ClientResult, RpcRequest, WriteCondition } from './rpc.js';
import type { RpcClient } from './rpc-client.js';
import type { ActorId, CausalContext, NodeId, SiblingValue, VersionedObject } from './types.js';

export interface CoordinatorDeps {
  readonly self: NodeId;
  readonly actor: ActorId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly detector: FailureDetector;
  readonly readRepair: ReadRepair;
  readonly ring: () => Ring;
  readonly log: Logger;
}

type Write = Extract<ClientOp, { op: 'put' | 'delete' }>;
type Read = Extract<ClientOp, { op: 'get' }>;
type Target = ReturnType<typeof preferenceListForKey>;

export class Coordinator {
  private readonly failures: FailureLog;

  constructor(private readonly deps: CoordinatorDeps) {
    this.failures = new FailureLog({ log: deps.log, now: () => deps.runtime.now() });
  }

  /** Entry point for a client request received by this node. */
  async execute(op: ClientOp): Promise<ClientResult> {
    const target = preferenceListForKey(this.deps.ring(), op.key);
    if (target.primaries.includes(this.deps.self)) return this.coordinate(op, target);
    return this.forward(op, target.primaries);
  }

  /**
   * A request forwarded by a peer: coordinated here, never forwarded again (so it never loops). A
   * node whose ring no longer makes it a primary refuses, and the sender tries the next primary.
   */
  coordinateForwarded(op: ClientOp): Promise<ClientResult> {
    const target = preferenceListForKey(this.deps.ring(), op.key);
    if (!target.primaries.includes(this.deps.self)) throw new KvError('not_replica', `${this.deps.self} is not a primary of partition ${target.partition}`);
    return this.coordinate(op, target);
  }

  private coordinate(op: ClientOp, target: Target): Promise<ClientResult> {
    return op.op === 'get' ? this.read(op, target) : this.write(op, target);
  }

  private async forward(op: ClientOp, primaries: readonly NodeId[]): Promise<ClientResult> {
    for (const peer of this.upFirst(primaries)) {
      try {
        const reply = await this.deps.rpc.call(peer, { type: 'forward', request: op }, op.timeoutMs + forwardMarginMs);
        return reply.result;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        this.deps.log.debug({ peer, reason: err.reason }, 'forward failed, trying the next primary');
      }
    }
    const ring = this.deps.ring();
    return this.unavailable(resolveQuorum(op.op === 'get' ? op.r : op.w, ring.n, ring.members.length), 0);
  }

  private write(op: Write, target: Target): Promise<ClientResult> {
    return op.condition === undefined ? this.store(op, target) : this.conditional(op, op.condition, target);
  }

  /**
   * A conditional write (docs/api.md, Conditional requests): a read at r=quorum first, in the op's
   * timeout, then the write only if the condition holds on the merged version, made with the context
   * read. Check and write are not atomic: a write this read did not see (concurrent, or on replicas
   * outside its quorum) is not superseded, and survives as a sibling.
   */
  private async conditional(op: Write, condition: WriteCondition, target: Target): Promise<ClientResult> {
    const started = this.deps.runtime.now();
    const read = await this.read({ op: 'get', key: op.key, r: 'quorum', pr: 0, timeoutMs: op.timeoutMs }, target);
    if (!read.ok) return read;
    const context = conditionalContext(condition, read.object, op.context, this.deps.runtime.wallClockMs());
    if (context === undefined) {
      const why = condition.kind === 'absent' ? 'the key has a live value' : 'the current version is not the one the context names';
      return { ok: false, node: this.deps.self, code: 'precondition_failed', message: `Precondition failed: ${why}; nothing was changed.`, details: {} };
    }
    // The write gets what is left of the timeout (at least 1 ms: the read met its quorum in time).
    const timeoutMs = Math.max(1, op.timeoutMs - (this.deps.runtime.now() - started));
    // The read took time: a ring adopted meanwhile may have moved the partition away from this node,
    // whose replica would then refuse the write (found by the simulator). Nothing was written: answer
    // unavailable, and store with the replicas the current ring names.
    const now = preferenceListForKey(this.deps.ring(), op.key);
    if (!now.primaries.includes(this.deps.self)) return this.unavailable(resolveQuorum(op.w, this.deps.ring().n, this.deps.ring().members.length), 0);
    return this.store({ ...op, context, timeoutMs }, now);
  }

  private async store(op: Write, { primaries, pending, fallbacks, partition }: Target): Promise<ClientResult> {
    const ring = this.deps.ring();
    const required = resolveQuorum(op.w, ring.n, ring.members.length);
    const requiredPrimary = resolveQuorum(op.pw, ring.n, ring.members.length);
    if (required > primaries.length) return this.unavailable(required, 0);
    const deadline = this.deps.runtime.now() + op.timeoutMs;

    const written = await this.writeLocally(op, partition);
    if (written === 'too_many_siblings') return this.tooManySiblings();
    if (written.object.siblings.length > siblingsWarn) {
      this.deps.log.warn({ key: op.key, siblings: written.object.siblings.length }, 'many siblings: clients are writing without a context');
    }

    // Each fallback stands in for at most one primary, so every ack is a distinct node.
    const spare = fallbacks.filter((f) => this.deps.detector.isUp(f));
    const takeFallback = () => spare.shift();
    const slots: Promise<Reply<true>>[] = [Promise.resolve({ node: this.deps.self, primary: true, value: true })];
    for (const peer of primaries) {
      if (peer !== this.deps.self) slots.push(this.replicateSlot(peer, op.key, written.object, deadline, takeFallback));
    }
    // Nodes receiving the partition get the write too, uncounted: a miss is found by their Merkle check.
    const toPending = pending.map((peer) => this.tryReplicate(peer, { type: 'replicate', key: op.key, object: written.object }, op.timeoutMs));
    // Slots outlive the answer: a late one may still end in a hint.
    void this.deps.replica.sendingWhile(op.key, Promise.allSettled([...slots, ...toPending]));
    const outcome = await awaitQuorum(this.deps.runtime, slots, { total: required, primary: requiredPrimary }, op.timeoutMs).decided;
    if (!outcome.met) return this.unavailable(required, outcome.replies.length, requiredPrimary, outcome.replies.filter((r) => r.primary).length);
    return { ok: true, node: this.deps.self, object: written.object, context: written.writerContext };
  }

  /**
   * Applies a client write to this node's replica. One that would leave the key with more than
   * siblingsMax siblings changes nothing: the client must read, resolve and write with the context read.
   */
  private async writeLocally(op: Write, partition: Target['partition']): Promise<UpdateResult | 'too_many_siblings'> {
    const wallMs = this.deps.runtime.wallClockMs();
    const value: SiblingValue =
      op.op === 'delete'
        ? { kind: 'tombstone', deletedAtMs: wallMs }
        : op.ttlSeconds === undefined
          ? { kind: 'value', data: op.data, contentType: op.contentType }
          : { kind: 'value', data: op.data, contentType: op.contentType, expiresAtMs: expiresAtMs(wallMs, op.ttlSeconds) };
    let result: UpdateResult | 'too_many_siblings' | undefined;
    await this.deps.replica.update(
      op.key,
      (current) => {
        // A delete without a context removes what this replica has seen (API.md, DELETE).
        const context = op.context ?? (op.op === 'delete' ? (current?.context ?? emptyContext) : undefined);
        const updated = update(current, context, this.deps.actor, value, this.deps.runtime.wallClockMs() * dotCountersPerMs);
        result = updated.object.siblings.length > siblingsMax ? 'too_many_siblings' : updated;
        return result === 'too_many_siblings' ? undefined : updated.object;
      },
      partition,
    );
    return result!;
  }

  private tooManySiblings(): ClientResult {
    return {
      ok: false,
      node: this.deps.self,
      code: 'too_many_siblings',
      message: `The write would leave the key with more than ${siblingsMax} siblings; read it, resolve them and write with the context read.`,
      details: { siblingsMax },
    };
  }

  /**
   * Gets `object` to `primary`, or failing that to a fallback as a hint for it. If neither takes
   * it, this node keeps the hint itself (it already counted once toward w) and the slot fails.
   */
  private async replicateSlot(
    primary: NodeId,
    key: string,
    object: VersionedObject,
    deadline: number,
    takeFallback: () => NodeId | undefined,
  ): Promise<Reply<true>> {
    const remaining = () => deadline - this.deps.runtime.now();
    const direct = { type: 'replicate', key, object } as const;
    const believedUp = this.deps.detector.isUp(primary);
    if (believedUp && (await this.tryReplicate(primary, direct, remaining()))) return { node: primary, primary: true, value: true };
    for (let fallback = takeFallback(); fallback !== undefined && remaining() > 0; fallback = takeFallback()) {
      if (await this.tryReplicate(fallback, { ...direct, hintFor: primary }, remaining())) {
        return { node: fallback, primary: false, value: true };
      }
    }
    // No fallback took it: try the primary anyway, the detector's "down" may be stale.
    if (!believedUp && (await this.tryReplicate(primary, direct, remaining()))) return { node: primary, primary: true, value: true };
    await this.deps.replica.storeHint(primary, key, object).catch((err: unknown) => {
      this.failures.failed('keeping a hint for a primary that missed a write', err, { primary, key });
    });
    throw new Error(`no node took the write for ${primary}`);
  }

  private async tryReplicate(peer: NodeId, request: Extract<RpcRequest, { type: 'replicate' }>, timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return false;
    try {
      await this.deps.rpc.call(peer, request, timeoutMs);
      return true;
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      return false;
    }
  }

  private async read(op: Read, { primaries }: Target): Promise<ClientResult> {
    const ring = this.deps.ring();
    const required = resolveQuorum(op.r, ring.n, ring.members.length);
    const requiredPrimary = resolveQuorum(op.pr, ring.n, ring.members.length);
    if (required > primaries.length) return this.unavailable(required, 0);

    const staggered = staggeredCalls(this.deps.runtime, this.readCalls(op, primaries), required, readSpeculateAfterMs);
    const { decided, all } = awaitQuorum(this.deps.runtime, staggered.calls, { total: required, primary: requiredPrimary }, op.timeoutMs);
    void decided.finally(() => staggered.stop()).catch(() => undefined);
    // Once every replica asked has answered (or the deadline passed), repair the stale ones.
    const repaired = all.then((replies) => this.deps.readRepair.repair(op.key, replies, merge(replies)));
    void this.deps.replica.sendingWhile(op.key, repaired);
    repaired.catch((err: unknown) => this.failures.failed('read repair', err, { key: op.key }));
    const outcome = await decided;
    if (!outcome.met) return this.unavailable(required, outcome.replies.length);
    const merged = merge(outcome.replies);
    return { ok: true, node: this.deps.self, object: merged, context: merged?.context ?? emptyContext };
  }

  /**
   * One call per primary, to start in this order: this node first, then the peers believed up (the
   * read starts the first `r` of them, staggeredCalls the others only if needed). This node reads
   * its own copy; the others are asked for the hash of their version first (Cassandra's digest
   * reads; the hash storage keeps for the Merkle trees, read without the object): a peer holding
   * the same version answers in a few bytes, and only one holding another version is asked for its
   * object, in a second round trip. A reply counts once its version is known, so a quorum still
   * merges the versions of `r` replicas.
   */
  private readCalls(op: Read, primaries: readonly NodeId[]): Array<() => Promise<Reply<VersionedObject | undefined>>> {
    const { key, timeoutMs } = op;
    const deadline = this.deps.runtime.now() + timeoutMs;
    const { self } = this.deps;
    const ordered = [...primaries.filter((p) => p === self), ...this.upFirst(primaries.filter((p) => p !== self))];
    let local: Promise<VersionedObject | undefined> | undefined;
    let hashed: Promise<bigint | null | undefined> | undefined;
    const readLocal = () => (local ??= this.deps.replica.get(key));
    const localHash = () => (hashed ??= readLocal().then((o) => (o === undefined ? null : versionHash(key, o)), () => undefined));
    return ordered.map((node) => async (): Promise<Reply<VersionedObject | undefined>> => {
      if (node === self) return { node, primary: true, value: await readLocal() };
      const remainingMs = deadline - this.deps.runtime.now();
      const { digest } = await this.deps.rpc.call(node, { type: 'readDigest', key }, remainingMs);
      const same = (digest === null ? null : unpackHashes(digest)[0]) === (await localHash());
      return { node, primary: true, value: same ? await readLocal() : await this.readReplica(node, key, deadline - this.deps.runtime.now()) };
    });
  }

  /** Live-looking nodes first, in their order; the others are still tried, the detector is only advice. */
  private upFirst(nodes: readonly NodeId[]): NodeId[] {
    const { detector } = this.deps;
    return [...nodes.filter((n) => detector.isUp(n)), ...nodes.filter((n) => !detector.isUp(n))];
  }

  private async readReplica(peer: NodeId, key: string, timeoutMs: number): Promise<VersionedObject | undefined> {
    const reply = await this.deps.rpc.call(peer, { type: 'read', key }, timeoutMs);
    return reply.object ?? undefined;
  }

  /** The 503 of a quorum not met; a write's pw, when it is what failed, is named in the message. */
  private unavailable(required: number, acked: number, requiredPrimary = 0, ackedPrimary = 0): ClientResult {
    const primaries = acked >= required && ackedPrimary < requiredPrimary ? ` (${requiredPrimary} of them primaries; ${ackedPrimary} primaries answered)` : '';
    return {
      ok: false,
      node: this.deps.self,
      code: 'quorum_unavailable',
      message: `Needed ${required} replicas, ${acked} answered in time${primaries}.`,
      details: { required, acked },
    };
  }
}

/**
 * The context a conditional write is made with, or undefined when its condition does not hold on
 * `current` (the merged quorum read). `absent`: no live value (a tombstone does not count), written
 * with the read's context so it supersedes what the read saw (joined with the one sent, if any).
 * `match`: the read's context names exactly the events of the condition's, and is written with.
 */
function conditionalContext(condition: WriteCondition, current: VersionedObject | undefined, sent: CausalContext | undefined, nowMs: number): CausalContext | undefined {
  const seen = current?.context ?? emptyContext;
  if (condition.kind === 'match') return sameContext(seen, condition.context) ? condition.context : undefined;
  if (liveValues(current, nowMs).length > 0) return undefined;
  return sent === undefined ? seen : joinContexts(seen, sent);
}

function merge(replies: readonly Reply<VersionedObject | undefined>[]): VersionedObject | undefined {
  return replies.reduce<VersionedObject | undefined>(
    // The same object twice (replicas whose digests matched this node's copy) merges to itself.
    (acc, r) => (r.value === undefined || r.value === acc ? acc : acc === undefined ? r.value : sync(acc, r.value)),
    undefined,
  );
}
