// GET /admin/overview (docs/api.md section 3, Overview): the whole cluster in one call, for the web
// console (/ui) and `kvorum status`. The asked node adds what it sees (status, phi, the ring) to
// what each member says of itself (GET /admin/overview/local) and the transfers /admin/transfers
// computes; a member that does not answer within overviewMemberTimeoutMs is reported unreachable.
import type { FastifyInstance } from 'fastify';
import type { PeerStatus } from '../core/failure-detector.js';
import { overviewMemberTimeoutMs } from '../core/limits.js';
import type { NodeId } from '../core/types.js';
import { fromMembers, transfersView, type MembershipRoutesOptions } from './membership-routes.js';
import type { NodeMetrics } from './metrics.js';
import { localOverviewSchema, overviewSchema } from './overview-schemas.js';
import { clusterHeadView, phiView, ringVersionOf, type LocalOverviewView, type PeerExchangeView, type OverviewMemberView, type OverviewView, type RequestTotalsView } from './views.js';

export interface OverviewRoutesOptions extends MembershipRoutesOptions {
  readonly metrics: NodeMetrics;
  readonly memberStatus: (id: NodeId) => PeerStatus;
  readonly memberPhi: (id: NodeId) => number | undefined;
  readonly hintCounts: () => ReadonlyMap<NodeId, number>;
  /** Anti-entropy exchanges this node completed, by peer (core/anti-entropy.ts). */
  readonly antiEntropyExchanges: () => readonly PeerExchangeView[];
}

/** The routes whose requests the overview counts: client data requests, not the console's own polls nor node-to-node RPC. */
const clientRoutes = new Set(['/kv', '/kv/*', '/batch']);

async function requestTotals(metrics: NodeMetrics): Promise<RequestTotalsView> {
  const { values } = await metrics.latency.get();
  let count = 0;
  let latencySecondsSum = 0;
  const byLe = new Map<string, number>();
  for (const { labels, value, metricName } of values) {
    if (!clientRoutes.has(String(labels.route))) continue;
    if (metricName?.endsWith('_count')) count += value;
    else if (metricName?.endsWith('_sum')) latencySecondsSum += value;
    else if (metricName?.endsWith('_bucket')) {
      const le = String((labels as Record<string, unknown>)['le']);
      byLe.set(le, (byLe.get(le) ?? 0) + value);
    }
  }
  const buckets = [...byLe]
    .map(([le, n]) => ({ le: le === '+Inf' ? null : Number(le), count: n }))
    .sort((a, b) => (a.le ?? Infinity) - (b.le ?? Infinity));
  return { count, latencySecondsSum, buckets };
}

/** What this node says of itself: GET /admin/overview/local. */
async function localOverview(opts: OverviewRoutesOptions): Promise<LocalOverviewView> {
  return {
    node: opts.self,
    ringVersion: ringVersionOf(opts.membership.state()),
    uptimeSeconds: Math.round(process.uptime()),
    hintsHeld: Object.fromEntries(opts.hintCounts()),
    antiEntropy: opts.antiEntropyExchanges(),
    requests: await requestTotals(opts.metrics),
  };
}

/** One member's anti-entropy summary: lag is the time since its most recent completed exchange with any peer. */
function antiEntropySummary(local: LocalOverviewView): OverviewMemberView['antiEntropy'] {
  const peers = local.antiEntropy;
  return {
    sinceLastMs: peers.length === 0 ? null : Math.min(...peers.map((p) => p.sinceLastMs)),
    exchanges: peers.reduce((n, p) => n + p.exchanges, 0),
    keysRepaired: peers.reduce((n, p) => n + p.keysRepaired, 0),
    peers,
  };
}

async function overview(opts: OverviewRoutesOptions, authorization: string | undefined): Promise<OverviewView> {
  const state = opts.membership.state();
  const ring = opts.membership.ring();
  const [locals, transfers] = await Promise.all([
    fromMembers<LocalOverviewView>(state, '/admin/overview/local', opts.tls, authorization, overviewMemberTimeoutMs),
    transfersView(opts, authorization, overviewMemberTimeoutMs),
  ]);
  const hintsFor = (id: string) => [...locals.values()].reduce((n, l) => n + (l.hintsHeld[id] ?? 0), 0);
  const members = state.members.filter((m) => m.status !== 'removed').map((m): OverviewMemberView => {
    const local = locals.get(m.id);
    return {
      id: m.id,
      url: m.url,
      membership: m.status,
      status: opts.memberStatus(m.id),
      phi: phiView(opts.memberPhi(m.id)),
      reachable: local !== undefined,
      ringVersion: local?.ringVersion ?? null,
      uptimeSeconds: local?.uptimeSeconds ?? null,
      hintsHeld: local === undefined ? null : Object.values(local.hintsHeld).reduce((n, c) => n + c, 0),
      hintsFor: hintsFor(m.id),
      antiEntropy: local === undefined ? null : antiEntropySummary(local),
      requests: local?.requests ?? null,
    };
  });
  return { ...clusterHeadView(opts.self, state, ring), members, transfers };
}

export async function overviewRoutes(app: FastifyInstance, opts: OverviewRoutesOptions): Promise<void> {
  app.get('/admin/overview', { schema: overviewSchema }, (request) => overview(opts, request.headers.authorization));
  app.get('/admin/overview/local', { schema: localOverviewSchema }, () => localOverview(opts));
}
