// The cluster credential for internal RPC: a shared secret sent as a bearer token and compared
// in constant time (by digest, so lengths do not leak either).
import { createHash, timingSafeEqual } from 'node:crypto';

export const rpcAuthHeader = 'authorization';

export function credentialFor(secret: string): string {
  return `Bearer ${secret}`;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Returns a checker for one secret (its digest computed once, not per call). */
export function credentialChecker(secret: string): (presented: string | undefined) => boolean {
  const expected = digest(credentialFor(secret));
  return (presented) => presented !== undefined && timingSafeEqual(expected, digest(presented));
}
