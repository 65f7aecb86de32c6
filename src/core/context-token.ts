// The opaque X-Kvorum-Context token: a versioned, URL-safe encoding of a causal context.
// Clients never parse it; we refuse anything we did not produce the shape of.
import { Buffer } from 'node:buffer';
import { KvError } from './errors.js';
import { contextTokenBytesMax } from './limits.js';
import { joinContexts, emptyContext } from './dvv.js';
import type { ActorId, CausalContext, Dot } from './types.js';

const tokenVersion = 'c1';
const actorPattern = /^[a-z0-9_-]{1,64}\.[0-9a-z]{1,32}$/;

export function encodeContext(ctx: CausalContext): string {
  const body = JSON.stringify([ctx.vv, ctx.cloud]);
  return `${tokenVersion}.${Buffer.from(body, 'utf8').toString('base64url')}`;
}

export function decodeContext(token: string): CausalContext {
  const bad = (why: string) => new KvError('invalid_context', `X-Kvorum-Context cannot be decoded: ${why}.`);
  if (token.length > contextTokenBytesMax) throw bad('too long');
  const [version, payload, ...rest] = token.split('.');
  if (version !== tokenVersion || payload === undefined || rest.length > 0) throw bad('unknown format');
  if (!/^[A-Za-z0-9_-]*$/.test(payload)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad('wrong shape');
  const [vv, cloud] = parsed as unknown[];
  const dots = (list: unknown): Dot[] => {
    if (!Array.isArray(list)) throw bad('wrong shape');
    return list.map((entry) => {
      if (!Array.isArray(entry) || entry.length !== 2) throw bad('wrong entry');
      const [actor, counter] = entry as unknown[];
      if (typeof actor !== 'string' || !actorPattern.test(actor)) throw bad('bad actor');
      if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) throw bad('bad counter');
      return [actor as ActorId, counter] as const;
    });
  };
  // Normalise through join so a hand-made token cannot break the context invariants.
  return joinContexts(emptyContext, { vv: dots(vv), cloud: dots(cloud) });
}
