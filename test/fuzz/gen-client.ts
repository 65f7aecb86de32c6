// The client API family: GET/PUT/DELETE/HEAD and other methods on /kv/{key} with hostile keys,
// query strings, bodies, Content-Types, contexts and headers, each with the answers docs/api.md
// allows. A context "taken from a response" comes from a PUT made first in the same case, so
// every case stands alone and replays. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { any4xx, certain, expectFor, maybe, type Outcome, type Problem } from './expect.js';
import { generateContext } from './gen-context.js';
import {
  generateContentType, generateExpect, generateExtraHeaders, generatePadding, headSizeProblem, padTo, type Headers,
} from './gen-headers.js';
import { generateKey } from './gen-keys.js';
import { generatePrecondition, type PreconditionChoice } from './gen-preconditions.js';
import { generateQuery, type KvMethod } from './gen-query.js';
import { body, bodyLength, hex, weighted } from './gen-util.js';
import { renderHead } from './wire-request.js';
import type { CaseStep, FuzzCase, HttpShape } from './types.js';

/** Methods Node's parser knows that no /kv route serves (docs/api.md: 404 not_found). */
const otherMethods = ['POST', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH', 'PURGE', 'REPORT', 'COPY', 'MOVE', 'QUERY'];

export interface GenConfig {
  readonly nodes: number;
  readonly valueBytesMax: number;
}

const outcomes = (method: KvMethod, returnBody: boolean): Outcome => {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return { ok: [200, 300], errors: ['not_found', 'quorum_unavailable'], body: 'kv-read', head: method === 'HEAD' };
    case 'PUT':
      return returnBody ? { ok: [200, 300], errors: ['quorum_unavailable'], body: 'kv-read' } : { ok: [204], errors: ['quorum_unavailable'], body: 'kv-write' };
    case 'DELETE':
      return { ok: [204], errors: ['quorum_unavailable'], body: 'kv-write' };
  }
};

/** A well-formed condition may not hold (412); a read's If-None-Match may match (304). */
function withPrecondition(outcome: Outcome, pre: PreconditionChoice | undefined): Outcome {
  if (pre === undefined) return outcome;
  return {
    ...outcome,
    ok: pre.mayBeNotModified ? [...outcome.ok, 304] : outcome.ok,
    errors: pre.mayFail ? [...outcome.errors, 'precondition_failed'] : outcome.errors,
  };
}

/** Writes used to obtain a context: plain, w=all, and expected to succeed. */
function writeStep(node: number, encodedKey: string, value: string): CaseStep {
  return {
    node,
    request: { method: 'PUT', target: `/kv/${encodedKey}?w=all`, headers: [['Content-Type', 'text/plain']], body: Buffer.from(value), framing: { kind: 'length' } },
    expect: [expectFor({ ok: [204], errors: ['quorum_unavailable'], body: 'kv-write' }, [], ['setup write'])],
  };
}

export function generateClientCase(prng: Prng, config: GenConfig): FuzzCase {
  const pickNode = () => prng.int(0, config.nodes - 1);
  const kind = weighted<KvMethod | 'OTHER'>(prng, [
    [28, 'GET'],
    [34, 'PUT'],
    [14, 'DELETE'],
    [6, 'HEAD'],
    [18, 'OTHER'],
  ]);
  const method = kind === 'OTHER' ? prng.pick(otherMethods) : kind;
  const key = generateKey(prng);
  const query = generateQuery(prng, kind);
  const writes = kind === 'PUT' || kind === 'DELETE';
  const ct = kind === 'PUT' || prng.chance(0.1) ? generateContentType(prng) : undefined;
  const ctx = writes || prng.chance(0.15) ? generateContext(prng) : undefined;
  const expectHeader = generateExpect(prng);
  const pre = generatePrecondition(prng, kind, ctx !== undefined);
  const padding = generatePadding(prng);

  const length = kind === 'PUT' || prng.chance(0.1) ? bodyLength(prng, config.valueBytesMax) : 0;
  const data = body(prng, length);
  const framing: HttpShape['framing'] =
    kind === 'PUT' && length > 0 && prng.chance(0.1)
      ? { kind: 'chunked', chunks: Array.from({ length: prng.int(1, 8) }, () => prng.int(1, Math.max(1, length))) }
      : { kind: 'length' };

  const problems: Problem[] = [];
  const relevantHere = (p: Problem | undefined, relevant: boolean): void => {
    if (p) problems.push(relevant ? p : { ...p, certain: false, tag: `${p.tag}-unused` });
  };
  if (key.problem) problems.push(key.problem);
  problems.push(...query.problems);
  relevantHere(ct?.problem, kind === 'PUT');
  relevantHere(ctx?.problem, writes);
  if (expectHeader.problem) problems.push(expectHeader.problem);
  problems.push(...(pre?.problems ?? []));
  if (kind === 'PUT' && length > config.valueBytesMax) problems.push(certain('body:over-max-value', 'value_too_large'));
  if (kind !== 'PUT' && length > 0) problems.push(maybe(`body:on-${kind}`, 'bad_request', 'value_too_large', 'invalid_content_type'));

  const steps: CaseStep[] = [];
  let contextStep: number | undefined;
  const segment = typeof key.segment === 'string' ? key.segment : undefined;
  if (ctx?.prelude) {
    const preludeKey = ctx.prelude.key === 'same' && segment !== undefined && !key.problem ? segment : `fz-ctx-${hex(prng, 12)}`;
    steps.push(writeStep(pickNode(), preludeKey, 'prelude'));
    contextStep = 0;
  }

  const headers: Headers = [...(ct?.headers ?? []), ...(ctx?.headers ?? []), ...(pre?.headers ?? []), ...expectHeader.headers, ...generateExtraHeaders(prng)];
  const target = typeof key.segment === 'string' ? `/kv/${key.segment}${query.text}` : Buffer.concat([Buffer.from('/kv/'), key.segment, Buffer.from(query.text)]);
  let shape: HttpShape = { method, target, headers, body: data, framing };
  if (padding.targetBytes !== undefined) shape = { ...shape, headers: [...headers, ...padTo(prng, renderHead(shape).length, padding.targetBytes)] };
  const headProblem = headSizeProblem(renderHead(shape).length + (contextStep !== undefined ? 512 : 0));
  if (headProblem) problems.push(headProblem);

  const outcome: Outcome = kind === 'OTHER' ? { ok: [], errors: any4xx, body: 'any' } : withPrecondition(outcomes(kind, query.returnBody), pre);
  // No route serves other methods (404), and which check comes first is not specified: any refusal.
  const judged = kind === 'OTHER' ? problems.map((p) => (p.exclusive ? p : { ...p, certain: false })) : problems;
  const mainNode = pickNode();
  const stored = kind === 'PUT' && pre === undefined && key.unique && ct?.stored !== undefined && segment !== undefined && length <= config.valueBytesMax;
  steps.push({
    node: mainNode,
    request: shape,
    expect: [expectFor(outcome, judged, [`${method} ${key.tag} key`])],
    ...(contextStep !== undefined ? { context: { step: contextStep, transform: ctx!.prelude!.transform } } : {}),
    ...(stored ? { after: { kind: 'stored' as const, encodedKey: segment, body: data, contentTypes: ct!.stored! } } : {}),
  });

  // A context the server issued for a key must be accepted for that key, whatever came before.
  if (ctx?.reuseAfter && segment !== undefined && !key.problem) {
    const read = steps.length;
    steps.push({
      node: pickNode(),
      request: { method: 'GET', target: `/kv/${segment}?r=all`, headers: [], body: Buffer.alloc(0), framing: { kind: 'length' } },
      expect: [expectFor({ ok: [200, 300], errors: ['not_found', 'quorum_unavailable'], body: 'kv-read' }, [], ['read back after a hostile context'])],
    });
    steps.push({ ...writeStep(pickNode(), segment, 'again'), context: { step: read, transform: 'none' } });
  }

  const tags = [`key:${key.tag}`, ...problems.map((p) => p.tag), ...(ct ? [`ct:${ct.tag}`] : []), ...(ctx ? [`ctx:${ctx.tag}`] : []), ...(pre ? [pre.tag] : [])];
  if (framing.kind === 'chunked') tags.push('body:chunked');
  return { family: 'client', name: `client.${kind === 'OTHER' ? 'other-method' : kind}`, tags: [...new Set(tags)], steps };
}
