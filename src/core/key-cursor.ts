// The opaque cursor of a key listing (GET /kv): where the next page starts (a partition, and the
// key after which it goes on there), bound to the listing's prefix. A versioned, URL-safe token;
// clients never parse it, and we refuse anything we would not have produced. Partitions are fixed
// for the life of a cluster, so a cursor stays valid across membership changes.
import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';
import { KvError } from './errors.js';
import { listCursorCharsMax } from './limits.js';
import type { Ring } from './ring.js';
import { keySchema } from './schemas.js';

/** Where a listing goes on: partition `partition`, after `afterKey` (from its start when undefined). */
export interface ListPosition {
  readonly partition: number;
  readonly afterKey: string | undefined;
}

// l1: JSON [partition] or [partition, afterKey], base64url, after a tag of the prefix.
const cursorVersion = 'l1';

/** 64 bits of SHA-256 of the prefix: a cursor sent with another prefix is refused, not followed. */
const prefixTag = (prefix: string): string => Buffer.from(hash('sha256', `list\0${prefix}`, 'hex').slice(0, 16), 'hex').toString('base64url');

export function encodeListCursor(at: ListPosition, prefix: string): string {
  const body = JSON.stringify(at.afterKey === undefined ? [at.partition] : [at.partition, at.afterKey]);
  return `${cursorVersion}.${prefixTag(prefix)}.${Buffer.from(body, 'utf8').toString('base64url')}`;
}

/** The position a cursor names, if `parsed` has the shape of one for a ring of `partitions`; else why not. */
function positionOf(parsed: unknown, partitions: number): ListPosition | string {
  if (!Array.isArray(parsed) || parsed.length < 1 || parsed.length > 2) return 'wrong shape';
  const [partition, afterKey] = parsed as unknown[];
  if (!Number.isSafeInteger(partition) || (partition as number) < 0 || (partition as number) >= partitions) return 'no such partition';
  if (parsed.length === 2 && !keySchema.safeParse(afterKey).success) return 'not a key';
  return { partition: partition as number, afterKey: afterKey as string | undefined };
}

/**
 * The position `token` names, for the listing of `prefix` on `ring`; `invalid_cursor` when it is
 * not a cursor this cluster issues for that prefix (malformed, another prefix, a partition the ring
 * does not have, a key that does not start with the prefix).
 */
export function decodeListCursor(token: string, prefix: string, ring: Ring): ListPosition {
  const bad = (why: string) => new KvError('invalid_cursor', `The cursor cannot be used: ${why}.`);
  if (token.length > listCursorCharsMax) throw bad(`longer than ${listCursorCharsMax} characters`);
  const [version, tag, payload, ...rest] = token.split('.');
  if (version !== cursorVersion || tag === undefined || payload === undefined || rest.length > 0) throw bad('unknown format');
  if (tag !== prefixTag(prefix)) throw bad('it was issued for another prefix');
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  const at = positionOf(parsed, ring.partitions);
  if (typeof at === 'string') throw bad(at);
  if (at.afterKey !== undefined && !at.afterKey.startsWith(prefix)) throw bad('its key does not start with the prefix');
  // Anything else that decodes to the same position (padding, other JSON spellings) was not issued here.
  if (encodeListCursor(at, prefix) !== token) throw bad('not in the form this node issues');
  return at;
}
