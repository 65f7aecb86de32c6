// The one way the core calls a peer. Every request type has exactly one reply type; a reply of
// another type is a protocol error, raised here so no caller inspects `reply.type` by hand. Every
// call also feeds the failure detector the same way: a pong (the detector's own probe) is a
// heartbeat, any other answer a sign of life, an unreachable peer is down. A timeout, a protocol
// error or a refused credential says nothing certain about liveness (a slow or misconfigured peer
// is still running), so it is not reported.
import { TransportError, type Transport } from './ports.js';
import type { RpcRequest, RpcResponse } from './rpc.js';
import type { NodeId } from './types.js';

/** The reply type each request type must get; the table is checked against both unions. */
export const replyTypeOf = {
  ping: 'pong',
  replicate: 'ack',
  read: 'object',
  readDigest: 'digest',
  forward: 'result',
  aeRoots: 'hashes',
  aeBranches: 'hashes',
  aeLeaves: 'hashes',
  aeKeys: 'keys',
  keyPending: 'pending',
  reap: 'reaped',
  ringGossip: 'ring',
  admin: 'admin',
  transferPage: 'entries',
  listKeys: 'keyPage',
} as const satisfies Record<RpcRequest['type'], RpcResponse['type']>;

export type ReplyTypeOf<T extends RpcRequest['type']> = (typeof replyTypeOf)[T];

/** The reply a request of this type gets. */
export type RpcReplyOf<R extends RpcRequest> = Extract<RpcResponse, { type: ReplyTypeOf<R['type']> }>;

/** What the client tells about peers' liveness (the FailureDetector). */
export interface PeerHealth {
  /** A pong arrived: a regular heartbeat, which the detector's estimator learns intervals from. */
  heartbeat(peer: NodeId): void;
  /** Any other reply arrived. */
  reportSuccess(peer: NodeId): void;
  reportFailure(peer: NodeId): void;
}

export class RpcClient {
  /**
   * `health` is looked up on each call, not at construction: the failure detector itself pings
   * through this client, so it is built after it.
   */
  constructor(
    private readonly transport: Transport,
    private readonly health: () => PeerHealth | undefined,
  ) {}

  /** Sends `request` and resolves with its reply variant; rejects with a TransportError. */
  async call<R extends RpcRequest>(peer: NodeId, request: R, timeoutMs: number): Promise<RpcReplyOf<R>> {
    let reply: RpcResponse;
    try {
      reply = await this.transport.call(peer, request, timeoutMs);
    } catch (err) {
      if (err instanceof TransportError && err.reason === 'unreachable') this.health()?.reportFailure(peer);
      throw err;
    }
    const expected: RpcResponse['type'] = replyTypeOf[request.type];
    if (reply.type !== expected) throw new TransportError(peer, 'protocol', `expected ${expected} for ${request.type}, got ${reply.type}`);
    // Told once per reply: a pong is not also a "success", which would count it twice.
    if (reply.type === 'pong') this.health()?.heartbeat(peer);
    else this.health()?.reportSuccess(peer);
    return reply as RpcReplyOf<R>;
  }
}
