// The pieces of the OpenAPI document (docs/openapi.json, served at GET /openapi.json) that routes
// share: the Error body, error responses built from the catalog, the headers and the quorum
// parameters of the client API. Route files import them; openapi.ts registers the document.
//
// Response schemas here DOCUMENT answers, they do not shape them: buildApp serializes every JSON
// answer with JSON.stringify, as before any schema existed (fast-json-stringify would drop a
// property a schema does not name). A test checks the client routes' answers against the document.
//
// Two keys fastify ignores carry what only the document needs (openapi.ts's transform uses them):
// - `docBody`: a request body described but never validated by fastify (values are raw bytes,
//   membership bodies are checked by zod with catalogued messages);
// - `docHeaders`: request headers described but not given to fastify, which would otherwise run a
//   schema check on every request's headers for nothing (each route parses its own headers);
// - querystring `patternProperties` `^name$`: a parameter still checked as before on this route
//   (every /kv route has always checked them all) but meaningless there, so left out of the document.
//
// Documenting a route: give it `{ schema: { summary, description, tags: [tagNames.x], querystring?,
// docHeaders?, docBody?, response: { 200: jsonResponse(...), ...errorResponses([codes]) } } }`
// (see client-schemas.ts), then run `npm run openapi` and commit docs/openapi.json and
// src/client/openapi-types.ts. A new /kv query parameter goes in clientQueryParams and in the
// clientQuery([...]) list of the routes that use it; a new request header in a `...RequestHeader`
// constant here, spread into those routes' `headers`.
import { errorCatalog, type ErrorCode } from '../core/errors.js';
import {
  batchOpsMax, contentTypeBytesMax, contextTokenBytesMax, keyBytesMax, listCursorCharsMax, listLimitDefault, listLimitMax, requestTimeoutMsDefault, requestTimeoutMsMax, ttlSecondsMax,
} from '../core/limits.js';

export const tagNames = { client: 'client', admin: 'admin', membership: 'membership' } as const;

export const tagDocs = [
  { name: tagNames.client, description: 'Reads and writes of keys (docs/api.md section 2).' },
  { name: tagNames.admin, description: 'Health, the cluster view, metrics and one node\'s own copy of a key (docs/api.md section 3).' },
  { name: tagNames.membership, description: 'Staged ring changes and partition transfers (docs/api.md section 3, Membership). Any member takes them.' },
];

/** The one error body: `{error, message, ...details}` (details: `required` and `acked` on quorum_unavailable). */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error. `error` is a code of the catalog (docs/api.md, Errors); some codes add details, e.g. `quorum_unavailable` adds `required` and `acked`.',
  properties: {
    error: { type: 'string', enum: Object.keys(errorCatalog), description: 'The catalog code.' },
    message: { type: 'string', description: 'For people; may change between versions.' },
  },
  required: ['error', 'message'],
  additionalProperties: true,
} as const;

/** Every schema with an `$id`, added to the app once (app.addSchema) so routes can `$ref` them. */
export const sharedSchemas: readonly { readonly $id: string }[] = [errorSchema];

export const errorRef = `${errorSchema.$id}#`;

export const nodeHeaderDoc = {
  'X-Kvorum-Node': { type: 'string', description: 'The node that answered (on every answer; on /kv routes, the node that coordinated the request).' },
} as const;

export const contextHeaderDoc = {
  'X-Kvorum-Context': {
    type: 'string',
    description: 'The causal context: an opaque, URL-safe token of the versions seen. Send it back with a write or delete of the same key.',
  },
} as const;

/** A response header schema, as @fastify/swagger reads it from a response's `headers`. */
type HeaderDocs = Readonly<Record<string, { readonly type: string; readonly description: string }>>;

/** Codes any route can answer: a request the HTTP layer cannot take, a node stopping, a node bug. */
export const everyRouteErrors: readonly ErrorCode[] = ['bad_request', 'shutting_down', 'internal_error'];

/**
 * Error responses for `codes` (plus everyRouteErrors), one entry per status, each listing its codes
 * with the catalog's message. `headers` go on every one of them.
 */
export function errorResponses(codes: readonly ErrorCode[], headers: HeaderDocs = {}): Record<number, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, ...everyRouteErrors]) {
    const status = errorCatalog[code].status;
    const list = byStatus.get(status) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(status, list);
  }
  const responses: Record<number, object> = {};
  for (const [status, list] of byStatus) {
    const description = list.map((code) => `\`${code}\`: ${errorCatalog[code].message}`).join('\n\n');
    responses[status] = { description, $ref: errorRef, headers: { ...headers } };
  }
  return responses;
}

/**
 * A JSON answer's entry: `schema` with the response's description (and headers). The description
 * goes under the key @fastify/swagger takes for the response alone, not into the body's schema.
 */
export const jsonResponse = (description: string, schema: object, headers: HeaderDocs = {}) => ({ ...schema, 'x-response-description': description, headers: { ...headers } });

/** An answer without a body. */
export const noContent = (description: string, headers: HeaderDocs = {}) => ({ type: 'null', description, headers: { ...headers } });

/** Bytes of any media type: a stored value. */
export const anyBytes = { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } } as const;

// ---- The client API (/kv/{key}) ----

/** The path parameter of `/kv/{key}` and `/replica/kv/{key}` (the routes are wildcards: openapi.ts names it). */
export const keyParams = {
  type: 'object',
  properties: {
    key: {
      type: 'string',
      description: `One path segment, percent-encoded; decoded, 1..${keyBytesMax} bytes of UTF-8. \`/\` is \`%2F\`, \`+\` is a literal plus.`,
    },
  },
  required: ['key'],
} as const;

const quorumForms = '`1..N`, `one`, `quorum` or `all`';
const quorumParam = (description: string) => ({ type: 'string', maxLength: 16, description });

/** The client routes' query parameters, as fastify checks them (`r`..`returnbody`) and as the document shows them. */
export const clientQueryParams = {
  r: quorumParam(`Read quorum: distinct replicas that must answer, ${quorumForms}. Default: the node's --r.`),
  pr: quorumParam('How many of the `r` replies must come from primary replicas: `0..N`, `one`, `quorum` or `all`. Default 0.'),
  w: quorumParam(`Write quorum: distinct replicas that must store the write durably, ${quorumForms}. Default: the node's --w.`),
  pw: quorumParam('How many of the `w` acks must come from primary replicas: `0..N`, `one`, `quorum` or `all`. Default 0.'),
  timeout: {
    type: 'string',
    maxLength: 16,
    description: `How long the coordinator waits for the quorum, integer milliseconds 1..${requestTimeoutMsMax}. Default ${requestTimeoutMsDefault}.`,
  },
  returnbody: { type: 'string', enum: ['true', 'false'], description: '`true`: answer as a read would (`200` or `300` with the value(s)). Default `false`.' },
  ttl: {
    type: 'string',
    maxLength: 16,
    description: `The value expires this many seconds after the write, an integer in 1..${ttlSecondsMax}. Default: never. Refused (invalid_ttl) on GET and DELETE.`,
  },
} as const;

export type ClientQueryParam = keyof typeof clientQueryParams;

/**
 * A /kv route's querystring schema: `documented` parameters as properties, every other client
 * parameter still checked as before (as patternProperties the document leaves out).
 */
export function clientQuery(documented: readonly ClientQueryParam[]) {
  const properties: Record<string, object> = {};
  const patternProperties: Record<string, object> = {};
  for (const [name, schema] of Object.entries(clientQueryParams)) {
    if (documented.includes(name as ClientQueryParam)) properties[name] = schema;
    else patternProperties[`^${name}$`] = schema;
  }
  return { type: 'object', properties, patternProperties } as const;
}

/** Request headers of the client routes, documented (as `docHeaders`: the routes parse them themselves). */
export const contextRequestHeader = {
  'x-kvorum-context': {
    type: 'string',
    description: `The X-Kvorum-Context of an earlier read (or write) of this key, at most ${contextTokenBytesMax / 1024} KiB: the write supersedes exactly the versions it names. Without it the write is concurrent with everything stored.`,
  },
} as const;

export const ifMatchRequestHeader = {
  'if-match': {
    type: 'string',
    description: 'A context token (X-Kvorum-Context) of this key: write only if the key is still exactly at the version it names (else `412`); it is then the write\'s context. Not with X-Kvorum-Context or If-None-Match.',
  },
} as const;

export const ifNoneMatchPutHeader = {
  'if-none-match': { type: 'string', description: '`*`: write only if the key has no live value (else `412`). Checked against a quorum read, not atomically: see docs/api.md, Conditional requests.' },
} as const;

export const ifNoneMatchGetHeader = {
  'if-none-match': { type: 'string', description: '`*` or a list of ETags: `304 Not Modified` when the answer\'s ETag is listed.' },
} as const;

export const etagHeaderDoc = {
  ETag: { type: 'string', description: 'The version the read merged, `"<16 hex digits>"`: the same version has the same ETag through every node.' },
} as const;

export const expiresAtHeaderDoc = {
  'X-Kvorum-Expires-At': { type: 'string', description: 'When the value expires (written with `ttl`), in milliseconds since the epoch.' },
} as const;

export const contentTypeRequestHeader = {
  'content-type': {
    type: 'string',
    description: `Stored with the value and returned byte for byte on reads (at most ${contentTypeBytesMax} bytes, sent once). Default application/octet-stream.`,
  },
} as const;

/** `300 Multiple Choices`: concurrent versions. */
export const siblingsSchema = {
  type: 'object',
  properties: {
    context: { type: 'string', description: 'The same token as the X-Kvorum-Context header.' },
    siblings: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          value: { type: 'string', contentEncoding: 'base64', description: 'The value, base64.' },
          contentType: { type: 'string' },
          expiresAt: { type: 'integer', description: 'When this sibling expires (written with `ttl`), in milliseconds since the epoch.' },
        },
        required: ['value', 'contentType'],
      },
    },
  },
  required: ['context', 'siblings'],
} as const;

/** `GET /kv`: one page of a key listing. */
export const listPageSchema = {
  type: 'object',
  properties: {
    keys: { type: 'array', items: { type: 'string' }, description: 'Live keys (decoded), by partition then by UTF-8 bytes: stable, not globally sorted.' },
    cursor: { type: ['string', 'null'], description: 'Send it (with the same prefix) for the next page; `null` when the listing is complete.' },
  },
  required: ['keys', 'cursor'],
} as const;

export const listQuerySchema = {
  type: 'object',
  properties: {
    prefix: { type: 'string', description: `Only keys that start with it, 0..${keyBytesMax} bytes of UTF-8 (a query value: \`+\` is a space). Default: every key.` },
    limit: { type: 'string', maxLength: 16, description: `Keys per page, an integer in 1..${listLimitMax}. Default ${listLimitDefault}.` },
    cursor: { type: 'string', maxLength: listCursorCharsMax, description: 'The cursor of the previous page.' },
    r: quorumParam(`Primaries read per partition, ${quorumForms}; their live keys are merged. Default \`one\`.`),
    timeout: clientQueryParams.timeout,
  },
} as const;

const batchOpSchema = {
  type: 'object',
  description: 'One operation: fields as the query parameters and headers of its own request (docs/api.md, POST /batch).',
  properties: {
    op: { type: 'string', enum: ['get', 'put', 'delete'] },
    key: { type: 'string', description: `The key itself (not percent-encoded), 1..${keyBytesMax} bytes of UTF-8.` },
    value: { type: 'string', contentEncoding: 'base64', description: 'put: the value, base64 (padded).' },
    contentType: { type: 'string' },
    context: { type: 'string' },
    ifMatch: { type: 'string' },
    ifNoneMatch: { type: 'string' },
    r: { type: ['string', 'integer'] },
    pr: { type: ['string', 'integer'] },
    w: { type: ['string', 'integer'] },
    pw: { type: ['string', 'integer'] },
    timeout: { type: ['string', 'integer'] },
    ttl: { type: ['string', 'integer'] },
    returnbody: { type: ['string', 'boolean'] },
  },
  required: ['op', 'key'],
  additionalProperties: false,
} as const;

export const batchBodySchema = {
  content: {
    'application/json': {
      schema: { type: 'object', properties: { ops: { type: 'array', minItems: 1, maxItems: batchOpsMax, items: batchOpSchema } }, required: ['ops'] },
    },
  },
} as const;

export const batchResultsSchema = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          status: { type: 'integer', description: 'The status the operation would have had alone.' },
          headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'x-kvorum-context, content-type, etag, x-kvorum-expires-at, x-kvorum-node, when present.' },
          value: { type: 'string', contentEncoding: 'base64', description: 'A 200\'s value, base64.' },
          body: { description: 'The JSON body of a 300 (siblings) or of an error.' },
        },
        required: ['status', 'headers'],
      },
    },
  },
  required: ['results'],
} as const;
