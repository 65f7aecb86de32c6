// The client API (docs/api.md section 2): GET/PUT/DELETE /kv/{key}.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Coordinator } from '../core/coordinator.js';
import { liveValues, contextIsEmpty } from '../core/dvv.js';
import { counterMaxAt, decodeContext, encodeContext } from '../core/context-token.js';
import { KvError } from '../core/errors.js';
import { contentTypeBytesMax, requestTimeoutMsDefault, requestTimeoutMsMax } from '../core/limits.js';
import { parseQuorumPair } from '../core/quorum.js';
import { parseTtl } from '../core/ttl.js';
import type { ClientOp, ClientResult, QuorumSpec } from '../core/rpc.js';
import type { CausalContext, VersionedObject } from '../core/types.js';
import { kvDeleteSchema, kvGetSchema, kvPutSchema } from './client-schemas.js';
import { sendError } from './errors.js';
import { keyFromUrl } from './key.js';
import type { NodeMetrics } from './metrics.js';
import { etagHeader, etagMatches, etagOf, readCondition, requestHeaderValues, writeCondition, type EtagMatch } from './preconditions.js';

export interface ClientRoutesOptions {
  readonly coordinator: Coordinator;
  readonly n: number;
  readonly defaults: { readonly r: QuorumSpec; readonly w: QuorumSpec };
  readonly valueBytesMax: number;
  readonly metrics: NodeMetrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's Content-Type as the client sent it (client routes only). */
    sentContentType: string | undefined;
  }
  interface FastifyReply {
    /** A stored value's Content-Type, set on the answer as it was stored (client routes only). */
    storedContentType: string | undefined;
  }
}

export const contextHeader = 'x-kvorum-context';
export const nodeHeader = 'x-kvorum-node';
export const expiresAtHeader = 'x-kvorum-expires-at';
const defaultContentType = 'application/octet-stream';

interface Query {
  r?: string;
  w?: string;
  pr?: string;
  pw?: string;
  timeout?: string;
  returnbody?: 'true' | 'false';
  ttl?: string;
}

export function parseTimeout(raw: string | undefined): number {
  if (raw === undefined) return requestTimeoutMsDefault;
  const ms = /^[0-9]{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(ms >= 1 && ms <= requestTimeoutMsMax)) {
    throw new KvError('invalid_timeout', `timeout must be an integer in 1..${requestTimeoutMsMax}; got "${raw}".`);
  }
  return ms;
}

/** GET and DELETE take no ttl: one given there is refused rather than silently ignored. */
function refuseTtl(query: Query): void {
  if (query.ttl !== undefined) throw new KvError('invalid_ttl', 'ttl is accepted on PUT only.');
}

function parseContext(request: FastifyRequest, key: string): CausalContext | undefined {
  const raw = request.headers[contextHeader];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new KvError('invalid_context', 'Send X-Kvorum-Context once.');
  return decodeContext(raw, { key, counterMax: counterMaxAt(Date.now()) });
}

/**
 * The Content-Type exactly as sent (Node keeps only the first of several, so count the raw ones).
 * It is taken here, before fastify parses it: a value fastify cannot parse is still a valid label.
 */
function takeContentType(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders;
  const sent: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'content-type') sent.push(raw[i + 1]!);
  if (sent.length > 1) throw new KvError('invalid_content_type', 'Send Content-Type once.');
  if (sent[0] !== undefined && Buffer.byteLength(sent[0], 'utf8') > contentTypeBytesMax) {
    throw new KvError('invalid_content_type', `Content-Type is over ${contentTypeBytesMax} bytes.`);
  }
  return sent[0];
}

/**
 * Values are opaque bytes of any type: one raw-buffer parser for every content type. The type as
 * sent is kept aside first and fastify sees a fixed one, so no value of it can fail parsing.
 */
function contentTypesAsSent(app: FastifyInstance, valueBytesMax: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: valueBytesMax }, (_req, body, done) => done(null, body));
  app.decorateRequest('sentContentType', undefined);
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.headers['content-type'] === undefined) return done();
    try {
      request.sentContentType = takeContentType(request);
    } catch (err) {
      return done(err as KvError);
    }
    request.headers['content-type'] = defaultContentType;
    done();
  });
  // fastify replaces a Content-Type it cannot parse on a Buffer answer: restore the stored one last.
  app.decorateReply('storedContentType', undefined);
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.storedContentType !== undefined) reply.header('content-type', reply.storedContentType);
    done(null, payload);
  });
}

export async function clientRoutes(app: FastifyInstance, opts: ClientRoutesOptions): Promise<void> {
  const { coordinator, n, defaults, metrics } = opts;

  contentTypesAsSent(app, opts.valueBytesMax);

  const quorums = (q: Query, total: 'r' | 'w', primary: 'pr' | 'pw') =>
    parseQuorumPair(q[total], q[primary], n, defaults[total], total === 'r' ? ['r', 'pr'] : ['w', 'pw']);

  const run = async (reply: FastifyReply, op: ClientOp): Promise<ClientResult> => {
    const result = await coordinator.execute(op);
    // A write refused before any replica was asked (too_many_siblings) had no quorum outcome.
    const outcome = result.ok ? 'met' : result.code === 'quorum_unavailable' ? 'unavailable' : result.code === 'precondition_failed' ? 'precondition_failed' : undefined;
    if (outcome !== undefined) metrics.quorum.inc({ op: op.op, outcome });
    reply.header(nodeHeader, result.node);
    return result;
  };

  app.get<{ Querystring: Query }>('/kv/*', { schema: kvGetSchema }, async (request, reply) => {
    const key = keyFromUrl(request.url);
    const [r, pr] = quorums(request.query, 'r', 'pr');
    refuseTtl(request.query);
    const notModified = readCondition(requestHeaderValues(request));
    const result = await run(reply, { op: 'get', key, r, pr, timeoutMs: parseTimeout(request.query.timeout) });
    if (!result.ok) return sendError(reply, result.code, result.message, result.details);
    const nowMs = Date.now();
    metrics.observeRead(liveValues(result.object, nowMs));
    return sendObject(reply, key, result.object, nowMs, notModified);
  });

  app.put<{ Querystring: Query; Body: Buffer | undefined }>('/kv/*', { schema: kvPutSchema }, async (request, reply) => {
    const key = keyFromUrl(request.url);
    const [w, pw] = quorums(request.query, 'w', 'pw');
    const timeoutMs = parseTimeout(request.query.timeout);
    const condition = writeCondition(requestHeaderValues(request), 'put', key, counterMaxAt(Date.now()));
    const context = parseContext(request, key);
    const contentType = request.sentContentType ?? defaultContentType;
    const data = request.body ?? Buffer.alloc(0);
    const ttlSeconds = parseTtl(request.query.ttl);
    const result = await run(reply, { op: 'put', key, data, contentType, context, ttlSeconds, condition, w, pw, timeoutMs });
    if (!result.ok) return sendError(reply, result.code, result.message, result.details);
    if (request.query.returnbody === 'true') return sendObject(reply, key, result.object, Date.now());
    return reply.header(contextHeader, encodeContext(result.context, key)).status(204).send();
  });

  app.delete<{ Querystring: Query }>('/kv/*', { schema: kvDeleteSchema }, async (request, reply) => {
    const key = keyFromUrl(request.url);
    const [w, pw] = quorums(request.query, 'w', 'pw');
    refuseTtl(request.query);
    const timeoutMs = parseTimeout(request.query.timeout);
    const condition = writeCondition(requestHeaderValues(request), 'delete', key, counterMaxAt(Date.now()));
    const context = parseContext(request, key);
    const result = await run(reply, { op: 'delete', key, context, condition, w, pw, timeoutMs });
    if (!result.ok) return sendError(reply, result.code, result.message, result.details);
    return reply.header(contextHeader, encodeContext(result.context, key)).status(204).send();
  });

  // `/kv/` with an empty key, any method.
  app.all('/kv/', { schema: { hide: true } }, async () => {
    throw new KvError('invalid_key', 'Invalid key: empty.');
  });
}

/**
 * A read's answer at wall-clock `nowMs`: 404 (no live value), 200 (one value) or 300 (siblings as
 * JSON), the last two with the version's ETag; 304 without a body when `notModified` matches that ETag.
 */
function sendObject(reply: FastifyReply, key: string, object: VersionedObject | undefined, nowMs: number, notModified?: EtagMatch): FastifyReply {
  const values = liveValues(object, nowMs);
  if (object && !contextIsEmpty(object.context)) reply.header(contextHeader, encodeContext(object.context, key));
  if (values.length === 0) return sendError(reply, 'not_found');
  const etag = etagOf(key, object!);
  reply.header(etagHeader, etag);
  if (notModified !== undefined && etagMatches(notModified, etag)) return reply.status(304).send();
  if (values.length === 1) {
    const [only] = values;
    reply.storedContentType = only!.contentType;
    if (only!.expiresAtMs !== undefined) reply.header(expiresAtHeader, String(only!.expiresAtMs));
    return reply.status(200).send(Buffer.from(only!.data));
  }
  return reply
    .status(300)
    .type('application/json')
    .send({
      context: encodeContext(object!.context, key),
      siblings: values.map((v) => ({
        value: Buffer.from(v.data).toString('base64'),
        contentType: v.contentType,
        ...(v.expiresAtMs === undefined ? {} : { expiresAt: v.expiresAtMs }),
      })),
    });
}
