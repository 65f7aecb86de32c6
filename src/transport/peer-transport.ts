// Internal RPC client. Requests to the same peer issued in the same event-loop turn travel as one
// batch (msgpack). A batch goes over the peer's channel (peer-channel.ts: one long-lived connection,
// many batches in flight, no HTTP per batch); a peer that does not offer the channel (an older
// node) gets one HTTP POST per batch instead (http-post.ts). Every failure becomes a
// TransportError the core understands.
import { TransportError, type Transport } from '../core/ports.js';
import { invariant } from '../core/assert.js';
import { InvariantError } from '../core/errors.js';
import { channelFallbackRetryMs, rpcBatchMax, rpcConnectTimeoutMs } from '../core/limits.js';
import type { RpcRequest, RpcResponse } from '../core/rpc.js';
import type { NodeId } from '../core/types.js';
import { decodeRpcOutcomes, encodeRpc, type RpcOutcome } from './codec.js';
import { credentialFor } from './auth.js';
import { HttpPoster } from './http-post.js';
import { ChannelUnsupported, PeerChannel } from './peer-channel.js';
import type { TlsIdentity } from './tls-identity.js';

export { rpcPath } from './http-post.js';

/** Node's codes for a TLS handshake or certificate check that failed (ERR_TLS_CERT_ALTNAME_INVALID, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...). */
const tlsProblem = /\b(ERR_TLS_\w+|ERR_SSL_\w+|\w*CERT\w*|UNABLE_TO_\w+)\b/;

interface Pending {
  readonly request: RpcRequest;
  readonly timeoutMs: number;
  resolve(response: RpcResponse): void;
  reject(err: TransportError | InvariantError): void;
}

export class PeerTransport implements Transport {
  private readonly channels = new Map<NodeId, Promise<PeerChannel>>();
  /** Peers that answered the channel upgrade with 404, and until when HTTP is used for them. */
  private readonly httpOnlyUntil = new Map<NodeId, number>();
  private readonly queues = new Map<NodeId, Pending[]>();
  private readonly authorization: string | undefined;
  private readonly http: HttpPoster;

  constructor(
    private peerUrls: ReadonlyMap<NodeId, string>,
    secret: string | undefined,
    /** Our TLS material: checks https peers against our CA and, with --tls-peer-auth, presents our certificate. */
    private readonly tls?: TlsIdentity,
    /** Told why a channel could not be opened when TLS is the reason (a certificate not trusted): else a peer is just "down". */
    private readonly onTlsFailure?: (peer: NodeId, problem: string) => void,
  ) {
    this.authorization = secret === undefined ? undefined : credentialFor(secret);
    this.http = new HttpPoster(this.authorization, tls);
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

  /** The members' URLs changed (the ring did): later calls use the new ones, a moved peer gets a new connection. */
  updatePeers(peerUrls: ReadonlyMap<NodeId, string>): void {
    for (const peer of new Set([...this.peerUrls.keys(), ...peerUrls.keys()])) {
      if (peerUrls.get(peer) === this.peerUrls.get(peer)) continue;
      this.dropChannel(peer, 'the peer moved');
      this.httpOnlyUntil.delete(peer);
      this.http.forget(peer);
    }
    this.peerUrls = peerUrls;
  }

  async close(): Promise<void> {
    for (const peer of [...this.channels.keys()]) this.dropChannel(peer, 'transport closed');
    await this.http.close();
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
      outcomes = await this.exchange(peer, batch.map((p) => p.request), timeoutMs);
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

  /** One batch to `peer` and its checked outcomes, over the channel or, for a peer without one, HTTP. */
  private async exchange(peer: NodeId, requests: RpcRequest[], timeoutMs: number): Promise<readonly RpcOutcome[]> {
    const url = this.urlOf(peer);
    const body = encodeRpc(requests);
    // Every request but `forward` merges idempotently: those may run twice, and are retried once on
    // a fresh connection when the one they went out on broke under them (a peer that restarted).
    const retryable = requests.every((r) => r.type !== 'forward');
    const reply = this.usesHttp(peer) ? await this.http.post(peer, url, body, timeoutMs, retryable) : await this.overChannel(peer, url, body, timeoutMs, retryable);
    if (reply === undefined) return this.exchange(peer, requests, timeoutMs); // the peer turned out not to offer the channel
    const outcomes = decodeRpcOutcomes(reply);
    if (!outcomes.ok) throw new TransportError(peer, 'protocol', `${peer} sent an invalid reply: ${outcomes.problem}`);
    if (outcomes.value.length !== requests.length) {
      throw new TransportError(peer, 'protocol', `${peer} answered a batch of ${requests.length} with ${outcomes.value.length} outcomes`);
    }
    return outcomes.value;
  }

  /** The outcomes' bytes over the channel; undefined if the peer has no channel (it is then marked for HTTP). */
  private async overChannel(peer: NodeId, url: string, body: Buffer, timeoutMs: number, retryable: boolean): Promise<Buffer | undefined> {
    for (let attempt = 1; ; attempt++) {
      let channel: PeerChannel;
      try {
        channel = await this.channelFor(peer, url);
      } catch (err) {
        if (!(err instanceof ChannelUnsupported)) throw err;
        this.httpOnlyUntil.set(peer, performance.now() + channelFallbackRetryMs);
        return undefined;
      }
      try {
        return await channel.send(body, timeoutMs);
      } catch (err) {
        const lost = err instanceof TransportError && err.reason === 'unreachable';
        if (!lost || !retryable || attempt > 1) throw err;
      }
    }
  }

  private usesHttp(peer: NodeId): boolean {
    const until = this.httpOnlyUntil.get(peer);
    if (until === undefined) return false;
    if (until > performance.now()) return true;
    this.httpOnlyUntil.delete(peer); // try the channel again: the peer may have been upgraded
    return false;
  }

  /** The open channel to `peer`, opening one (shared by every caller meanwhile) if there is none. */
  private channelFor(peer: NodeId, url: string): Promise<PeerChannel> {
    const existing = this.channels.get(peer);
    if (existing) {
      const settledOpen = existing.then((c) => c.open, () => false);
      return settledOpen.then((open) => (open ? existing : this.reopen(peer, url, existing)));
    }
    return this.reopen(peer, url, undefined);
  }

  private reopen(peer: NodeId, url: string, stale: Promise<PeerChannel> | undefined): Promise<PeerChannel> {
    const current = this.channels.get(peer);
    if (current !== stale && current !== undefined) return this.channelFor(peer, url); // another caller reopened it
    // Asked at each open: a channel opened after a reload (SIGHUP) uses the new material.
    const opening = PeerChannel.open(peer, url, this.authorization, rpcConnectTimeoutMs, this.tls?.clientOptions());
    this.channels.set(peer, opening);
    // A failed open is not kept: the next call tries again.
    opening.catch((err: unknown) => {
      if (this.channels.get(peer) === opening) this.channels.delete(peer);
      if (err instanceof TransportError && tlsProblem.test(err.message)) this.onTlsFailure?.(peer, err.message);
    });
    return opening;
  }

  private dropChannel(peer: NodeId, why: string): void {
    const channel = this.channels.get(peer);
    this.channels.delete(peer);
    void channel?.then((c) => c.close(why), () => undefined);
  }

  private urlOf(peer: NodeId): string {
    const url = this.peerUrls.get(peer);
    if (url === undefined) throw new TransportError(peer, 'unreachable', `${peer} is not a known peer`);
    return url;
  }
}

function toTransportError(peer: NodeId, err: unknown): TransportError {
  const e = err as Error & { code?: string };
  return new TransportError(peer, 'unreachable', `${peer}: ${e.code ?? e.name}: ${e.message}`);
}
