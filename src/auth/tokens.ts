// Client tokens: `kvt_<id>_<secret>`, the id (16 hex digits) finding the token's entry in the auth
// file without trying every hash, the secret 256 random bits (base64url). The file keeps
// HMAC-SHA256(salt, secret), never the secret.
//
// Why not a slow KDF (scrypt, argon2): those protect low-entropy passwords from guessing after the
// hashes leak. A 256-bit random secret cannot be guessed at any hashing speed, so a slow hash would
// buy nothing, and would cost every request (the hash is checked on each one) milliseconds of CPU:
// a denial of service for free. The salt keeps equal secrets (there are none) from equal hashes and
// any precomputation useless.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { authorizationCharsMax, tokenIdBytes, tokenSaltBytes, tokenSecretBytes } from '../core/limits.js';
import type { AuthFile, Role, TokenEntry } from './token-file.js';

export const tokenPrefix = 'kvt_';
const tokenPattern = /^kvt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The digest of a secret with its salt. */
export function hashSecret(salt: Buffer, secret: Buffer): Buffer {
  return createHmac('sha256', salt).update(secret).digest();
}

export interface NewToken {
  /** What the user gets once: `kvt_<id>_<secret>`. */
  readonly token: string;
  /** What the auth file keeps. */
  readonly entry: TokenEntry;
}

export interface TokenSpec {
  readonly role: Role;
  readonly prefix?: string | undefined;
  readonly expiresAtMs?: number | undefined;
  readonly note?: string | undefined;
}

export function createToken(spec: TokenSpec, nowMs: number): NewToken {
  const id = randomBytes(tokenIdBytes).toString('hex');
  const secret = randomBytes(tokenSecretBytes);
  const salt = randomBytes(tokenSaltBytes);
  const entry: TokenEntry = {
    id,
    role: spec.role,
    ...(spec.prefix === undefined ? {} : { prefix: spec.prefix }),
    salt: salt.toString('base64'),
    hash: hashSecret(salt, secret).toString('base64'),
    createdAt: new Date(nowMs).toISOString(),
    ...(spec.expiresAtMs === undefined ? {} : { expiresAt: new Date(spec.expiresAtMs).toISOString() }),
    ...(spec.note === undefined ? {} : { note: spec.note }),
  };
  return { token: `${tokenPrefix}${id}_${secret.toString('base64url')}`, entry };
}

/** A token's id and secret bytes, or undefined when `text` is not a token's form. */
export function parseToken(text: string): { id: string; secret: Buffer } | undefined {
  if (text.length > authorizationCharsMax) return undefined;
  const m = tokenPattern.exec(text);
  if (!m) return undefined;
  const secret = Buffer.from(m[2]!, 'base64url');
  // The last of 43 characters carries 2 unused bits: only the canonical spelling is the token, so
  // one token has one text (a flipped unused bit would otherwise decode to the same secret).
  return secret.toString('base64url') === m[2] ? { id: m[1]!, secret } : undefined;
}

/** What a request's token is allowed, once verified. */
export interface Grant {
  readonly id: string;
  readonly role: Role;
  readonly prefix: string | undefined;
}

export type Verdict =
  | { readonly ok: true; readonly grant: Grant }
  | { readonly ok: false; readonly why: 'malformed' | 'unknown' | 'expired'; readonly expiredAt?: string };

interface Known {
  readonly grant: Grant;
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly expiresAtMs: number | undefined;
  /**
   * The secret, once a request presented it and its HMAC matched: later requests compare with it
   * directly (timingSafeEqual of 32 bytes, ~0.1 us) instead of computing an HMAC (~5 us). It is in
   * this process's memory only (every request's headers are too), never written anywhere.
   */
  verified?: Buffer;
}

/** Whether `secret` is the known token's: both comparisons are constant-time over equal lengths (32 bytes). */
function secretMatches(known: Known, secret: Buffer): boolean {
  if (known.verified !== undefined) return timingSafeEqual(secret, known.verified);
  if (!timingSafeEqual(hashSecret(known.salt, secret), known.hash)) return false;
  known.verified = Buffer.from(secret);
  return true;
}

/** An auth file's tokens, ready for checking: salts and hashes decoded once, entries by id. */
export class TokenTable {
  private readonly byId = new Map<string, Known>();

  constructor(file: AuthFile) {
    for (const t of file.tokens) {
      this.byId.set(t.id, {
        grant: { id: t.id, role: t.role, prefix: t.prefix },
        salt: Buffer.from(t.salt, 'base64'),
        hash: Buffer.from(t.hash, 'base64'),
        expiresAtMs: t.expiresAt === undefined ? undefined : Date.parse(t.expiresAt),
      });
    }
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Checks a presented token at `nowMs`. The secret's digest is compared with timingSafeEqual (both
   * are 32-byte HMAC outputs): how long it takes says nothing about how much of it matched. Whether
   * an id exists is not hidden: ids are not secret (`kvorum token list` prints them).
   */
  verify(token: string, nowMs: number): Verdict {
    const parsed = parseToken(token);
    if (parsed === undefined) return { ok: false, why: 'malformed' };
    const known = this.byId.get(parsed.id);
    if (known === undefined) return { ok: false, why: 'unknown' };
    if (!secretMatches(known, parsed.secret)) return { ok: false, why: 'unknown' };
    if (known.expiresAtMs !== undefined && nowMs >= known.expiresAtMs) {
      return { ok: false, why: 'expired', expiredAt: new Date(known.expiresAtMs).toISOString() };
    }
    return { ok: true, grant: known.grant };
  }
}

/** `--expires-in`: `N` or `Ns` seconds, `Nm` minutes, `Nh` hours, `Nd` days; undefined if not that form. */
export function parseDurationSeconds(text: string): number | undefined {
  const m = /^([0-9]{1,10})([smhd]?)$/.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
