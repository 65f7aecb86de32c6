// Internal RPC client: one undici Pool (keep-alive connections) per peer, msgpack bodies, a
// deadline per call. Every failure becomes a TransportError the core understands.
import { Pool, errors as undiciErrors } from 'undici';
import { TransportError, type Transport } from '../core/runtime.js';
import { rpcConnectionsPerPeer } from '../core/limits.js';
import type { RpcRequest, RpcResponse } from '../core/rpc.js';
import type { NodeId } from '../core/types.js';
import { decodeRpc, encodeRpc, rpcContentType } from './codec.js';
import { credentialFor, rpcAuthHeader } from './auth.js';

export const rpcPath = '/internal/rpc';

export class HttpTransport implements Transport {
  private readonly pools = new Map<NodeId, Pool>();

  constructor(
    private readonly peerUrls: ReadonlyMap<NodeId, string>,
    private readonly secret: string | undefined,
  ) {}

  async call(peer: NodeId, request: RpcRequest, timeoutMs: number): Promise<RpcResponse> {
    const pool = this.poolFor(peer);
    const headers: Record<string, string> = { 'content-type': rpcContentType };
    if (this.secret !== undefined) headers[rpcAuthHeader] = credentialFor(this.secret);
    let status: number;
    let body: Buffer;
    try {
      const res = await pool.request({
        path: rpcPath,
        method: 'POST',
        headers,
        body: encodeRpc(request),
        // No AbortSignal: its timer outlives every call. The quorum deadline bounds the wait anyway.
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw toTransportError(peer, err);
    }
    if (status === 401) throw new TransportError(peer, 'unauthorized', `${peer} refused our cluster credential`);
    if (status !== 200) throw new TransportError(peer, 'protocol', `${peer} answered HTTP ${status}: ${body.toString('utf8', 0, 200)}`);
    try {
      return decodeRpc<RpcResponse>(body);
    } catch (err) {
      throw new TransportError(peer, 'protocol', `${peer} sent an undecodable body: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }

  private poolFor(peer: NodeId): Pool {
    let pool = this.pools.get(peer);
    if (pool) return pool;
    const url = this.peerUrls.get(peer);
    if (url === undefined) throw new TransportError(peer, 'unreachable', `${peer} is not a known peer`);
    pool = new Pool(url, { connections: rpcConnectionsPerPeer, pipelining: 1, keepAliveTimeout: 30_000, connect: { timeout: 2000 } });
    this.pools.set(peer, pool);
    return pool;
  }
}

function toTransportError(peer: NodeId, err: unknown): TransportError {
  const e = err as Error & { code?: string };
  const timedOut =
    e.name === 'TimeoutError' ||
    e.name === 'AbortError' ||
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError ||
    e instanceof undiciErrors.ConnectTimeoutError;
  return new TransportError(peer, timedOut ? 'timeout' : 'unreachable', `${peer}: ${e.code ?? e.name}: ${e.message}`);
}
