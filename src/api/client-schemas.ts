// The fastify schemas of the client routes (docs/api.md section 2): what fastify checks (the
// querystring, as it always has; request headers are only typed as strings) and what the OpenAPI
// document says of each route. Shared pieces: openapi-schemas.ts.
import {
  anyBytes, batchBodySchema, batchResultsSchema, clientQuery, contentTypeRequestHeader, contextHeaderDoc, contextRequestHeader, errorResponses, etagHeaderDoc,
  expiresAtHeaderDoc, ifMatchRequestHeader, ifNoneMatchGetHeader, ifNoneMatchPutHeader, jsonResponse, listPageSchema, listQuerySchema, noContent, siblingsSchema,
  tagNames,
} from './openapi-schemas.js';

const tags = [tagNames.client];

const contextOnTombstone = {
  'X-Kvorum-Context': { type: 'string', description: 'Present when a tombstone is known: writing with it supersedes the delete.' },
} as const;

/** The answers of a read (GET, and PUT with returnbody=true). */
const readAnswers = {
  200: { ...anyBytes, description: 'The single current value as the body, with its stored Content-Type.', headers: { ...contextHeaderDoc, ...etagHeaderDoc, ...expiresAtHeaderDoc } },
  300: jsonResponse('Concurrent versions (siblings): write one merged value with this context to resolve them.', siblingsSchema, { ...contextHeaderDoc, ...etagHeaderDoc }),
} as const;

export const kvGetSchema = {
  operationId: 'getKey',
  summary: 'Read a key',
  description:
    'The merge of the replies of `r` replicas (`pr` of them primaries). `200` one value, `300` siblings, `404` no live value (never written, or deleted).',
  tags,
  querystring: clientQuery(['r', 'pr', 'timeout']),
  docHeaders: { type: 'object', properties: { ...ifNoneMatchGetHeader } },
  response: {
    ...readAnswers,
    304: noContent('If-None-Match listed the ETag of this answer: no body.', { ...contextHeaderDoc, ...etagHeaderDoc }),
    ...errorResponses(['invalid_key', 'invalid_quorum', 'invalid_timeout', 'invalid_ttl', 'invalid_precondition', 'quorum_unavailable', 'overloaded']),
    404: { ...errorResponses(['not_found'])[404], headers: { ...contextOnTombstone } },
  },
} as const;

export const kvPutSchema = {
  operationId: 'putKey',
  summary: 'Write a key',
  description:
    'Stores the body (any bytes, up to the node\'s valueBytesMax, 1 MiB by default) as the value once `w` replicas (`pw` of them primaries) committed it. Without X-Kvorum-Context the write is concurrent with everything stored and may become a sibling. A `503` write may still be stored on the replicas that acked it: read, then write with the context read, rather than retry blindly.',
  tags,
  querystring: clientQuery(['w', 'pw', 'timeout', 'returnbody', 'ttl']),
  docHeaders: { type: 'object', properties: { ...contentTypeRequestHeader, ...contextRequestHeader, ...ifMatchRequestHeader, ...ifNoneMatchPutHeader } },
  docBody: anyBytes,
  response: {
    204: noContent('Stored on `w` replicas. The context covers what the request\'s context covered plus the new version.', contextHeaderDoc),
    ...readAnswers,
    ...errorResponses([
      'invalid_key', 'invalid_quorum', 'invalid_timeout', 'invalid_context', 'invalid_content_type', 'invalid_ttl', 'invalid_precondition', 'value_too_large',
      'precondition_failed', 'too_many_siblings', 'quorum_unavailable', 'overloaded',
    ]),
  },
} as const;

export const kvDeleteSchema = {
  operationId: 'deleteKey',
  summary: 'Delete a key',
  description:
    'Writes a tombstone once `w` replicas committed it. Send the X-Kvorum-Context of a read: without it only the versions the coordinating node has seen are removed.',
  tags,
  querystring: clientQuery(['w', 'pw', 'timeout']),
  docHeaders: { type: 'object', properties: { ...contextRequestHeader, ...ifMatchRequestHeader } },
  response: {
    204: noContent('Deleted (a tombstone is stored); a later GET is `404`.', contextHeaderDoc),
    ...errorResponses([
      'invalid_key', 'invalid_quorum', 'invalid_timeout', 'invalid_context', 'invalid_ttl', 'invalid_precondition', 'precondition_failed', 'too_many_siblings',
      'quorum_unavailable', 'overloaded',
    ]),
  },
} as const;

export const listSchema = {
  operationId: 'listKeys',
  summary: 'List keys',
  description:
    'One page of live keys (not values), by partition then by key bytes. A coverage query: each partition is read on `r` primaries (default one). Follow `cursor` until it is null; a page may be short or empty while it is not.',
  tags,
  querystring: listQuerySchema,
  response: {
    200: jsonResponse('One page of keys and the cursor of the next.', listPageSchema),
    ...errorResponses(['invalid_key', 'invalid_limit', 'invalid_cursor', 'invalid_quorum', 'invalid_timeout', 'quorum_unavailable', 'overloaded']),
  },
} as const;

export const batchSchema = {
  operationId: 'batch',
  summary: 'Run up to 100 operations',
  description:
    'Gets, puts and deletes, each answered as it would be alone. Checked whole before anything runs (`400 invalid_batch`, nothing run). Not atomic: one key\'s operations run in order, different keys concurrently.',
  tags,
  docBody: batchBodySchema,
  response: {
    200: jsonResponse('One result per operation, in order.', batchResultsSchema),
    ...errorResponses(['invalid_batch', 'value_too_large', 'overloaded']),
  },
} as const;
