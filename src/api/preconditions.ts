// Conditional requests at the edge (docs/api.md, Conditional requests): If-None-Match and If-Match
// become the coordinator's WriteCondition on PUT and DELETE; a GET answer carries the ETag of the
// merged version and answers 304 to an If-None-Match it matches. The checks themselves run in the
// coordinator (core/coordinator.ts), so a forwarded request is checked the same way.
import type { FastifyRequest } from 'fastify';
import { decodeContext } from '../core/context-token.js';
import { KvError } from '../core/errors.js';
import { versionHash } from '../core/merkle.js';
import type { WriteCondition } from '../core/rpc.js';
import type { VersionedObject } from '../core/types.js';

export const ifMatchHeader = 'if-match';
export const ifNoneMatchHeader = 'if-none-match';
export const etagHeader = 'etag';

/** Every value a request sent for a header (lower-case name), one per occurrence. */
export type HeaderValues = (name: string) => readonly string[];

/** The header values of a request as they came on the wire (Node joins repeated headers; rawHeaders does not). */
export function requestHeaderValues(request: FastifyRequest): HeaderValues {
  return (name) => {
    if (request.headers[name] === undefined) return []; // the common case, without a scan
    const raw = request.raw.rawHeaders;
    const values: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
    return values;
  };
}

const refused = (why: string) => new KvError('invalid_precondition', why);

/** The one value of a precondition header, or undefined when absent; sent twice is refused. */
function once(values: HeaderValues, name: string): string | undefined {
  const sent = values(name);
  if (sent.length > 1) throw refused(`Send ${name} once.`);
  return sent[0]?.trim();
}

/**
 * The condition of a PUT or DELETE: `If-None-Match: *` (PUT only) or `If-Match: <context token>`,
 * decoded like X-Kvorum-Context (bound to `key`; garbage is invalid_context). If-Match with
 * X-Kvorum-Context or with If-None-Match is refused: the write's context would be ambiguous.
 */
export function writeCondition(values: HeaderValues, method: 'put' | 'delete', key: string, counterMax: number): WriteCondition | undefined {
  const ifMatch = once(values, ifMatchHeader);
  const ifNoneMatch = once(values, ifNoneMatchHeader);
  if (ifNoneMatch !== undefined) {
    if (method !== 'put') throw refused('If-None-Match is not accepted on DELETE.');
    if (ifMatch !== undefined) throw refused('Send If-Match or If-None-Match, not both.');
    if (ifNoneMatch !== '*') throw refused('If-None-Match on PUT must be "*".');
    return { kind: 'absent' };
  }
  if (ifMatch === undefined) return undefined;
  if (values('x-kvorum-context').length > 0) throw refused('Send If-Match or X-Kvorum-Context, not both: If-Match is the context.');
  try {
    return { kind: 'match', context: decodeContext(ifMatch, { key, counterMax }) };
  } catch (err) {
    if (err instanceof KvError) throw new KvError(err.code, err.message.replace('X-Kvorum-Context', 'If-Match'));
    throw err;
  }
}

/** What a GET's If-None-Match matches: any current version (`*`), or one of these ETags. */
export type EtagMatch = { readonly any: true } | { readonly any: false; readonly tags: ReadonlySet<string> };

/** An entity tag of a list (RFC 9110 section 8.8.3): optional W/, a quoted opaque tag, then a comma or the end. */
const entityTag = /[ \t]*(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)/y;

/** A GET's If-None-Match (`*` or a list of entity tags); If-Match is refused on GET. */
export function readCondition(values: HeaderValues): EtagMatch | undefined {
  if (values(ifMatchHeader).length > 0) throw refused('If-Match is not accepted on GET.');
  const raw = once(values, ifNoneMatchHeader);
  if (raw === undefined) return undefined;
  if (raw === '*') return { any: true };
  const tags = new Set<string>();
  const parser = new RegExp(entityTag);
  for (let at = 0; at < raw.length; at = parser.lastIndex) {
    parser.lastIndex = at;
    const m = parser.exec(raw);
    if (m === null) throw refused('If-None-Match on GET must be "*" or a list of entity tags ("...", W/"...").');
    tags.add(m[1]!);
  }
  if (tags.size === 0) throw refused('If-None-Match on GET must be "*" or a list of entity tags.');
  return { any: false, tags };
}

/** The ETag of a version: its version hash (core/merkle.ts), 16 hex digits, quoted. */
export function etagOf(key: string, object: VersionedObject): string {
  return `"${versionHash(key, object).toString(16).padStart(16, '0')}"`;
}

/** Whether `etag` (ours, quoted) is matched by an If-None-Match (weak comparison: W/ is ignored). */
export function etagMatches(match: EtagMatch, etag: string): boolean {
  return match.any || match.tags.has(etag.slice(1, -1));
}
