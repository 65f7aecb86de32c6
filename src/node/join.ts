// `kvorum start --join URL`: before its first start, a node asks a member (any one: it forwards
// to the claimant) to add it as a joining member, and starts from the ring it gets back. It owns
// nothing until a committed plan gives it partitions.
import { backgroundRpcTimeoutMs } from '../core/limits.js';
import { TransportError } from '../core/ports.js';
import type { RingState } from '../core/ring-state.js';
import type { AdminOutcome } from '../core/rpc.js';
import { asNodeId } from '../core/types.js';
import { PeerTransport } from '../transport/peer-transport.js';
import type { TlsIdentity } from '../transport/tls-identity.js';
import type { NodeConfig } from './config.js';

/**
 * Registering is idempotent for the same id and URL, so a join that timed out (the claimant may
 * have registered it all the same) or found the claimant unreachable is asked again, a few times.
 * Each attempt waits longer than the member's own forward to the claimant, which may take up to
 * backgroundRpcTimeoutMs: with equal deadlines a slow but successful forward always failed the join.
 */
const joinAttemptsMax = 5;
const joinAttemptTimeoutMs = 2 * backgroundRpcTimeoutMs;
const joinRetryDelayMs = 1000;

/** Thrown when the cluster refuses the join or cannot be asked: the message says why, for the operator. */
export class JoinError extends Error {
  override readonly name = 'JoinError';
}

/** What to do about a member's refusal: 403 (--tls-peer-auth) is about our certificate, 401 about the secret. */
function refusalAdvice(joinUrl: string, err: TransportError): string {
  if (/certificate/.test(err.message)) return `${joinUrl} refused our TLS client certificate: start with one signed by the cluster's --tls-ca`;
  return `${joinUrl} refused our cluster secret: start with the cluster's secret (--secret-file)`;
}

export async function joinCluster(config: NodeConfig, joinUrl: string, selfUrl: string, tls?: TlsIdentity): Promise<RingState> {
  // The member's id is not known yet: it is addressed by URL under a placeholder name.
  const seed = asNodeId('join-seed');
  // An https member's certificate is checked against our CA, as every peer's is.
  const transport = new PeerTransport(new Map([[seed, joinUrl]]), config.secret, tls);
  const op = { op: 'register', id: config.id, url: selfUrl, partitions: config.partitions, n: config.n } as const;
  const ask = async (): Promise<AdminOutcome> => {
    const reply = await transport.call(seed, { type: 'admin', op, forwarded: false }, joinAttemptTimeoutMs);
    if (reply.type !== 'admin') throw new JoinError(`${joinUrl} answered a join with ${reply.type}`);
    return reply.outcome;
  };
  try {
    for (let attempt = 1; ; attempt++) {
      let outcome: AdminOutcome | TransportError;
      try {
        outcome = await ask();
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        if (err.reason === 'unauthorized') throw new JoinError(refusalAdvice(joinUrl, err));
        outcome = err;
      }
      if (!(outcome instanceof TransportError) && outcome.ok) return outcome.after;
      const transient = outcome instanceof TransportError ? outcome.reason === 'timeout' || outcome.reason === 'unreachable' : outcome.code === 'claimant_unreachable';
      if (!transient || attempt >= joinAttemptsMax) {
        throw new JoinError(outcome instanceof TransportError ? `cannot join through ${joinUrl}: ${outcome.message}` : `${joinUrl} refused the join: ${outcome.message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, joinRetryDelayMs));
    }
  } finally {
    await transport.close();
  }
}
