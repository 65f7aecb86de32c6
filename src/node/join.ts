// `kvorum start --join URL`: before its first start, a node asks a member (any one: it forwards
// to the claimant) to add it as a joining member, and starts from the ring it gets back. It owns
// nothing until a committed plan gives it partitions.
import { backgroundRpcTimeoutMs } from '../core/limits.js';
import { TransportError } from '../core/ports.js';
import type { RingState } from '../core/ring-state.js';
import { asNodeId } from '../core/types.js';
import { HttpTransport } from '../transport/http-transport.js';
import type { NodeConfig } from './config.js';

/** Thrown when the cluster refuses the join or cannot be asked: the message says why, for the operator. */
export class JoinError extends Error {
  override readonly name = 'JoinError';
}

export async function joinCluster(config: NodeConfig, joinUrl: string, selfUrl: string): Promise<RingState> {
  // The member's id is not known yet: it is addressed by URL under a placeholder name.
  const seed = asNodeId('join-seed');
  const transport = new HttpTransport(new Map([[seed, joinUrl]]), config.secret);
  try {
    const op = { op: 'register', id: config.id, url: selfUrl, partitions: config.partitions, n: config.n } as const;
    const reply = await transport.call(seed, { type: 'admin', op, forwarded: false }, backgroundRpcTimeoutMs);
    if (reply.type !== 'admin') throw new JoinError(`${joinUrl} answered a join with ${reply.type}`);
    if (!reply.outcome.ok) throw new JoinError(`${joinUrl} refused the join: ${reply.outcome.message}`);
    return reply.outcome.after;
  } catch (err) {
    if (err instanceof TransportError && err.reason === 'unauthorized') throw new JoinError(`${joinUrl} refused our cluster secret: start with the cluster's --secret`);
    if (err instanceof TransportError) throw new JoinError(`cannot join through ${joinUrl}: ${err.message}`);
    throw err;
  } finally {
    await transport.close();
  }
}
