// The simulated network. Every message is an event: delivered after a seeded latency (so messages
// overtake each other: reordering), or lost, or delivered twice. Links are directed and named by
// who calls whom: like the real harness's per-link TCP proxies, a cut `a>b` stops a's calls to b
// (request or answer) while b's calls to a still work, and it either drops silently (the caller
// times out) or refuses (the caller fails at once with 'unreachable'). Node-to-node messages go
// through the real wire codec (msgpack), so two nodes never share an object and each sees exactly
// what the HTTP transport would deliver. Clients reach every node directly, never partitioned.
// What a node does with a message is its own business (node.ts): the network only delays, drops,
// duplicates and copies messages, and routes each to the endpoint's handler and its answer back.
import { TransportError, type Transport } from '../../src/core/ports.js';
import type { AdminOp, AdminOutcome, ClientOp, ClientResult, RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import type { NodeId } from '../../src/core/types.js';
import { decodeRpcBatch, decodeRpcOutcomes, encodeRpc } from '../../src/transport/codec.js';
import { unwrapChecked } from '../../src/core/rpc-schema.js';
import { anyGeneration, type EventOwner } from './queue.js';
import type { World } from './world.js';

export type CutMode = 'drop' | 'refuse';

/** A deep copy of plain data (what a client request or answer carries), much cheaper than structuredClone. */
export function copyPlain<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map(copyPlain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = copyPlain(v);
  return out as T;
}

/** A TransportError without a captured stack: thousands are made per run, and nobody reads their stacks. */
function transportError(peer: NodeId, reason: TransportError['reason'], message: string): TransportError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new TransportError(peer, reason, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** What a client saw: an answer, or a connection-level failure. */
export type ClientOutcome =
  | { readonly kind: 'result'; readonly result: ClientResult }
  | { readonly kind: 'refused' } // nothing reached the node: certainly not applied
  | { readonly kind: 'reset' } // the node died with the request in flight
  | { readonly kind: 'timeout' };

/** What an operator saw of a membership request: an answer, or a connection-level failure. */
export type AdminCallOutcome =
  | { readonly kind: 'answer'; readonly outcome: AdminOutcome }
  | { readonly kind: 'refused' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'timeout' };

/** What a node answers a node-to-node request: nothing listening, a response, or a failed handler. */
export type RpcAnswer =
  | { readonly kind: 'refused' }
  | { readonly kind: 'response'; readonly response: RpcResponse }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * A node as the network sees it: it owns the events of messages arriving at it, and handles them.
 * A handler calls `reply` at most once, and never once the incarnation that took the message died.
 */
export interface Endpoint extends EventOwner {
  readonly id: NodeId;
  handleRpc(request: RpcRequest, reply: (answer: RpcAnswer) => void): void;
  serveClient(op: ClientOp, reply: (outcome: ClientOutcome) => void): void;
  serveAdmin(op: AdminOp, reply: (outcome: AdminCallOutcome) => void): void;
}

export class SimNetwork {
  /** Directed cuts, keyed "from>to". */
  readonly cuts = new Map<string, CutMode>();
  /** Probability that one message (request or answer) is lost. */
  loss = 0;
  /** Probability that a request is delivered twice. */
  duplication = 0;
  /** Extra latency on every message to or from a node (delay spikes). */
  readonly slow = new Map<NodeId, number>();
  messages = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly world: World,
    private readonly nodes: ReadonlyMap<NodeId, Endpoint>,
  ) {}

  healAll(): void {
    this.cuts.clear();
    this.slow.clear();
    this.loss = 0;
    this.duplication = 0;
  }

  private cut(from: NodeId, to: NodeId): CutMode | undefined {
    return this.cuts.get(`${from}>${to}`);
  }

  /** Milliseconds for one message: mostly a few, sometimes a tail, more across a slowed node. */
  private latency(from: NodeId, to: NodeId): number {
    const p = this.world.prng;
    let ms = p.int(1, 5);
    if (p.chance(0.03)) ms += p.int(5, 60);
    const extra = Math.max(this.slow.get(from) ?? 0, this.slow.get(to) ?? 0);
    if (extra > 0) ms += Math.round(extra * (0.5 + p.next()));
    return ms;
  }

  private lost(): boolean {
    if (this.loss > 0 && this.world.prng.chance(this.loss)) {
      this.dropped++;
      return true;
    }
    return false;
  }

  /** The Transport of one incarnation of `self`: answers reach only that incarnation. */
  transportFor(self: Endpoint): Transport {
    const gen = self.gen;
    return {
      call: (peer: NodeId, request: RpcRequest, timeoutMs: number): Promise<RpcResponse> =>
        new Promise<RpcResponse>((resolve, reject) => {
          this.messages++;
          let done = false;
          const finish = (settle: () => void) => {
            if (done) return;
            done = true;
            timeout.cancelled = true;
            settle();
          };
          const unreachable = (why: string) => () => finish(() => reject(transportError(peer, 'unreachable', `${peer}: ${why}`)));
          const timeout = this.world.schedule(timeoutMs, () => finish(() => reject(transportError(peer, 'timeout', `${peer}: timed out after ${timeoutMs} ms`))), self, gen);
          const target = this.nodes.get(peer);
          if (target === undefined) return void this.world.schedule(0, unreachable('unknown peer'), self, gen);
          if (this.cut(self.id, peer) === 'refuse') return void this.world.schedule(this.latency(self.id, peer), unreachable('refused (partition)'), self, gen);
          if (this.cut(self.id, peer) === 'drop' || this.lost()) return; // the caller will time out
          const copies = this.duplication > 0 && this.world.prng.chance(this.duplication) ? 2 : 1;
          if (copies === 2) this.duplicated++;
          for (let i = 0; i < copies; i++) {
            const message = unwrapChecked(decodeRpcBatch(encodeRpc([request])), 'simulator')[0]!;
            // Owned by the peer but by no incarnation: it waits while the peer is paused and is
            // handled by whichever incarnation runs when it arrives.
            this.world.schedule(this.latency(self.id, peer), () => this.deliver(self, gen, target, message, finish, resolve, reject), target, anyGeneration);
          }
        }),
    };
  }

  private deliver(
    caller: Endpoint,
    callerGen: number,
    target: Endpoint,
    message: RpcRequest,
    finish: (settle: () => void) => void,
    resolve: (r: RpcResponse) => void,
    reject: (e: Error) => void,
  ): void {
    const peer = target.id;
    const answer = (settle: () => void) => {
      // The answer travels back over the same link, so a cut made meanwhile loses it too.
      if (this.cut(caller.id, peer) === 'drop' || this.lost()) return;
      this.world.schedule(this.latency(peer, caller.id), () => finish(settle), caller, callerGen);
    };
    target.handleRpc(message, (reply) => {
      switch (reply.kind) {
        case 'refused':
          return answer(() => reject(transportError(peer, 'unreachable', `${peer}: connection refused`)));
        case 'response': {
          const copy = unwrapChecked(decodeRpcOutcomes(encodeRpc([{ ok: reply.response }])), 'simulator')[0]!;
          return answer(() => ('ok' in copy ? resolve(copy.ok) : reject(transportError(peer, 'protocol', copy.error))));
        }
        case 'failed':
          return answer(() => reject(transportError(peer, 'protocol', `${peer} failed the call: ${reply.message}`)));
      }
    });
  }

  /** A client request to `node`, as the HTTP API would carry it; the client gives up after `timeoutMs`. */
  clientCall(nodeId: NodeId, op: ClientOp, timeoutMs: number): Promise<ClientOutcome> {
    return this.edgeCall<ClientOutcome>(nodeId, timeoutMs, (node, finish) => this.serveClient(node, copyPlain(op), finish));
  }

  /** An operator's membership request to `node` (its HTTP admin routes), like a client's. */
  adminCall(nodeId: NodeId, op: AdminOp, timeoutMs: number): Promise<AdminCallOutcome> {
    return this.edgeCall<AdminCallOutcome>(nodeId, timeoutMs, (node, finish) => {
      const request = copyPlain(op);
      return () => node.serveAdmin(request, (outcome) => {
        const copy: AdminCallOutcome = outcome.kind === 'answer' ? { kind: 'answer', outcome: copyPlain(outcome.outcome) } : outcome;
        this.world.schedule(1, () => finish(copy));
      });
    });
  }

  /** A request from outside the cluster (never partitioned): refused by a down node, else served one millisecond away. */
  private edgeCall<T extends { readonly kind: string }>(nodeId: NodeId, timeoutMs: number, serve: (node: Endpoint, finish: (o: T) => void) => () => void): Promise<T> {
    const node = this.nodes.get(nodeId)!;
    return new Promise<T>((resolve) => {
      let done = false;
      const finish = (outcome: T) => {
        if (done) return;
        done = true;
        timer.cancelled = true;
        resolve(outcome);
      };
      const timer = this.world.schedule(timeoutMs, () => finish({ kind: 'timeout' } as T));
      if (node.state === 'down') return void this.world.schedule(1, () => finish({ kind: 'refused' } as T));
      this.world.schedule(1, serve(node, finish), node, anyGeneration);
    });
  }

  private serveClient(node: Endpoint, op: ClientOp, finish: (o: ClientOutcome) => void): () => void {
    // Each answer is a copy (nodes and clients never share objects), one millisecond away.
    return () =>
      node.serveClient(op, (outcome) => {
        const copy: ClientOutcome = outcome.kind === 'result' ? { kind: 'result', result: copyPlain(outcome.result) } : outcome;
        this.world.schedule(1, () => finish(copy));
      });
  }
}
