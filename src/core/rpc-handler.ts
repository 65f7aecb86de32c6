// Dispatches internal RPC from peers to the part of the core that owns it.
import type { AntiEntropy } from './anti-entropy.js';
import type { Coordinator } from './coordinator.js';
import { KvError } from './errors.js';
import type { LocalReplica } from './replica.js';
import type { Ring } from './ring.js';
import type { RpcRequest, RpcResponse } from './rpc.js';
import type { TombstoneReaper } from './tombstone-reaper.js';
import type { NodeId } from './types.js';

export interface RpcHandlerDeps {
  readonly self: NodeId;
  readonly ring: () => Ring;
  readonly replica: LocalReplica;
  readonly coordinator: Coordinator;
  readonly antiEntropy: AntiEntropy;
  readonly reaper: TombstoneReaper;
}

export class RpcHandler {
  constructor(private readonly deps: RpcHandlerDeps) {}

  async handle(request: RpcRequest): Promise<RpcResponse> {
    switch (request.type) {
      case 'ping':
        return { type: 'pong', node: this.deps.self };
      case 'read':
        return { type: 'object', object: (await this.deps.replica.get(request.key)) ?? null };
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
    }
  }
}
