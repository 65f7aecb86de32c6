// Key listing (docs/api.md section 2, `GET /kv`): `GET /kv?prefix=&limit=&cursor=&r=&timeout=`,
// one page of keys and the cursor of the next. `/kv/` (an empty key) stays invalid_key (client-routes.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KvError, type ErrorCode } from '../core/errors.js';
import type { KeyListing } from '../core/key-listing.js';
import { keyBytesMax, listLimitDefault, listLimitMax } from '../core/limits.js';
import { listSchema } from './client-schemas.js';
import { parseQuorum } from '../core/quorum.js';
import { parseTimeout } from './client-routes.js';
import { sendError } from './errors.js';
import { percentDecode } from './key.js';
import type { NodeMetrics } from './metrics.js';

export interface ListRoutesOptions {
  readonly listing: KeyListing;
  readonly n: number;
  readonly metrics: NodeMetrics;
}


interface ListQuery {
  prefix?: string;
  limit?: string;
  cursor?: string;
  r?: string;
  timeout?: string;
}

/** The catalogued error of each query parameter, for values the schema refuses (sent twice, too long). */
const codeOfParameter: Readonly<Record<string, ErrorCode>> = {
  prefix: 'invalid_key',
  limit: 'invalid_limit',
  cursor: 'invalid_cursor',
  r: 'invalid_quorum',
  timeout: 'invalid_timeout',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A query value as a form sends it: `+` is a space, `%XX` a byte; the bytes must be UTF-8. Undefined if not. */
function decodeQueryValue(raw: string): string | undefined {
  const bytes = percentDecode(raw, true);
  if (bytes === undefined) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * `prefix` as sent, from the raw URL: the query parser would pass bad percent-encoding through as
 * literal text, which must be `invalid_key` instead. '' when absent.
 */
export function prefixFromUrl(rawUrl: string): string {
  const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '';
  const invalid = (why: string) => new KvError('invalid_key', `Invalid prefix: ${why}.`);
  const values = query
    .split('&')
    .map((pair) => (pair.includes('=') ? [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] : [pair, '']))
    .filter(([name]) => decodeQueryValue(name!) === 'prefix')
    .map(([, value]) => value!);
  if (values.length > 1) throw invalid('send it once');
  if (values.length === 0) return '';
  const prefix = decodeQueryValue(values[0]!);
  if (prefix === undefined) throw invalid('bad percent-encoding or not valid UTF-8');
  const bytes = Buffer.byteLength(prefix, 'utf8');
  if (bytes > keyBytesMax) throw invalid(`${bytes} bytes, at most ${keyBytesMax}`);
  return prefix;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return listLimitDefault;
  const limit = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= listLimitMax)) throw new KvError('invalid_limit', `limit must be an integer in 1..${listLimitMax}; got "${raw}".`);
  return limit;
}

/** The schema's refusal as the catalogued error of the parameter it names. */
function queryError(request: FastifyRequest): KvError {
  const issue = request.validationError?.validation[0];
  const parameter = issue?.instancePath.split('/')[1] ?? '';
  const code = codeOfParameter[parameter] ?? 'bad_request';
  return new KvError(code, `Invalid query: ${parameter || 'query'} ${issue?.message ?? 'is malformed'}.`);
}

export async function listRoutes(app: FastifyInstance, opts: ListRoutesOptions): Promise<void> {
  const { listing, n, metrics } = opts;
  app.get<{ Querystring: ListQuery }>('/kv', { schema: listSchema, attachValidation: true }, async (request, reply) => {
    if (request.validationError) throw queryError(request);
    const query = request.query;
    const prefix = prefixFromUrl(request.url);
    const limit = parseLimit(query.limit);
    const r = query.r === undefined ? 'one' : parseQuorum(query.r, n, 'r');
    const timeoutMs = parseTimeout(query.timeout);
    const result = await listing.page({ prefix, limit, cursor: query.cursor, r, timeoutMs });
    metrics.quorum.inc({ op: 'list', outcome: result.ok ? 'met' : 'unavailable' });
    if (!result.ok) return sendError(reply, result.code, result.message, result.details);
    return reply.type('application/json').send({ keys: result.keys, cursor: result.cursor });
  });
}
