// Internal RPC client: one undici Pool (keep-alive connections) per peer, msgpack bodies.
// Requests to the same peer issued in the same event-loop turn travel as one batch in one HTTP
// request: under load this divides the per-request HTTP cost (parsing, syscalls) by the batch
// size. Every failure becomes a TransportError the core understands.
import { Pool, errors as undiciErrors } from 'undici';
import { TransportError, type Transport } from '../core/ports.js';
import { invariant } from '../core/assert.js';
import { InvariantError } from '../core/errors.js';
import { quotedTextCharsMax, rpcBatchMax, rpcConnectionsPerPeer, rpcConnectTimeoutMs, rpcKeepAliveMs } from '../core/limits.js';
import type { RpcRequest, RpcResponse } from '../core/rpc.js';
import type { NodeId } from '../core/types.js';
import { decodeRpcOutcomes, encodeRpc, rpcContentType, type RpcOutcome } from './codec.js';
import { credentialFor, rpcAuthHeader } from './auth.js';

export const rpcPath = '/internal/rpc';

interface Pending {
  readonly request: RpcRequest;
  readonly timeoutMs: number;
  resolve(response: RpcResponse): void;
  reject(err: TransportError | InvariantError): void;
}

export class HttpTransport implements Transport {
  private readonly pools = new Map<NodeId, Pool>();
  private readonly queues = new Map<NodeId, Pending[]>();
  private readonly headers: Record<string, string>;

  constructor(
    private peerUrls: ReadonlyMap<NodeId, string>,
    secret: string | undefined,
  ) {
    this.headers = { 'content-type': rpcContentType };
    if (secret !== undefined) this.headers[rpcAuthHeader] = credentialFor(secret);
  }

  call(peer: NodeId, request: RpcRequest, timeoutMs: number): Promise<RpcResponse> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { request, timeoutMs, resolve, reject };
      // A forwarded client request waits for a whole quorum: never make quick replica calls wait behind it.
      if (request.type === 'forward') return void this.send(peer, [pending]);
      let queue = this.queues.get(peer);
      if (!queue) {
        queue = [];
        this.queues.set(peer, queue);
        setImmediate(() => this.flush(peer));
      }
      queue.push(pending);
      if (queue.length >= rpcBatchMax) this.flush(peer);
    });
  }

  /** The members' URLs changed (the ring did): later calls use the new ones, a moved peer gets a new pool. */
  updatePeers(peerUrls: ReadonlyMap<NodeId, string>): void {
    for (const [peer, pool] of this.pools) {
      if (peerUrls.get(peer) !== this.peerUrls.get(peer)) {
        this.pools.delete(peer);
        void pool.close();
      }
    }
    this.peerUrls = peerUrls;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }

  private flush(peer: NodeId): void {
    const queue = this.queues.get(peer);
    if (!queue) return;
    this.queues.delete(peer);
    void this.send(peer, queue);
  }

  private async send(peer: NodeId, batch: readonly Pending[]): Promise<void> {
    const timeoutMs = Math.max(...batch.map((p) => p.timeoutMs));
    let outcomes: readonly RpcOutcome[];
    try {
      invariant(batch.length >= 1 && batch.length <= rpcBatchMax, () => `transport: a batch of ${batch.length} requests for ${peer}`);
      outcomes = await this.post(peer, batch.map((p) => p.request), timeoutMs);
    } catch (err) {
      // Our own bug stays a bug for every caller; anything else is the peer's or the network's.
      const error = err instanceof TransportError || err instanceof InvariantError ? err : toTransportError(peer, err);
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome && 'ok' in outcome) p.resolve(outcome.ok);
      else p.reject(new TransportError(peer, 'protocol', `${peer} failed the call: ${outcome?.error ?? 'no answer in batch'}`));
    });
  }

  /**
   * One POST, retried once on a new connection when the connection failed under it (a peer that
   * restarted leaves pooled keep-alive connections that fail the next request they carry), if every
   * request in the batch may run twice: all but `forward` merge idempotently. A timeout is not retried.
   */
  private async post(peer: NodeId, requests: RpcRequest[], timeoutMs: number): Promise<readonly RpcOutcome[]> {
    try {
      return await this.postOnce(peer, requests, timeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const connectionLost = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
      if (!connectionLost || requests.some((r) => r.type === 'forward')) throw err;
      return this.postOnce(peer, requests, timeoutMs);
    }
  }

  private async postOnce(peer: NodeId, requests: RpcRequest[], timeoutMs: number): Promise<readonly RpcOutcome[]> {
    // No AbortSignal: its timer would outlive every call. These two bound the wait for the peer.
    const res = await this.poolFor(peer).request({
      path: rpcPath,
      method: 'POST',
      headers: this.headers,
      body: encodeRpc(requests),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode === 401) throw new TransportError(peer, 'unauthorized', `${peer} refused our cluster credential`);
    if (res.statusCode !== 200) {
      throw new TransportError(peer, 'protocol', `${peer} answered HTTP ${res.statusCode}: ${body.toString('utf8', 0, quotedTextCharsMax)}`);
    }
    const outcomes = decodeRpcOutcomes(body);
    if (!outcomes.ok) throw new TransportError(peer, 'protocol', `${peer} sent an invalid reply: ${outcomes.problem}`);
    if (outcomes.value.length !== requests.length) {
      throw new TransportError(peer, 'protocol', `${peer} answered a batch of ${requests.length} with ${outcomes.value.length} outcomes`);
    }
    return outcomes.value;
  }

  private poolFor(peer: NodeId): Pool {
    let pool = this.pools.get(peer);
    if (pool) return pool;
    const url = this.peerUrls.get(peer);
    if (url === undefined) throw new TransportError(peer, 'unreachable', `${peer} is not a known peer`);
    pool = new Pool(url, { connections: rpcConnectionsPerPeer, pipelining: 1, keepAliveTimeout: rpcKeepAliveMs, connect: { timeout: rpcConnectTimeoutMs } });
    this.pools.set(peer, pool);
    return pool;
  }
}

function toTransportError(peer: NodeId, err: unknown): TransportError {
  const e = err as Error & { code?: string };
  const timedOut =
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError ||
    e instanceof undiciErrors.ConnectTimeoutError;
  return new TransportError(peer, timedOut ? 'timeout' : 'unreachable', `${peer}: ${e.code ?? e.name}: ${e.message}`);
}
