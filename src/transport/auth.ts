// The cluster credential for internal RPC: a shared secret sent as a bearer token and compared
// in constant time (by digest, so lengths do not leak either).
import { createHash, timingSafeEqual } from 'node:crypto';

export const rpcAuthHeader = 'authorization';

export function credentialFor(secret: string): string {
  return `Bearer ${secret}`;
}

export function credentialMatches(secret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(credentialFor(secret)), digest(presented));
}
