// The fastify schemas of the admin and membership routes (docs/api.md section 3): documentation
// only (bodies are checked by zod in membership-routes.ts, answers are serialized as built).
import { keyBytesMax } from '../core/limits.js';
import { errorRef, errorResponses, jsonResponse, tagNames } from './openapi-schemas.js';

const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const strings = { type: 'array', items: str } as const;
const ints = { type: 'array', items: int } as const;

/** An object with these properties, all required unless listed in `optional`. */
function obj(properties: Record<string, object>, optional: readonly string[] = []) {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) } as const;
}

// ---- admin ----

const healthBody = (status: string) => obj({ status: { type: 'string', const: status }, node: str });

export const healthSchema = {
  operationId: 'health',
  summary: 'Readiness',
  description: '`200` when the node is ready; `503` while it starts or stops.',
  tags: [tagNames.admin],
  response: {
    200: jsonResponse('Ready.', healthBody('ok')),
    ...errorResponses([]),
    503: jsonResponse('Not ready: starting (`{"status": "starting"}`), or stopping (the `shutting_down` error).', { anyOf: [healthBody('starting'), { $ref: errorRef }] }),
  },
} as const;

export const memberView = obj({
  id: str,
  url: { type: ['string', 'null'] },
  membership: { ...str, description: 'Its part in the ring: joining, valid, leaving (or exiting).' },
  status: { type: 'string', enum: ['up', 'down', 'unknown'], description: 'As this node\'s failure detector sees it.' },
  phi: { type: ['number', 'null'], description: 'The failure detector\'s suspicion, 2 decimals; null for this node and a member never heard from.' },
  hintsPending: { ...int, description: 'Hints this node holds for the member.' },
});

const clusterView = obj({
  node: str,
  n: int,
  partitions: int,
  ringVersion: { ...int, description: 'How many ring changes this node\'s ring was made after.' },
  claimant: { ...str, description: 'The member that makes ring changes.' },
  members: { type: 'array', items: memberView },
  ring: { type: 'array', items: obj({ partition: int, owners: strings, pending: strings }) },
});

export const clusterSchema = {
  operationId: 'cluster',
  summary: 'The cluster as this node sees it',
  description: 'Members with their status and phi, and each partition\'s replicas (owners) and receivers (pending).',
  tags: [tagNames.admin],
  response: { 200: jsonResponse('This node\'s view.', clusterView), ...errorResponses([]) },
} as const;

export const metricsSchema = {
  operationId: 'metrics',
  summary: 'Prometheus metrics',
  description: 'Every series carries the label `node`. docs/api.md section 3 lists them.',
  tags: [tagNames.admin],
  response: {
    200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: str } } },
    ...errorResponses([]),
  },
} as const;

const replicaSibling = {
  type: 'object',
  description: 'A value (`value` base64, `contentType`) or a tombstone (`deleted`, `deletedAt`).',
  properties: {
    dot: { ...str, description: '`actor:counter`: two nodes hold the same version when their dots and contexts are equal.' },
    value: { type: 'string', contentEncoding: 'base64' },
    contentType: str,
    deleted: { type: 'boolean', const: true },
    deletedAt: { type: 'string', format: 'date-time' },
  },
  required: ['dot'],
} as const;

export const replicaSchema = {
  operationId: 'replicaCopy',
  summary: 'This node\'s own copy of a key',
  description: `No quorum, no repair: for checking convergence. The key is encoded as for /kv/{key} (1..${keyBytesMax} bytes of UTF-8).`,
  tags: [tagNames.admin],
  response: {
    200: jsonResponse('The copy; a tombstone-only copy is 200 too (every sibling deleted).', obj({ key: str, partition: int, context: str, siblings: { type: 'array', items: replicaSibling } })),
    ...errorResponses(['invalid_key', 'not_found']),
  },
} as const;

// ---- membership ----

const stagedChange = {
  type: 'object',
  properties: { kind: { type: 'string', enum: ['join', 'leave', 'replace', 'remove'] }, node: str, by: { ...str, description: 'replace only' } },
  required: ['kind', 'node'],
} as const;

const ringChange = {
  ringVersion: int,
  claimant: str,
  staged: { type: 'array', items: stagedChange },
  partitionsMoving: int,
};

const membershipErrors = errorResponses(['membership_refused', 'claimant_unreachable']);

/** A route that stages, commits, clears or cancels: answers the ring after the change. */
function ringChangeRoute(operationId: string, summary: string, description: string, body: object, extra: Record<string, object> = {}) {
  return {
    operationId,
    summary,
    description,
    tags: [tagNames.membership],
    docBody: body,
    response: { 200: jsonResponse('The ring after the change.', obj({ ...ringChange, ...extra })), ...membershipErrors },
  } as const;
}

const nodeBody = obj({ node: str });

export const joinSchema = ringChangeRoute('stageJoin', 'Stage a join', 'Stages the join of a node started with `--join` (that start stages it already; this re-stages it after a clear).', nodeBody);
export const leaveSchema = ringChangeRoute('stageLeave', 'Stage a leave', 'Stages: the node hands every partition away, then is removed and stops.', nodeBody);
export const replaceSchema = ringChangeRoute('stageReplace', 'Stage a replacement', 'Stages: `by` (started with `--join`) takes exactly `node`\'s partitions; `node` then leaves.', obj({ node: str, by: str }));
export const removeSchema = ringChangeRoute(
  'stageRemove', 'Stage a removal',
  'Stages the removal of a node that will never return; its partitions are rebuilt from the surviving replicas. A node the claimant believes up needs `force`.',
  obj({ node: str, force: { type: 'boolean' } }, ['force']),
);
export const commitSchema = ringChangeRoute('commit', 'Commit the staged changes', 'Applies every staged change at once.', obj({}));
export const clearSchema = ringChangeRoute('clear', 'Drop the staged changes', 'Drops every staged change.', obj({}));
export const cancelSchema = ringChangeRoute(
  'cancelTransfers', 'Cancel transfers',
  'Stops every moving partition, or one: its target goes back to its current replicas.',
  obj({ partition: { type: 'integer', minimum: 0 } }, ['partition']),
  { partitionsCancelled: ints },
);

const planView = obj({
  ringVersion: int,
  claimant: str,
  changes: { type: 'array', items: stagedChange },
  members: { type: 'array', items: obj({ id: str, status: str, before: int, after: int }) },
  partitionsMoving: int,
  transfers: { type: 'array', items: obj({ partition: int, to: str, keys: nullableInt }) },
  keysMoving: int,
  ownersMoved: int,
  ownersMovedMin: int,
});

export const planSchema = {
  operationId: 'plan',
  summary: 'What a commit would do',
  description: 'Members\' partitions before and after, the transfers with their key counts (null when no replica answered). `409` when the staged changes cannot be planned (e.g. fewer than N members would be valid).',
  tags: [tagNames.membership],
  response: { 200: jsonResponse('The plan of the staged changes.', planView), ...errorResponses(['membership_refused']) },
} as const;

const transferStates = ['queued', 'streaming', 'verifying', 'done', 'failed'];
const progressFields = {
  from: { type: ['string', 'null'] },
  keys: int,
  bytes: int,
  keysPerSecond: int,
  bytesPerSecond: int,
  error: { type: ['string', 'null'] },
};

export const transfersView = obj({
  ringVersion: int,
  partitionsMoving: int,
  keysLeft: int,
  etaSeconds: nullableInt,
  transfers: {
    type: 'array',
    items: obj({
      partition: int,
      to: str,
      leaving: strings,
      state: { type: 'string', enum: [...transferStates, 'unknown'] },
      ...progressFields,
      keysTotal: nullableInt,
      etaSeconds: nullableInt,
    }),
  },
});

export const transfersSchema = {
  operationId: 'transfers',
  summary: 'Every moving partition',
  description: 'Each receiver\'s progress, gathered from the receivers, with the time left at the rate so far.',
  tags: [tagNames.membership],
  response: { 200: jsonResponse('The transfers of the committed plan.', transfersView), ...errorResponses([]) },
} as const;

const limitsView = obj({ concurrency: int, bytesPerSecond: int });

export const localTransfersSchema = {
  operationId: 'localTransfers',
  summary: 'This node\'s own transfers',
  description: 'What /admin/transfers gathers from this node, its transfer limits, and the partitions it is handing away (`dropping`).',
  tags: [tagNames.membership],
  response: {
    200: jsonResponse(
      'This node\'s transfers.',
      obj({ node: str, limits: limitsView, transfers: { type: 'array', items: obj({ partition: int, state: { type: 'string', enum: transferStates }, ...progressFields }) }, dropping: ints }),
    ),
    ...errorResponses([]),
  },
} as const;

export const transferLimitsSchema = {
  operationId: 'setTransferLimits',
  summary: 'Change this node\'s transfer limits',
  description: 'Partitions received at once (1..64) and bytes received per second (1024..10737418240); either may be left out.',
  tags: [tagNames.membership],
  docBody: obj({ concurrency: { type: 'integer', minimum: 1, maximum: 64 }, bytesPerSecond: { type: 'integer', minimum: 1024, maximum: 10 * 1024 ** 3 } }, ['concurrency', 'bytesPerSecond']),
  response: { 200: jsonResponse('The limits now in force.', obj({ node: str, limits: limitsView })), ...errorResponses([]) },
} as const;

export const partitionKeysSchema = {
  operationId: 'partitionKeys',
  summary: 'Keys per partition on this node',
  description: 'The key count of every partition this node serves (the plan\'s key counts).',
  tags: [tagNames.membership],
  response: {
    200: jsonResponse('Counts by partition.', obj({ node: str, keys: { type: 'object', additionalProperties: int, description: 'partition -> keys' } })),
    ...errorResponses([]),
  },
} as const;

// ---- backups ----

const backupHeaderDocs = {
  'X-Kvorum-Backup-Sha256': { type: 'string', description: 'SHA-256 of the body, hex: the CLI checks the download against it.' },
  'X-Kvorum-Backup-Pages': { type: 'integer', description: 'SQLite pages the online backup copied.' },
  'X-Kvorum-Backup-Taken-At-Ms': { type: 'integer', description: 'When the copy began (ms since the epoch); the copy holds every write acknowledged before it, and more.' },
  'X-Kvorum-Ring-Version': { type: 'integer', description: 'The ring version this node held when the copy began.' },
} as const;

export const backupSchema = {
  operationId: 'backup',
  summary: 'An online backup of this node\'s database',
  description:
    'Copies this node\'s SQLite database with SQLite\'s online backup API while it keeps serving, and streams the copy: one self-contained SQLite file (the node\'s keys, hints, and the ring it last saw). One backup at a time per node. Restore it with `kvorum restore` (docs/api.md section 3, Backups).',
  tags: [tagNames.admin],
  response: {
    200: { description: 'The database file.', headers: backupHeaderDocs, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    ...errorResponses(['backup_in_progress', 'backup_failed']),
  },
} as const;
