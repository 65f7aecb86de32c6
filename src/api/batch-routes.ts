// POST /batch (docs/api.md, POST /batch): up to batchOpsMax GET/PUT/DELETE operations in one
// request, each answered exactly as it would be alone. That is kept true by construction: every
// op, once the whole batch is checked (batch-ops.ts), is run through this node's own client routes
// as the request it stands for (fastify's inject: no socket, the same hooks, parsers, checks and
// coordinator), and its answer is translated to JSON. Not atomic: ops on one key run in order, ops
// on different keys concurrently, and each stands or fails alone.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, LightMyRequestResponse } from 'fastify';
import { errorCatalog, type ErrorCode } from '../core/errors.js';
import { batchBytesMax, batchKeysConcurrency } from '../core/limits.js';
import { batchSchema } from './client-schemas.js';
import { planBatch, type BatchRules, type PlannedOp } from './batch-ops.js';
import { batchRefusal, refuse } from './auth-hook.js';
import { errorHandler, sendError } from './errors.js';
import { requestIdHeader } from './request-log.js';

export type BatchRoutesOptions = BatchRules;

/** The answer to one op: its status, the headers a client of /kv reads, and its body as JSON. */
export interface BatchResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A 200's value, base64. */
  readonly value?: string;
  /** A 300's siblings or an error, as the route answered them. */
  readonly body?: unknown;
}

/** The headers of an op's answer a batch result carries, when the answer has them. */
const resultHeaders = ['x-kvorum-context', 'content-type', 'etag', 'x-kvorum-expires-at', 'x-kvorum-node'] as const;

/**
 * The URL of a batch's op, exactly as built: the inject client resolves `.` and `..` path segments
 * (the keys `.` and `..`) as a browser would. Honoured only on injected requests (app.ts, rewriteUrl):
 * a client's own request cannot set it.
 */
const opUrlHeader = 'x-kvorum-batch-url';

export function rewriteUrl(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if ((req as { isLightMyRequest?: boolean }).isLightMyRequest !== true) return url;
  const exact = req.headers[opUrlHeader];
  return typeof exact === 'string' ? exact : url;
}

export async function batchRoutes(app: FastifyInstance, opts: BatchRoutesOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: batchBytesMax }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'value_too_large', `The batch body is over ${batchBytesMax} bytes.`);
    return errorHandler(error, request, reply);
  });

  app.post<{ Body: Buffer | undefined }>('/batch', { schema: batchSchema }, async (request, reply) => {
    const ops = planBatch(request.body, opts, Date.now());
    // With --auth-file: every op is allowed to the token, or none runs (its ops skip the per-request check).
    const refused = batchRefusal(request.grant, ops);
    if (refused !== undefined) return refuse(reply, 403, refused);
    const results = await runInKeyOrder(ops, (op) => runOp(app, op, request.id));
    return reply.type('application/json; charset=utf-8').send(Readable.from(serialise(results)));
  });
}

/** Runs every op; one key's ops one after another in batch order, up to batchKeysConcurrency keys at once. */
export async function runInKeyOrder<T>(ops: readonly PlannedOp[], run: (op: PlannedOp) => Promise<T>): Promise<T[]> {
  const byKey = new Map<string, number[]>();
  ops.forEach((op, i) => {
    const chain = byKey.get(op.key);
    if (chain) chain.push(i);
    else byKey.set(op.key, [i]);
  });
  const chains = [...byKey.values()];
  const results: T[] = new Array<T>(ops.length);
  let next = 0;
  const worker = async () => {
    while (next < chains.length) {
      for (const i of chains[next++]!) results[i] = await run(ops[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(batchKeysConcurrency, chains.length) }, worker));
  return results;
}

/** Runs one op as its own request, under the batch's request id (so the access log ties them together). */
async function runOp(app: FastifyInstance, op: PlannedOp, requestId: string): Promise<BatchResult> {
  let res: LightMyRequestResponse;
  try {
    const headers = { ...op.headers, [opUrlHeader]: op.url, [requestIdHeader]: requestId };
    res = await app.inject({ method: op.method, url: op.url, headers, payload: op.body });
  } catch (err) {
    // The only refusal inject makes is the server closing: what the op alone would get then.
    app.log.debug({ err }, 'batch op not run: the server is closing');
    return errorResult('shutting_down');
  }
  const headers: Record<string, string> = {};
  for (const name of resultHeaders) {
    const value = res.headers[name];
    if (value !== undefined) headers[name] = String(value);
  }
  const status = res.statusCode;
  if (status === 200) return { status, headers, value: res.rawPayload.toString('base64') };
  if (status !== 300 && status < 400) return { status, headers };
  try {
    return { status, headers, body: JSON.parse(res.payload) as unknown };
  } catch {
    return { status, headers, body: res.payload };
  }
}

function errorResult(code: ErrorCode): BatchResult {
  const { status, message } = errorCatalog[code];
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { error: code, message } };
}

/** `{"results": [...]}` one result at a time: a batch of large values never becomes one string. */
function* serialise(results: readonly BatchResult[]): Generator<string> {
  yield '{"results":[';
  for (let i = 0; i < results.length; i++) yield `${i === 0 ? '' : ','}${JSON.stringify(results[i])}`;
  yield ']}';
}
