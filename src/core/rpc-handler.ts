// Dispatches internal RPC from peers to the part of the core that owns it.
import type { AntiEntropy } from './anti-entropy.js';
import type { Coordinator } from './coordinator.js';
import { KvError } from './errors.js';
import type { LocalReplica } from './replica.js';
import type { Ring } from './ring.js';
import type { RpcRequest, RpcResponse } from './rpc.js';
import type { TombstoneReaper } from './tombstone-reaper.js';
import type { Membership } from './membership.js';
import type { Transfers } from './transfers.js';
import { partitionOf } from './ring.js';
import { packHashes } from './merkle.js';
import { asPartitionId, type NodeId, type PartitionId } from './types.js';

export interface RpcHandlerDeps {
  readonly self: NodeId;
  readonly ring: () => Ring;
  readonly replica: LocalReplica;
  readonly coordinator: Coordinator;
  readonly antiEntropy: AntiEntropy;
  readonly reaper: TombstoneReaper;
  readonly membership: Membership;
  readonly transfers: Transfers;
}

export class RpcHandler {
  constructor(private readonly deps: RpcHandlerDeps) {}

  async handle(request: RpcRequest): Promise<RpcResponse> {
    switch (request.type) {
      case 'ping':
        return { type: 'pong', node: this.deps.self };
      case 'read':
        this.mustHold(request.key);
        return { type: 'object', object: (await this.deps.replica.get(request.key)) ?? null };
      case 'readDigest': {
        const hash = await this.deps.replica.versionHashOf(request.key, this.mustHold(request.key));
        return { type: 'digest', digest: hash === undefined ? null : packHashes([hash]) };
      }
      case 'replicate':
        // A hint for a node that is not a member could never be handed off, and would block reaping the key.
        if (request.hintFor !== undefined && !this.deps.ring().members.includes(request.hintFor)) {
          throw new KvError('bad_request', `refused: hintFor ${request.hintFor} is not a member`);
        }
        if (request.hintFor !== undefined && request.hintFor !== this.deps.self) {
          await this.deps.replica.storeHint(request.hintFor, request.key, request.object);
        } else {
          await this.deps.replica.merge(request.key, request.object);
        }
        return { type: 'ack' };
      case 'forward':
        return { type: 'result', result: await this.deps.coordinator.coordinateForwarded(request.request) };
      case 'aeRoots':
      case 'aeBranches':
      case 'aeLeaves':
      case 'aeKeys':
        return this.deps.antiEntropy.handle(request);
      case 'keyPending':
        return { type: 'pending', pending: await this.deps.replica.mayStillSend(request.key) };
      case 'reap':
        return { type: 'reaped', reaped: await this.deps.reaper.reapLocal(request.key, request.digest) };
      case 'ringGossip':
        return { type: 'ring', ring: await this.deps.membership.gossipFrom(request.digest, request.ring) };
      case 'admin':
        return { type: 'admin', outcome: await this.deps.membership.admin(request.op, request.forwarded) };
      case 'transferPage':
        if (!this.deps.ring().replicas[request.partition]?.includes(this.deps.self)) throw new KvError('not_replica', `${this.deps.self} does not serve partition ${request.partition}`);
        return { type: 'entries', entries: await this.deps.transfers.page(asPartitionId(request.partition), request.afterKey, request.limit) };
      case 'listKeys': {
        // Only a primary answers: its copy is the one a listing counts on (a node receiving the partition may still lack keys).
        if (!this.deps.ring().replicas[request.partition]?.includes(this.deps.self)) throw new KvError('not_replica', `${this.deps.self} is not a primary of partition ${request.partition}`);
        const page = await this.deps.replica.listKeys(asPartitionId(request.partition), request.prefix, request.afterKey, request.limit);
        return { type: 'keyPage', keys: page.keys, next: page.next ?? null };
      }
    }
  }

  /** A replica copy is read or written only where the partition is held: never a stray row on a node that left it. */
  private mustHold(key: string): PartitionId {
    const partition = partitionOf(this.deps.ring(), key);
    if (!this.deps.transfers.accepts(partition)) throw new KvError('not_replica', `${this.deps.self} does not hold partition ${partition}`);
    return partition;
  }
}
