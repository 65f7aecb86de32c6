// The opaque X-Kvorum-Context token: a versioned, URL-safe encoding of a causal context, bound to
// the key it was issued for. Clients never parse it; we refuse anything we would not have produced.
import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';
import { KvError } from './errors.js';
import { contextClockAheadMsMax, contextTokenBytesMax, dotCountersPerMs } from './limits.js';
import { contextSchema, describeIssues } from './schemas.js';
import type { CausalContext } from './types.js';

// c2: [vv, cloud] as JSON, base64url, after a tag of the key. c1 tokens (no key) are refused.
const tokenVersion = 'c2';

/** 64 bits of SHA-256 of the key: a context sent with another key is refused, not applied there. */
const keyTag = (key: string): string => Buffer.from(hash('sha256', key, 'hex').slice(0, 16), 'hex').toString('base64url');

export function encodeContext(ctx: CausalContext, key: string): string {
  const body = JSON.stringify([ctx.vv, ctx.cloud]);
  return `${tokenVersion}.${keyTag(key)}.${Buffer.from(body, 'utf8').toString('base64url')}`;
}

export interface TokenCheck {
  /** The key of the request the token came with. */
  readonly key: string;
  /** The largest dot counter to accept: see counterMaxAt. */
  readonly counterMax: number;
}

/**
 * Counters start from the wall clock (dotCountersPerMs per ms, dvv.ts), so a counter beyond this
 * node's clock plus contextClockAheadMsMax was not issued by any node: it is forged. The bound moves
 * with the clock faster than one key can be written, so a counter accepted now, plus the writes
 * made on it, is still accepted later: a node never hands out a context it would refuse.
 */
export const counterMaxAt = (wallClockMs: number): number => (wallClockMs + contextClockAheadMsMax) * dotCountersPerMs;

export function decodeContext(token: string, check: TokenCheck): CausalContext {
  const bad = (why: string) => new KvError('invalid_context', `X-Kvorum-Context cannot be decoded: ${why}.`);
  if (token.length > contextTokenBytesMax) throw bad(`longer than ${contextTokenBytesMax} bytes`);
  const [version, tag, payload, ...rest] = token.split('.');
  if (version !== tokenVersion || tag === undefined || payload === undefined || rest.length > 0) throw bad('unknown format');
  if (tag !== keyTag(check.key)) throw bad('it was issued for another key');
  if (!/^[A-Za-z0-9_-]*$/.test(payload)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad('wrong shape');
  const checked = contextSchema.safeParse({ vv: parsed[0], cloud: parsed[1] });
  if (!checked.success) throw bad(describeIssues(checked.error));
  const ctx = checked.data;
  if ([...ctx.vv, ...ctx.cloud].some(([, n]) => n > check.counterMax)) throw bad('a counter no node has issued yet');
  return ctx;
}
