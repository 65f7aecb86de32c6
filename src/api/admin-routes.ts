// The admin API (docs/api.md section 3): health, cluster view, Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import { encodeContext } from '../core/context-token.js';
import type { LocalReplica } from '../core/replica.js';
import { partitionOf, type Ring } from '../core/ring.js';
import { clusterSchema, healthSchema, metricsSchema, replicaSchema } from './admin-schemas.js';
import { sendError } from './errors.js';
import { keyFromUrl } from './key.js';
import type { NodeId } from '../core/types.js';
import type { NodeMetrics } from './metrics.js';
import { clusterHeadView, phiView, siblingViews, type ClusterView, type ReplicaCopyView } from './views.js';

import type { PeerStatus } from '../core/failure-detector.js';
import type { Membership } from '../core/membership.js';

export interface AdminRoutesOptions {
  readonly self: NodeId;
  readonly ring: () => Ring;
  readonly membership: Membership;
  readonly memberStatus: (id: NodeId) => PeerStatus;
  /** The failure detector's phi for the member; undefined for this node and a member never heard from. */
  readonly memberPhi: (id: NodeId) => number | undefined;
  /** Hints this node keeps per target, for /cluster and `kvorum status`. */
  readonly hintCounts: () => ReadonlyMap<NodeId, number>;
  readonly ready: () => boolean;
  readonly replica: LocalReplica;
  readonly metrics: NodeMetrics;
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  app.get('/health', { schema: healthSchema }, async (_request, reply) => {
    if (!opts.ready()) return reply.status(503).send({ status: 'starting', node: opts.self });
    return { status: 'ok', node: opts.self };
  });

  app.get('/cluster', { schema: clusterSchema }, async (): Promise<ClusterView> => {
    const ring = opts.ring();
    const state = opts.membership.state();
    return {
      ...clusterHeadView(opts.self, state, ring),
      members: state.members.filter((m) => m.status !== 'removed').map((m) => ({
        id: m.id,
        url: m.url,
        membership: m.status,
        status: opts.memberStatus(m.id),
        phi: phiView(opts.memberPhi(m.id)),
        hintsPending: opts.hintCounts().get(m.id) ?? 0,
      })),
    };
  });

  // This node's own copy of a key, without any quorum: for operators checking convergence.
  app.get('/replica/kv/*', { schema: replicaSchema }, async (request, reply) => {
    const key = keyFromUrl(request.url.replace(/^\/replica/, ''));
    const object = await opts.replica.get(key);
    if (!object) return sendError(reply, 'not_found', 'This node holds no copy of the key.');
    const view: ReplicaCopyView = {
      key,
      partition: partitionOf(opts.ring(), key),
      context: encodeContext(object.context, key),
      siblings: siblingViews(object),
    };
    return view;
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    reply.type(opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
