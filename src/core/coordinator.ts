// The coordinator: turns one client operation into replica calls and a quorum decision
// (Dynamo section 4.5). Any node accepts a request; it coordinates if it is a primary replica of
// the key, otherwise it forwards to one that is. All I/O goes through the ports.
import { sync, update, emptyContext, type UpdateResult } from './dvv.js';
import { forwardMarginMs, siblingsWarn } from './limits.js';
import { awaitQuorum, type ReplicaCall } from './quorum-wait.js';
import { resolveQuorum } from './quorum.js';
import { preferenceListForKey, type Ring } from './ring.js';
import { TransportError, type Logger, type Runtime, type Storage, type Transport } from './runtime.js';
import type { ClientOp, ClientResult, RpcRequest, RpcResponse } from './rpc.js';
import type { ActorId, NodeId, PartitionId, SiblingValue, VersionedObject } from './types.js';

export interface CoordinatorDeps {
  readonly self: NodeId;
  readonly actor: ActorId;
  readonly runtime: Runtime;
  readonly transport: Transport;
  readonly storage: Storage;
  readonly ring: () => Ring;
  readonly log: Logger;
}

type Write = Extract<ClientOp, { op: 'put' | 'delete' }>;
type Read = Extract<ClientOp, { op: 'get' }>;
type Target = ReturnType<typeof preferenceListForKey>;

export class Coordinator {
  constructor(private readonly deps: CoordinatorDeps) {}

  /** Entry point for a client request received by this node. */
  async execute(op: ClientOp): Promise<ClientResult> {
    const target = preferenceListForKey(this.deps.ring(), op.key);
    if (target.primaries.includes(this.deps.self)) return this.coordinate(op, target);
    return this.forward(op, target.primaries);
  }

  /** Entry point for internal RPC from a peer. */
  async handleRpc(request: RpcRequest): Promise<RpcResponse> {
    switch (request.type) {
      case 'ping':
        return { type: 'pong', node: this.deps.self };
      case 'read':
        return { type: 'object', object: (await this.deps.storage.get(request.key)) ?? null };
      case 'replicate':
        await this.mergeLocal(request.key, request.object);
        return { type: 'ack' };
      case 'forward':
        // Coordinate here even if our ring disagrees, so a forwarded request never loops.
        return { type: 'result', result: await this.coordinate(request.request, preferenceListForKey(this.deps.ring(), request.request.key)) };
    }
  }

  private coordinate(op: ClientOp, target: Target): Promise<ClientResult> {
    return op.op === 'get' ? this.read(op, target) : this.write(op, target);
  }

  private async forward(op: ClientOp, primaries: readonly NodeId[]): Promise<ClientResult> {
    for (const peer of primaries) {
      try {
        const reply = await this.deps.transport.call(peer, { type: 'forward', request: op }, op.timeoutMs + forwardMarginMs);
        if (reply.type === 'result') return reply.result;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        this.deps.log.debug({ peer, reason: err.reason }, 'forward failed, trying the next primary');
      }
    }
    const required = op.op === 'get' ? op.r : op.w;
    return this.unavailable(resolveQuorum(required, this.deps.ring().n, this.deps.ring().members.length), 0);
  }

  private async write(op: Write, { primaries, partition }: Target): Promise<ClientResult> {
    const ring = this.deps.ring();
    const required = resolveQuorum(op.w, ring.n, ring.members.length);
    const requiredPrimary = resolveQuorum(op.pw, ring.n, ring.members.length);
    if (required > primaries.length) return this.unavailable(required, 0);

    const value: SiblingValue =
      op.op === 'put' ? { kind: 'value', data: op.data, contentType: op.contentType } : { kind: 'tombstone' };
    let result: UpdateResult | undefined;
    await this.deps.storage.update(op.key, partition, (current) => {
      // A delete without a context removes what this replica has seen (API.md, DELETE).
      const context = op.context ?? (op.op === 'delete' ? current?.context ?? emptyContext : undefined);
      result = update(current, context, this.deps.actor, value);
      return result.object;
    });
    const written = result!;
    if (written.object.siblings.length > siblingsWarn) {
      this.deps.log.warn({ key: op.key, siblings: written.object.siblings.length }, 'many siblings: clients are writing without a context');
    }

    const calls: ReplicaCall<true>[] = [{ node: this.deps.self, primary: true, reply: Promise.resolve(true) }];
    for (const peer of primaries) {
      if (peer === this.deps.self) continue;
      calls.push({ node: peer, primary: true, reply: this.replicate(peer, op.key, written.object, op.timeoutMs) });
    }
    const outcome = await awaitQuorum(this.deps.runtime, calls, { total: required, primary: requiredPrimary }, op.timeoutMs).decided;
    if (!outcome.met) return this.unavailable(required, outcome.replies.length);
    return { ok: true, node: this.deps.self, object: written.object, context: written.writerContext };
  }

  private async read(op: Read, { primaries }: Target): Promise<ClientResult> {
    const ring = this.deps.ring();
    const required = resolveQuorum(op.r, ring.n, ring.members.length);
    const requiredPrimary = resolveQuorum(op.pr, ring.n, ring.members.length);
    if (required > primaries.length) return this.unavailable(required, 0);

    const calls: ReplicaCall<VersionedObject | undefined>[] = primaries.map((node) => ({
      node,
      primary: true,
      reply: node === this.deps.self ? this.deps.storage.get(op.key) : this.readReplica(node, op.key, op.timeoutMs),
    }));
    const outcome = await awaitQuorum(this.deps.runtime, calls, { total: required, primary: requiredPrimary }, op.timeoutMs).decided;
    if (!outcome.met) return this.unavailable(required, outcome.replies.length);
    const merged = outcome.replies.reduce<VersionedObject | undefined>(
      (acc, r) => (r.value === undefined ? acc : acc === undefined ? r.value : sync(acc, r.value)),
      undefined,
    );
    return { ok: true, node: this.deps.self, object: merged, context: merged?.context ?? emptyContext };
  }

  private async mergeLocal(key: string, incoming: VersionedObject): Promise<void> {
    const partition: PartitionId = preferenceListForKey(this.deps.ring(), key).partition;
    await this.deps.storage.update(key, partition, (current) => (current ? sync(current, incoming) : incoming));
  }

  private async replicate(peer: NodeId, key: string, object: VersionedObject, timeoutMs: number): Promise<true> {
    const reply = await this.deps.transport.call(peer, { type: 'replicate', key, object }, timeoutMs);
    if (reply.type !== 'ack') throw new TransportError(peer, 'protocol', `expected ack, got ${reply.type}`);
    return true;
  }

  private async readReplica(peer: NodeId, key: string, timeoutMs: number): Promise<VersionedObject | undefined> {
    const reply = await this.deps.transport.call(peer, { type: 'read', key }, timeoutMs);
    if (reply.type !== 'object') throw new TransportError(peer, 'protocol', `expected object, got ${reply.type}`);
    return reply.object ?? undefined;
  }

  private unavailable(required: number, acked: number): ClientResult {
    return {
      ok: false,
      node: this.deps.self,
      code: 'quorum_unavailable',
      message: `Needed ${required} replicas, ${acked} answered in time.`,
      details: { required, acked },
    };
  }
}
