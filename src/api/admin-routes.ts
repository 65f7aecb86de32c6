// The admin API (API.md section 3): health, cluster view, Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import { preferenceList, type Ring } from '../core/ring.js';
import { asPartitionId, type NodeId } from '../core/types.js';
import type { NodeMetrics } from './metrics.js';

export type MemberStatus = 'up' | 'down' | 'unknown';

export interface AdminRoutesOptions {
  readonly self: NodeId;
  readonly ring: () => Ring;
  readonly peerUrls: ReadonlyMap<NodeId, string>;
  readonly memberStatus: (id: NodeId) => MemberStatus;
  readonly ready: () => boolean;
  readonly metrics: NodeMetrics;
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  app.get('/health', async (_request, reply) => {
    if (!opts.ready()) return reply.status(503).send({ status: 'starting', node: opts.self });
    return { status: 'ok', node: opts.self };
  });

  app.get('/cluster', async () => {
    const ring = opts.ring();
    return {
      node: opts.self,
      n: ring.n,
      partitions: ring.partitions,
      members: ring.members.map((id) => ({ id, url: opts.peerUrls.get(id) ?? null, status: opts.memberStatus(id) })),
      ring: Array.from({ length: ring.partitions }, (_, p) => ({
        partition: p,
        owners: preferenceList(ring, asPartitionId(p)).primaries,
      })),
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
