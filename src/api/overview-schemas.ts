// The fastify schemas of GET /admin/overview and /admin/overview/local (overview-routes.ts):
// documentation only, answers are serialized as built.
import { memberView, transfersView } from './admin-schemas.js';
import { errorResponses, jsonResponse, tagNames } from './openapi-schemas.js';

const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const strings = { type: 'array', items: str } as const;

function obj(properties: Record<string, object>, optional: readonly string[] = []) {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) } as const;
}

const nullable = (schema: { type: string }, description?: string) => ({ ...schema, type: [schema.type, 'null'], ...(description ? { description } : {}) });

const peerExchange = obj({
  peer: str,
  sinceLastMs: { ...int, description: 'Milliseconds since this node last completed an exchange with the peer (measured by this node).' },
  lastKeysRepaired: int,
  lastPartitionsDiffering: int,
  exchanges: { ...int, description: 'Exchanges this node started and completed with the peer since it started.' },
  keysRepaired: int,
});

const requestTotals = obj({
  count: { ...int, description: 'Client requests (/kv, /kv/{key}, /batch) served since the node started.' },
  latencySecondsSum: num,
  buckets: {
    type: 'array',
    description: 'Cumulative: requests that took at most `le` seconds; the last `le` is null (all of them). Differences between two polls give the rate and latency of the interval.',
    items: obj({ le: { type: ['number', 'null'] }, count: int }),
  },
});

const localOverview = obj({
  node: str,
  ringVersion: int,
  uptimeSeconds: int,
  hintsHeld: { type: 'object', additionalProperties: int, description: 'Hints this node holds, by the member they are for.' },
  antiEntropy: { type: 'array', items: peerExchange },
  requests: requestTotals,
});

const antiEntropySummary = obj({
  sinceLastMs: nullable(int, 'Anti-entropy lag: milliseconds since the member last completed an exchange with any peer; null: none yet.'),
  exchanges: int,
  keysRepaired: int,
  peers: { type: 'array', items: peerExchange },
});

// /cluster's member fields but hintsPending (here: hintsHeld and hintsFor, from every member).
const { hintsPending: _hintsPending, ...clusterMemberFields } = memberView.properties;

const overviewMember = obj({
  ...clusterMemberFields,
  reachable: { type: 'boolean', description: 'Whether the member answered the asked node within the timeout; the fields below are null when not.' },
  ringVersion: nullable(int, 'The ring version the member holds.'),
  uptimeSeconds: nullable(int),
  hintsHeld: nullable(int, 'Hints the member holds for others.'),
  hintsFor: { ...int, description: 'Hints the reachable members hold for this member.' },
  antiEntropy: { anyOf: [antiEntropySummary, { type: 'null' }] },
  requests: { anyOf: [requestTotals, { type: 'null' }] },
});

const overviewView = obj({
  node: str,
  n: int,
  partitions: int,
  ringVersion: { ...int, description: 'The asked node\'s ring version.' },
  claimant: str,
  members: { type: 'array', items: overviewMember },
  ring: { type: 'array', items: obj({ partition: int, owners: strings, pending: strings }) },
  transfers: transfersView,
});

export const overviewSchema = {
  operationId: 'overview',
  summary: 'The whole cluster in one call',
  description:
    'What the web console (/ui) and `kvorum status` show: the ring, each member\'s status and phi as this node sees them, and what each member says of itself ' +
    '(ring version, hints, anti-entropy, client request totals); the transfers as /admin/transfers gives them. A member that does not answer within 1 s is `reachable: false`.',
  tags: [tagNames.admin],
  response: { 200: jsonResponse('The cluster as this node gathers it.', overviewView), ...errorResponses([]) },
} as const;

export const localOverviewSchema = {
  operationId: 'localOverview',
  summary: 'What this node says of itself for /admin/overview',
  description: 'Its ring version, the hints it holds per member, its anti-entropy exchanges per peer, and its client request totals.',
  tags: [tagNames.admin],
  response: { 200: jsonResponse('This node\'s part of the overview.', localOverview), ...errorResponses([]) },
} as const;
