// Internal RPC over plain HTTP: one POST per batch, over an undici Pool (keep-alive connections) per
// peer. The transport uses it for peers that do not offer the channel (nodes of an older version);
// the route (api/rpc-routes.ts) stays for them and for tools.
import { Pool, errors as undiciErrors } from 'undici';
import { TransportError } from '../core/ports.js';
import { quotedTextCharsMax, rpcConnectionsPerPeer, rpcConnectTimeoutMs, rpcKeepAliveMs } from '../core/limits.js';
import type { NodeId } from '../core/types.js';
import { rpcContentType } from './codec.js';
import { rpcAuthHeader } from './auth.js';
import type { TlsIdentity } from './tls-identity.js';

export const rpcPath = '/internal/rpc';

export class HttpPoster {
  private readonly pools = new Map<NodeId, { readonly url: string; readonly pool: Pool; readonly tlsGeneration: number }>();
  private readonly headers: Record<string, string>;

  constructor(
    authorization: string | undefined,
    private readonly tls?: TlsIdentity,
  ) {
    this.headers = { 'content-type': rpcContentType };
    if (authorization !== undefined) this.headers[rpcAuthHeader] = authorization;
  }

  /**
   * One POST of `body` (an encoded batch); resolves with the reply's bytes. Retried once on a new
   * connection when the connection failed under it (a peer that restarted leaves pooled keep-alive
   * connections that fail the next request they carry) if `retryable`. A timeout is not retried.
   */
  async post(peer: NodeId, url: string, body: Buffer, timeoutMs: number, retryable: boolean): Promise<Buffer> {
    try {
      return await this.postOnce(peer, url, body, timeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const connectionLost = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
      if (!connectionLost || !retryable) throw toTransportError(peer, err);
      return this.postOnce(peer, url, body, timeoutMs).catch((again: unknown) => {
        throw toTransportError(peer, again);
      });
    }
  }

  /** Closes the pool of a peer whose URL changed. */
  forget(peer: NodeId): void {
    void this.pools.get(peer)?.pool.close();
    this.pools.delete(peer);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.pool.close()));
    this.pools.clear();
  }

  private async postOnce(peer: NodeId, url: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
    // No AbortSignal: its timer would outlive every call. These two bound the wait for the peer.
    const res = await this.poolFor(peer, url).request({ path: rpcPath, method: 'POST', headers: this.headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const reply = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode === 401) throw new TransportError(peer, 'unauthorized', `${peer} refused our cluster credential`);
    if (res.statusCode === 403) throw new TransportError(peer, 'unauthorized', `${peer} refused our TLS client certificate (--tls-peer-auth)`);
    if (res.statusCode !== 200) {
      throw new TransportError(peer, 'protocol', `${peer} answered HTTP ${res.statusCode}: ${reply.toString('utf8', 0, quotedTextCharsMax)}`);
    }
    return reply;
  }

  /** The peer's pool; a new one when its URL changed or the TLS material was reloaded (the old one finishes its requests). */
  private poolFor(peer: NodeId, url: string): Pool {
    const known = this.pools.get(peer);
    const tlsGeneration = this.tls?.generation ?? 0;
    if (known?.url === url && known.tlsGeneration === tlsGeneration) return known.pool;
    if (known) this.forget(peer);
    // An https peer's certificate is checked against our CA (undici checks the name); ours goes with --tls-peer-auth.
    const tlsOptions = url.startsWith('https:') ? (this.tls?.clientOptions() ?? {}) : {};
    const connect = { ...tlsOptions, timeout: rpcConnectTimeoutMs };
    const pool = new Pool(url, { connections: rpcConnectionsPerPeer, pipelining: 1, keepAliveTimeout: rpcKeepAliveMs, connect });
    this.pools.set(peer, { url, pool, tlsGeneration });
    return pool;
  }
}

function toTransportError(peer: NodeId, err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as Error & { code?: string };
  const timedOut =
    e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError || e instanceof undiciErrors.ConnectTimeoutError;
  return new TransportError(peer, timedOut ? 'timeout' : 'unreachable', `${peer}: ${e.code ?? e.name}: ${e.message}`);
}
