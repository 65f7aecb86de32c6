// The admin family: /health, /cluster, /metrics, /replica/kv/{key}, GET /kv and unknown routes, with
// random methods, query junk, bodies and headers (docs/api.md section 3). Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { any4xx, expectFor, maybe, type Outcome, type Problem } from './expect.js';
import { generateExpect, generateExtraHeaders, generatePadding, headSizeProblem, padTo } from './gen-headers.js';
import { generateKey } from './gen-keys.js';
import { body, printable, weighted } from './gen-util.js';
import { renderHead } from './wire-request.js';
import type { FuzzCase, HttpShape } from './types.js';
import type { GenConfig } from './gen-client.js';

interface Route {
  readonly path: string | Buffer;
  readonly name: string;
  /** What a GET (or HEAD) gets; other methods get a catalogued 4xx. */
  readonly get: Outcome;
  readonly problem?: Problem;
}

const refused: Outcome = { ok: [], errors: any4xx, body: 'any' };
const unknownRoutes = [
  '/',
  '/health/',
  '/healthz',
  '//health',
  '/HEALTH',
  '/%zz',
  '/%FF',
  '/replica',
  '/replica/kv',
  '/internal/rpc',
  '/internal/rpc/',
  '/internal',
  '/metrics/../health',
  '/.env',
  '/cluster%00',
  '*',
  '/kv/../health',
];
const otherMethods = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'];

function pickRoute(prng: Prng): Route {
  return weighted<() => Route>(prng, [
    [20, () => ({ path: '/health', name: 'health', get: { ok: [200, 503], errors: [], body: 'health' } })],
    [12, () => ({ path: '/cluster', name: 'cluster', get: { ok: [200], errors: [], body: 'cluster' } })],
    [6, () => ({ path: '/metrics', name: 'metrics', get: { ok: [200], errors: [], body: 'metrics' } })],
    [
      30,
      () => {
        const key = generateKey(prng);
        const path = typeof key.segment === 'string' ? `/replica/kv/${key.segment}` : Buffer.concat([Buffer.from('/replica/kv/'), key.segment]);
        return { path, name: `replica`, get: { ok: [200], errors: ['not_found'], body: 'replica' }, ...(key.problem ? { problem: key.problem } : {}) };
      },
    ],
    [
      4,
      // Absolute-form request-target (RFC 9112 says a server must accept it).
      () => ({ path: 'http://127.0.0.1/health', name: 'absolute-form', get: { ok: [200, 503], errors: any4xx, body: 'any' } }),
    ],
    // The key listing's first page (its parameters are not fuzzed here: junk ones are ignored).
    [6, () => ({ path: '/kv', name: 'list', get: { ok: [200], errors: [], body: 'any' } })],
    [25, () => ({ path: prng.pick(unknownRoutes), name: 'unknown-route', get: refused })],
  ])();
}

export function generateAdminCase(prng: Prng, config: GenConfig): FuzzCase {
  const route = pickRoute(prng);
  const method = weighted(prng, [
    [75, 'GET'],
    [8, 'HEAD'],
    [17, prng.pick(otherMethods)],
  ]);
  const readLike = method === 'GET' || method === 'HEAD';
  const problems: Problem[] = route.problem ? [route.problem] : [];
  const query = prng.chance(0.15) ? `?${prng.pick(['x=1', 'verbose', '=', 'a=%zz', `q=${printable(prng, 30).replace(/[#?]/g, '')}`])}` : '';
  if (query.includes('%zz')) problems.push(maybe('q:bad-escape', 'bad_request'));
  const length = prng.chance(0.1) ? prng.int(1, 70_000) : 0;
  if (length > 0) problems.push(maybe(`body:on-${method}`, ...any4xx));
  const expectHeader = generateExpect(prng);
  if (expectHeader.problem) problems.push(expectHeader.problem);
  const headers = [...expectHeader.headers, ...generateExtraHeaders(prng)];
  if (length > 0 && prng.chance(0.7)) headers.push(['Content-Type', prng.pick(['application/json', 'text/plain', 'application/msgpack'])]);
  const target = typeof route.path === 'string' ? `${route.path}${query}` : Buffer.concat([route.path, Buffer.from(query)]);
  let shape: HttpShape = { method, target, headers, body: body(prng, length), framing: { kind: 'length' } };
  const padding = generatePadding(prng);
  if (padding.targetBytes !== undefined) shape = { ...shape, headers: [...headers, ...padTo(prng, renderHead(shape).length, padding.targetBytes)] };
  const headProblem = headSizeProblem(renderHead(shape).length);
  if (headProblem) problems.push(headProblem);
  const outcome: Outcome = readLike ? { ...route.get, ...(method === 'HEAD' ? { head: true } : {}) } : refused;
  // Other methods have no route (404), and which check comes first is not specified: any refusal.
  const judged = readLike ? problems : problems.map((p) => (p.exclusive ? p : { ...p, certain: false }));
  return {
    family: 'admin',
    name: `admin.${route.name}`,
    tags: [`method:${readLike ? method : 'other'}`, ...problems.map((p) => p.tag)],
    steps: [{ node: prng.int(0, config.nodes - 1), request: shape, expect: [expectFor(outcome, judged, [`${method} ${route.name}`])] }],
  };
}
