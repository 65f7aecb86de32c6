// Client authentication and authorization (docs/api.md, "Authentication and roles"): with
// --auth-file, every request but the open routes and internal RPC carries `Authorization: Bearer
// TOKEN`; no token or one that is malformed, unknown, revoked or expired gets 401 unauthorized, a
// valid token without the role or outside its key prefix 403 forbidden, before any route runs.
// The token itself is never logged nor repeated in an answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Grant, TokenTable } from '../auth/tokens.js';
import { authorizationCharsMax } from '../core/limits.js';
import { coversKey, hasRole, ruleOf, type AuthRule } from './auth-rules.js';
import type { PlannedOp } from './batch-ops.js';
import { sendError } from './errors.js';
import { keyFromUrl } from './key.js';
import { prefixFromUrl } from './list-routes.js';

export interface AuthOptions {
  /** The tokens in force now (they change when the auth file does); undefined: no --auth-file, every route open. */
  readonly tokens: (() => TokenTable) | undefined;
  /** `admin`: /metrics needs an admin token; `open`: anyone may read it. */
  readonly metricsAccess: 'open' | 'admin';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request's token allows (set when --auth-file is in force and the token is valid). */
    grant: Grant | undefined;
  }
}

const bearer = /^bearer +/i;

/** Why the request's credential is not accepted (for a 401), or its grant. */
function authenticate(header: string | undefined, tokens: TokenTable, nowMs: number): Grant | { problem: string; invalid: boolean } {
  if (header === undefined) return { problem: 'This node needs a client token: send Authorization: Bearer TOKEN.', invalid: false };
  if (header.length > authorizationCharsMax || !bearer.test(header)) {
    return { problem: 'The Authorization header is not "Bearer TOKEN" with a token of kvorum token create.', invalid: true };
  }
  const verdict = tokens.verify(header.replace(bearer, '').trim(), nowMs);
  if (verdict.ok) return verdict.grant;
  if (verdict.why === 'expired') return { problem: `The token expired at ${verdict.expiredAt!}.`, invalid: true };
  if (verdict.why === 'malformed') return { problem: 'The bearer token is not in the form of a kvorum token (kvt_...).', invalid: true };
  return { problem: 'The token is unknown or was revoked.', invalid: true };
}

/** A decoded value, or undefined when the route itself will refuse it (with the same parser). */
function attempt<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

const outsidePrefix = (grant: Grant) => `The token is limited to keys starting with ${JSON.stringify(grant.prefix)}.`;

/** Why a valid token may not make this request (for a 403), or undefined. */
function refusal(rule: AuthRule, grant: Grant, request: FastifyRequest): string | undefined {
  switch (rule) {
    case 'admin':
    case 'metrics':
      return hasRole(grant, 'admin') ? undefined : 'This route needs an admin token.';
    case 'key-read':
    case 'key-write': {
      if (!hasRole(grant, rule === 'key-read' ? 'read' : 'write')) return `A ${grant.role} token cannot ${request.method} keys.`;
      const key = attempt(() => keyFromUrl(request.url));
      return key === undefined || coversKey(grant, key) ? undefined : outsidePrefix(grant);
    }
    case 'listing': {
      const prefix = attempt(() => prefixFromUrl(request.url));
      return prefix === undefined || coversKey(grant, prefix) ? undefined : `${outsidePrefix(grant)} List with prefix=${encodeURIComponent(grant.prefix!)} (or longer).`;
    }
    case 'batch':
      // Batches are a write token's (the roles); each op's key is checked by the route (batchRefusal).
      return hasRole(grant, 'write') ? undefined : `A ${grant.role} token cannot send batches: they need a write token.`;
    default:
      return undefined; // any
  }
}

/** Why a batch's ops are not all allowed to `grant` (a get needs read, a put or delete write; every key in the prefix), or undefined. */
export function batchRefusal(grant: Grant | undefined, ops: readonly PlannedOp[]): string | undefined {
  if (grant === undefined) return undefined;
  for (const [i, op] of ops.entries()) {
    if (!hasRole(grant, op.method === 'GET' ? 'read' : 'write')) return `ops[${i}]: a ${grant.role} token cannot ${op.method} keys; nothing was run.`;
    if (!coversKey(grant, op.key)) return `ops[${i}]: ${outsidePrefix(grant)} Nothing was run.`;
  }
  return undefined;
}

/** A 401 or 403 with its WWW-Authenticate challenge (RFC 6750). */
export function refuse(reply: FastifyReply, status: 401 | 403, message: string, invalid = false): FastifyReply {
  const challenge = status === 403 ? ', error="insufficient_scope"' : invalid ? ', error="invalid_token"' : '';
  reply.header('www-authenticate', `Bearer realm="kvorum"${challenge}`);
  return sendError(reply, status === 401 ? 'unauthorized' : 'forbidden', message);
}

/** Checks that every route has a rule; with tokens, installs the check of every request (in callback form, as app.ts's hooks). */
export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (ruleOf(method, route.url) === undefined) throw new Error(`route ${method} ${route.url} has no authorization rule: add one to src/api/auth-rules.ts`);
    }
  });
  const tokens = opts.tokens;
  if (tokens === undefined) return;
  app.decorateRequest('grant', undefined);
  app.addHook('onRequest', (request, reply, done) => {
    // A POST /batch op run through inject: the batch was checked as a whole (batchRefusal). Only
    // inject's own request object has this property; no header or byte from a client can set it.
    if ((request.raw as { isLightMyRequest?: boolean }).isLightMyRequest === true) return done();
    const rule = ruleOf(request.method, request.routeOptions.url) ?? 'admin';
    if (rule === 'open' || rule === 'internal' || (rule === 'metrics' && opts.metricsAccess === 'open')) return done();
    const grant = authenticate(request.headers.authorization, tokens(), Date.now());
    if ('problem' in grant) return void refuse(reply, 401, grant.problem, grant.invalid);
    const why = refusal(rule, grant, request);
    if (why !== undefined) return void refuse(reply, 403, why);
    request.grant = grant;
    done();
  });
}
