// Client tokens on fuzzed requests (issue 15), for a cluster started with --auth-file: most client
// and admin requests carry a valid admin token and keep the answers they would have had; the rest
// carry a read-only token, none, or a hostile one (garbage, another scheme, revoked, expired,
// oversized), and must then be refused with 401 unauthorized / 403 forbidden (or whatever else the
// request itself earned: the order of checks is not specified). Internal RPC keeps the cluster
// secret and is left alone. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { printable, weighted } from './gen-util.js';
import type { CaseStep, Expect, FuzzCase, HttpShape } from './types.js';

/** The tokens of the fuzzed cluster's auth file. */
export interface FuzzTokens {
  readonly admin: string;
  readonly read: string;
  readonly revoked: string;
  readonly expired: string;
}

type Variant = 'admin' | 'read' | 'none' | 'garbage' | 'basic' | 'revoked' | 'expired' | 'oversized' | 'lowercase-scheme';

const variants: readonly (readonly [number, Variant])[] = [
  [70, 'admin'],
  [8, 'read'],
  [5, 'none'],
  [4, 'garbage'],
  [3, 'basic'],
  [3, 'revoked'],
  [3, 'expired'],
  [2, 'oversized'],
  [2, 'lowercase-scheme'],
];

function headerFor(variant: Variant, tokens: FuzzTokens, prng: Prng): string | undefined {
  switch (variant) {
    case 'admin':
      return `Bearer ${tokens.admin}`;
    case 'read':
      return `Bearer ${tokens.read}`;
    case 'none':
      return undefined;
    case 'garbage':
      return `Bearer ${prng.pick([printable(prng, prng.int(1, 80)), `${tokens.admin}x`, tokens.admin.slice(0, -1), 'kvt__', ''])}`;
    case 'basic':
      return `Basic ${Buffer.from(`admin:${tokens.admin}`).toString('base64')}`;
    case 'revoked':
      return `Bearer ${tokens.revoked}`;
    case 'expired':
      return `Bearer ${tokens.expired}`;
    case 'oversized':
      return `Bearer ${tokens.admin}${'A'.repeat(prng.int(1024, 60 * 1024))}`;
    case 'lowercase-scheme':
      return `bearer ${tokens.admin}`; // the scheme is case-insensitive (RFC 9110 11.1): accepted
  }
}

/** The path of a target, absolute-form (`http://host/path`) included. */
const pathOf = (shape: HttpShape): string =>
  (typeof shape.target === 'string' ? shape.target : shape.target.toString('latin1')).replace(/^[a-z]+:\/\/[^/]*/i, '').split('?')[0]!;
const openPaths = new Set(['/health', '/metrics', '/openapi.json']);
const readRoute = (shape: HttpShape) => (shape.method === 'GET' || shape.method === 'HEAD') && /^\/kv(\/|$)/.test(pathOf(shape));

/** The expectation of a request that the token alone may refuse with `code`. */
function refusedBy(e: Expect, code: ErrorCode, why: string, also: readonly ErrorCode[] = []): Expect {
  return { ...e, ok: [], errors: [...new Set([...e.errors, code, ...also])], why: [...e.why, why], certain: [...(e.certain ?? []), why] };
}

/** One structured step with the chosen token; the step's answers changed as the token demands. */
function authStep(step: CaseStep, variant: Variant, header: string | undefined): CaseStep {
  const shape = step.request as HttpShape;
  // The plain generators' own odd Authorization headers go: Node keeps the first of several, and ours must count.
  const headers = shape.headers.filter(([name]) => name.toLowerCase() !== 'authorization');
  const sent: HttpShape = { ...shape, headers: header === undefined ? headers : [...headers, ['Authorization', header]] };
  const open = openPaths.has(pathOf(shape));
  if (variant === 'admin' || variant === 'lowercase-scheme' || open || (variant === 'read' && readRoute(shape))) return { ...step, request: sent };
  const why = `auth:${variant}`;
  const expect = step.expect.map((e) =>
    variant === 'read' ? refusedBy(e, 'forbidden', why) : refusedBy(e, 'unauthorized', why, variant === 'oversized' ? ['headers_too_large'] : []),
  );
  // A refused write stores nothing, so there is nothing to read back.
  const { after: _after, ...rest } = step;
  return { ...rest, request: sent, expect };
}

/** The case with tokens on its client and admin requests (one variant per case, so its steps agree). */
export function withTokens(fuzzCase: FuzzCase, prng: Prng, tokens: FuzzTokens): FuzzCase {
  if (fuzzCase.family === 'rpc') return fuzzCase;
  const variant = weighted(prng, variants);
  if (fuzzCase.family === 'raw') {
    // Raw bytes cannot take a header: whatever the parser lets through is refused for want of a token.
    const steps = fuzzCase.steps.map((s) => ({ ...s, expect: s.expect.map((e) => ({ ...e, errors: [...new Set([...e.errors, 'unauthorized' as const])] })) }));
    return { ...fuzzCase, steps };
  }
  const header = headerFor(variant, tokens, prng);
  const steps = fuzzCase.steps.map((s) => (Buffer.isBuffer(s.request) ? s : authStep(s, variant, header)));
  return { ...fuzzCase, name: variant === 'admin' ? fuzzCase.name : `${fuzzCase.name}+auth:${variant}`, tags: [...fuzzCase.tags, `auth:${variant}`], steps };
}
