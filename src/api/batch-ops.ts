// The operations of POST /batch (docs/api.md, POST /batch): each op's JSON form is checked in full
// before any op runs, by the rules the same request alone would meet (key, quorums, timeout, ttl,
// context tokens, preconditions, Content-Type), and turned into the HTTP request it stands for.
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { counterMaxAt, decodeContext } from '../core/context-token.js';
import { KvError } from '../core/errors.js';
import { batchOpsMax, contentTypeBytesMax, contextTokenBytesMax } from '../core/limits.js';
import { parseTtl } from '../core/ttl.js';
import { parseQuorumPair } from '../core/quorum.js';
import type { QuorumSpec } from '../core/rpc.js';
import { describeIssues, keySchema } from '../core/schemas.js';
import { contextHeader, parseTimeout } from './client-routes.js';
import { ifMatchHeader, ifNoneMatchHeader, readCondition, writeCondition, type HeaderValues } from './preconditions.js';

/** One op as the HTTP request it stands for. */
export interface PlannedOp {
  /** The decoded key: ops on one key run in order. */
  readonly key: string;
  readonly method: 'GET' | 'PUT' | 'DELETE';
  /** Path and query, the key percent-encoded. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | undefined;
}

export interface BatchRules {
  /** N, and the node's default r and w: quorums are checked as the routes check them. */
  readonly n: number;
  readonly defaults: { readonly r: QuorumSpec; readonly w: QuorumSpec };
}

/** A query parameter in its query form, as a string or an integer. */
const param = z.union([z.string().max(16), z.int()], { error: 'a query parameter: a string (at most 16 characters) or an integer' }).optional();
const token = z.string().max(contextTokenBytesMax).optional();
/** A header value as HTTP carries it: Latin-1 text without control characters other than tab. */
const contentType = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'a Content-Type holds only characters a header value can').optional();
/** Canonical base64 (RFC 4648 section 4, padded): what Buffer encodes is what was sent. */
const base64 = z.string().refine((s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && Buffer.from(s, 'base64').toString('base64') === s, 'value must be base64 (RFC 4648, padded)');

const opSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('get'), key: keySchema, r: param, pr: param, timeout: param, ifNoneMatch: token }),
  z.strictObject({
    op: z.literal('put'),
    key: keySchema,
    value: base64,
    contentType,
    context: token,
    w: param,
    pw: param,
    timeout: param,
    ttl: param,
    ifMatch: token,
    ifNoneMatch: token,
    returnbody: z.union([z.boolean(), z.enum(['true', 'false'])], { error: 'returnbody is true or false' }).optional(),
  }),
  z.strictObject({ op: z.literal('delete'), key: keySchema, context: token, w: param, pw: param, timeout: param, ifMatch: token }),
]);
type Op = z.infer<typeof opSchema>;

const batchSchema = z.object({ ops: z.array(z.unknown()).min(1).max(batchOpsMax) });

/** A batch's request body, every op checked and planned, or invalid_batch naming the first bad op. */
export function planBatch(body: Buffer | undefined, rules: BatchRules, wallClockMs: number): PlannedOp[] {
  const refused = (why: string, index?: number) =>
    new KvError('invalid_batch', index === undefined ? why : `ops[${index}]: ${why}`, index === undefined ? {} : { index });
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body ?? new Uint8Array(0)));
  } catch {
    throw refused('The body is not JSON (UTF-8).');
  }
  const batch = batchSchema.safeParse(parsed);
  if (!batch.success) throw refused(`The body must be {"ops": [...]} with 1..${batchOpsMax} operations: ${describeIssues(batch.error)}.`);
  return batch.data.ops.map((raw, index) => {
    const op = opSchema.safeParse(raw);
    if (!op.success) throw refused(describeIssues(op.error), index);
    try {
      return planOp(op.data, rules, counterMaxAt(wallClockMs));
    } catch (err) {
      if (err instanceof KvError) throw refused(`${err.code}: ${err.message}`, index);
      throw err;
    }
  });
}

/** The request `op` stands for, after the checks its route makes before running it (any failure throws). */
function planOp(op: Op, rules: BatchRules, counterMax: number): PlannedOp {
  const key = op.key;
  const headers: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => value !== undefined && (headers[name] = value);
  const values: HeaderValues = (name) => (headers[name] === undefined ? [] : [headers[name]!]);
  const url = (fields: Record<string, string | number | boolean | undefined>) => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) query.set(name, String(value));
    const text = query.toString();
    return `/kv/${encodeURIComponent(key)}${text === '' ? '' : `?${text}`}`;
  };
  if (op.timeout !== undefined) parseTimeout(String(op.timeout));
  set(ifNoneMatchHeader, op.op === 'delete' ? undefined : op.ifNoneMatch);
  if (op.op === 'get') {
    checkQuorums(rules, op.r, op.pr, ['r', 'pr']);
    readCondition(values);
    return { key, method: 'GET', url: url({ r: op.r, pr: op.pr, timeout: op.timeout }), headers };
  }
  checkQuorums(rules, op.w, op.pw, ['w', 'pw']);
  set(contextHeader, op.context);
  set(ifMatchHeader, op.ifMatch);
  writeCondition(values, op.op, key, counterMax);
  if (op.context !== undefined) decodeContext(op.context, { key, counterMax });
  if (op.op === 'delete') return { key, method: 'DELETE', url: url({ w: op.w, pw: op.pw, timeout: op.timeout }), headers };
  if (op.ttl !== undefined) parseTtl(String(op.ttl));
  if (op.contentType !== undefined) {
    // As an HTTP parser hands it over: without surrounding whitespace.
    const type = op.contentType.replace(/^[ \t]+|[ \t]+$/g, '');
    if (Buffer.byteLength(type, 'utf8') > contentTypeBytesMax) throw new KvError('invalid_content_type', `Content-Type is over ${contentTypeBytesMax} bytes.`);
    headers['content-type'] = type;
  }
  const query = { w: op.w, pw: op.pw, timeout: op.timeout, ttl: op.ttl, returnbody: op.returnbody };
  return { key, method: 'PUT', url: url(query), headers, body: Buffer.from(op.value, 'base64') };
}

/** r/pr or w/pw as the routes check them (parseQuorumPair), from a string or an integer. */
function checkQuorums(rules: BatchRules, total: string | number | undefined, primary: string | number | undefined, names: ['r', 'pr'] | ['w', 'pw']): void {
  const text = (v: string | number | undefined) => (v === undefined ? undefined : String(v));
  parseQuorumPair(text(total), text(primary), rules.n, rules.defaults[names[0]], names);
}
