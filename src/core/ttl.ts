// Per-key TTL (docs/api.md section 2, Expiry): parsing a PUT's `ttl` and stamping its expiry. The
// expiry is part of the written version (types.ts SiblingValue), so whatever copies a version
// (replication, hints, read repair, anti-entropy) copies its expiry with it.
import { KvError } from './errors.js';
import { ttlSecondsMax } from './limits.js';

const msPerSecond = 1000;

/**
 * A `ttl` as the query string (a string of digits) or a JSON body (an integer) gives it: whole
 * seconds in 1..ttlSecondsMax. Anything else (0, negative, a fraction, too large, not a number) is
 * `invalid_ttl`. Undefined when absent.
 */
export function parseTtl(raw: string | number | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = typeof raw === 'number' ? raw : /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > ttlSecondsMax) {
    throw new KvError('invalid_ttl', `ttl must be an integer number of seconds in 1..${ttlSecondsMax}; got "${String(raw).slice(0, 32)}".`);
  }
  return seconds;
}

/** When a value written at wall-clock `wallMs` with `ttlSeconds` expires (wall-clock ms). */
export const expiresAtMs = (wallMs: number, ttlSeconds: number): number => wallMs + ttlSeconds * msPerSecond;
