// Checks the answers to one step against what its Expect entries allow: every answer carries
// X-Kvorum-Node, none is a 500, every refusal is a catalogued JSON error with the catalog's
// status, successes have the documented status and body shape, and every answer due arrives
// (no hang, no connection closed without one). Pure.
import { Packr } from 'msgpackr';
import { errorCatalog, type ErrorCode } from '../../src/core/errors.js';
import type { WireResponse } from './response-parser.js';
import type { CaseStep, Expect } from './types.js';
import type { ExchangeResult } from './wire.js';

export type CheckName =
  | 'internal-error'
  | 'hang'
  | 'no-answer'
  | 'connect-failed'
  | 'garbled-response'
  | 'missing-node-header'
  | 'not-catalogued'
  | 'unexpected-status'
  | 'bad-success-body'
  | 'rpc-outcome-error'
  | 'stored-mismatch'
  | 'refused-but-applied';

export interface Violation {
  readonly check: CheckName;
  readonly message: string;
  /** What was observed, e.g. `400 invalid_content_type`, `closed`: part of the finding's signature. */
  readonly observed: string;
  /**
   * Set for defects of the answer itself, whatever the request (a non-JSON 400, a missing
   * header): the finding groups every case that got it under this detail.
   */
  readonly anyCase?: string;
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const catalogued = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.prototype.hasOwnProperty.call(errorCatalog, code);

/** The error code of a catalogued JSON error answer, or a reason it is not one. */
export function catalogCode(res: WireResponse): { code: ErrorCode } | { why: string } {
  const type = res.headers['content-type'] ?? '';
  const text = res.body.toString('utf8');
  if (!/^application\/json/i.test(type)) return { why: `Content-Type ${JSON.stringify(type)}, body ${JSON.stringify(text.slice(0, 120))}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { why: `body is not JSON: ${JSON.stringify(text.slice(0, 120))}` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { why: `body is not an object: ${text.slice(0, 120)}` };
  const { error, message } = body as { error?: unknown; message?: unknown };
  if (!catalogued(error)) return { why: `"error" ${JSON.stringify(error)} is not in the catalog` };
  if (typeof message !== 'string' || message.length === 0) return { why: `"message" missing or empty for ${error}` };
  if (errorCatalog[error].status !== res.status) return { why: `status ${res.status} but the catalog gives ${error} status ${errorCatalog[error].status}` };
  return { code: error };
}

function describeAllowed(e: Expect): string {
  const parts = [...e.ok.map(String), ...e.errors.map((c) => `${errorCatalog[c].status} ${c}`)];
  return parts.length > 8 ? `${parts.slice(0, 8).join(', ')}, … (${parts.length})` : parts.join(', ');
}

function checkSuccessBody(res: WireResponse, e: Expect): string | undefined {
  if (e.head) return undefined;
  const json = <T>(): T | undefined => {
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      return undefined;
    }
  };
  switch (e.body) {
    case 'kv-read':
      if (res.status === 200 && res.headers['x-kvorum-context'] === undefined) return '200 without X-Kvorum-Context';
      if (res.status === 300) {
        const b = json<{ context?: unknown; siblings?: unknown }>();
        if (!b || typeof b.context !== 'string' || !Array.isArray(b.siblings) || b.siblings.length < 2) return `300 body is not {context, siblings[2+]}: ${res.body.toString('utf8').slice(0, 200)}`;
        if (b.context !== res.headers['x-kvorum-context']) return '300 body context differs from the X-Kvorum-Context header';
      }
      return undefined;
    case 'kv-write':
      if (res.status === 204 && res.headers['x-kvorum-context'] === undefined) return '204 without X-Kvorum-Context';
      return undefined;
    case 'health': {
      const b = json<{ status?: unknown; node?: unknown }>();
      if (!b || typeof b.status !== 'string' || b.node !== res.headers['x-kvorum-node']) return `health body ${res.body.toString('utf8').slice(0, 200)}`;
      return undefined;
    }
    case 'cluster': {
      const b = json<{ members?: unknown; ring?: unknown }>();
      if (!b || !Array.isArray(b.members) || !Array.isArray(b.ring)) return `cluster body ${res.body.toString('utf8').slice(0, 200)}`;
      return undefined;
    }
    case 'metrics':
      return res.body.toString('utf8').includes('kvorum_http_requests_total') ? undefined : 'metrics without kvorum_http_requests_total';
    case 'replica': {
      const b = json<{ key?: unknown; partition?: unknown; siblings?: unknown }>();
      if (!b || typeof b.key !== 'string' || typeof b.partition !== 'number' || !Array.isArray(b.siblings)) return `replica body ${res.body.toString('utf8').slice(0, 200)}`;
      return undefined;
    }
    case 'rpc':
      return undefined; // checked by checkRpcOutcomes
    case 'any':
      return undefined;
  }
}

/** A 200 answer to an RPC batch: one outcome per message, none of them an error. */
function checkRpcOutcomes(res: WireResponse, e: Expect): Violation | undefined {
  if (e.body !== 'rpc' || e.rpcBatch === undefined || res.status !== 200) return undefined;
  const bad = (message: string): Violation => ({ check: 'bad-success-body', message, observed: '200' });
  let outcomes: unknown;
  try {
    outcomes = packr.unpack(res.body);
  } catch (err) {
    return bad(`200 body is not msgpack: ${(err as Error).message}`);
  }
  if (!Array.isArray(outcomes) || outcomes.length !== e.rpcBatch) return bad(`200 body is not ${e.rpcBatch} outcomes`);
  for (const outcome of outcomes as { ok?: { type?: string; result?: { ok?: boolean; code?: unknown } }; error?: unknown }[]) {
    if (outcome?.error !== undefined) {
      return {
        check: 'rpc-outcome-error',
        message: `the batch was accepted (200) but a message failed inside the node: ${String(outcome.error).slice(0, 200)}`,
        observed: `200 outcome error: ${String(outcome.error).replace(/[0-9]+/g, 'N').slice(0, 60)}`,
      };
    }
    const result = outcome?.ok?.type === 'result' ? outcome.ok.result : undefined;
    if (result && result.ok === false && (!catalogued(result.code) || result.code === 'internal_error')) {
      return { check: 'rpc-outcome-error', message: `forwarded operation failed with ${String(result.code)}`, observed: `200 result ${String(result.code)}` };
    }
  }
  return undefined;
}

function checkOne(res: WireResponse, e: Expect, position: string): Violation[] {
  const out: Violation[] = [];
  const found = e.head ? undefined : res.status >= 400 ? catalogCode(res) : undefined;
  const code = found && 'code' in found ? found.code : undefined;
  const observed = `${res.status}${code ? ` ${code}` : found ? ' (not catalogued)' : ''}`;
  const v = (check: CheckName, message: string, anyCase?: string) => out.push({ check, message: `${position}${message}`, observed, ...(anyCase !== undefined ? { anyCase } : {}) });
  if (res.headers['x-kvorum-node'] === undefined) v('missing-node-header', `a ${res.status} answer without X-Kvorum-Node`, `${res.status} answers without X-Kvorum-Node`);
  if (res.status === 500 || code === 'internal_error') {
    v('internal-error', `${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
    return out;
  }
  if (e.ok.includes(res.status)) {
    const why = checkSuccessBody(res, e);
    if (why) v('bad-success-body', why);
    const rpc = checkRpcOutcomes(res, e);
    if (rpc) out.push({ ...rpc, message: `${position}${rpc.message}` });
    return out;
  }
  if (res.status < 400) {
    v('unexpected-status', `got ${res.status}, allowed: ${describeAllowed(e)}`);
    return out;
  }
  if (e.head) {
    if (!e.errors.some((c) => errorCatalog[c].status === res.status)) v('unexpected-status', `HEAD got ${res.status}, allowed: ${describeAllowed(e)}`);
    return out;
  }
  if (found && 'why' in found) {
    v('not-catalogued', `a ${res.status} answer that is not a catalogued JSON error: ${found.why}`, `${res.status} ${found.why.replace(/[0-9]+/g, 'N').slice(0, 60)}`);
    return out;
  }
  if (code !== undefined && !e.errors.includes(code)) v('unexpected-status', `got ${res.status} ${code}, allowed: ${describeAllowed(e)}`);
  return out;
}

/** Every violation of the step's expectations by this exchange. */
export function checkExchange(step: CaseStep, result: ExchangeResult): Violation[] {
  if (result.connectError !== undefined) return [{ check: 'connect-failed', message: `connect: ${result.connectError}`, observed: result.connectError }];
  const out: Violation[] = [];
  result.responses.slice(0, step.expect.length).forEach((res, i) => {
    out.push(...checkOne(res, step.expect[i]!, step.expect.length > 1 ? `answer ${i + 1}: ` : ''));
  });
  if (result.garbage !== undefined) out.push({ check: 'garbled-response', message: result.garbage, observed: 'garbled', anyCase: result.garbage.slice(0, 40) });
  const missing = step.expect.length - result.responses.length;
  if (missing > 0 && result.garbage === undefined) {
    const got = `${result.responses.length} of ${step.expect.length} answer(s)`;
    if (result.timedOut) out.push({ check: 'hang', message: `no complete answer within ${result.elapsedMs} ms (${got})`, observed: 'timeout' });
    else
      out.push({
        check: 'no-answer',
        message: `the server closed the connection after ${got}${result.socketError ? ` (${result.socketError})` : ''}`,
        observed: `closed after ${result.responses.length}`,
      });
  }
  return out;
}
