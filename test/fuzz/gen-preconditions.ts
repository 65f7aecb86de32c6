// Conditional request headers on /kv/{key} (docs/api.md, Conditional requests): If-None-Match and
// If-Match, well-formed and not, alone, together, repeated and beside X-Kvorum-Context, with the
// answers each allows: a 412 for a condition that may not hold, a 304 for a read, a catalogued 400
// for a form the route refuses. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { certain, type Problem } from './expect.js';
import type { Headers } from './gen-headers.js';
import type { KvMethod } from './gen-query.js';

export interface PreconditionChoice {
  readonly headers: Headers;
  readonly problems: readonly Problem[];
  /** The condition is well-formed and may not hold: 412 precondition_failed is allowed. */
  readonly mayFail: boolean;
  /** A read whose If-None-Match may match: 304 is allowed. */
  readonly mayBeNotModified: boolean;
  readonly tag: string;
}

const etags = ['"0123456789abcdef"', 'W/"0123456789abcdef"', '"a", "b"', '"0000000000000000"'];
const garbage = ['abc', '""', '*', 'c2.', 'c2.AAAA.AAAA', 'x'.repeat(300)];

type Shape = { readonly tag: string; readonly headers: Headers; readonly codes?: Problem['codes']; readonly mayFail?: boolean; readonly mayBeNotModified?: boolean };

function shapesFor(prng: Prng, kind: KvMethod): Shape[] {
  const refused = (tag: string, headers: Headers): Shape => ({ tag, headers, codes: ['invalid_precondition'] });
  const ifMatchGarbage: Shape = { tag: 'im-garbage', headers: [['If-Match', prng.pick(garbage)]], codes: ['invalid_context'] };
  switch (kind) {
    case 'PUT':
      return [
        { tag: 'inm-star', headers: [['If-None-Match', '*']], mayFail: true },
        refused('inm-etag', [['If-None-Match', prng.pick(etags)]]),
        refused('inm-twice', [['If-None-Match', '*'], ['If-None-Match', '*']]),
        ifMatchGarbage,
        { tag: 'im-and-inm', headers: [['If-Match', prng.pick(garbage)], ['If-None-Match', '*']], codes: ['invalid_precondition', 'invalid_context'] },
      ];
    case 'DELETE':
      return [ifMatchGarbage, refused('inm-on-delete', [['If-None-Match', '*']])];
    case 'GET':
    case 'HEAD':
      return [
        { tag: 'inm-star', headers: [['If-None-Match', '*']], mayBeNotModified: true },
        { tag: 'inm-etag', headers: [['If-None-Match', prng.pick(etags)]], mayBeNotModified: true },
        refused('inm-garbage', [['If-None-Match', prng.pick(['abc', 'W/', '"unterminated'])]]),
        refused('im-on-read', [['If-Match', prng.pick([...etags, ...garbage])]]),
      ];
  }
}

/** A precondition for a request of `kind` (sometimes none); `withContext`: X-Kvorum-Context is sent too. */
export function generatePrecondition(prng: Prng, kind: KvMethod | 'OTHER', withContext: boolean): PreconditionChoice | undefined {
  if (kind === 'OTHER' || !prng.chance(0.15)) return undefined;
  const shape = prng.pick(shapesFor(prng, kind));
  const problems: Problem[] = shape.codes ? [certain(`pre:${shape.tag}`, ...shape.codes)] : [];
  const ifMatch = shape.headers.some(([name]) => name === 'If-Match');
  if (ifMatch && withContext && kind !== 'GET' && kind !== 'HEAD') problems.push(certain('pre:im-with-context', 'invalid_precondition', 'invalid_context'));
  return { headers: shape.headers, problems, mayFail: shape.mayFail ?? false, mayBeNotModified: shape.mayBeNotModified ?? false, tag: `pre:${shape.tag}` };
}
