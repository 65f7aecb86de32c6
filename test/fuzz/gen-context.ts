// X-Kvorum-Context values: none, one the server issued for the same key (valid), one it issued
// for another key (400 invalid_context: contexts are bound to their key), issued ones truncated,
// sent twice or with every counter at 2^53-1, undecodable garbage, hand-made well-formed tokens,
// tokens over 64 KiB. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { certain, inParser, maybe, type Problem } from './expect.js';
import { hex, printable, randomBytes, weighted } from './gen-util.js';
import type { ContextFrom, HeaderValue } from './types.js';

export const contextHeader = 'X-Kvorum-Context';
const contextTokenBytesMax = 64 * 1024;
const counterMax = Number.MAX_SAFE_INTEGER;

export interface ContextChoice {
  /** Static header(s) to send. */
  readonly headers: readonly (readonly [string, HeaderValue])[];
  /** A context to take from the answer to a PUT made first: of the same key, or of another one. */
  readonly prelude?: { readonly key: 'same' | 'other'; readonly transform: ContextFrom['transform'] };
  /** As it applies to a PUT or DELETE; GET ignores the header (uncertain there). */
  readonly problem?: Problem;
  /** After the write, read the key and write again with the context read: it must be accepted. */
  readonly reuseAfter?: boolean;
  readonly tag: string;
}

const token = (json: unknown): string => `c1.${Buffer.from(JSON.stringify(json), 'utf8').toString('base64url')}`;
const actor = (prng: Prng) => `${prng.pick(['n1', 'n2', 'n3', 'fz', 'x_y-z'])}.${hex(prng, prng.int(1, 12))}`;

export function generateContext(prng: Prng): ContextChoice {
  const header = (value: HeaderValue): (readonly [string, HeaderValue])[] => [[contextHeader, value]];
  const bad = (tag: string, value: HeaderValue): ContextChoice => ({ headers: header(value), problem: certain(`ctx:${tag}`, 'invalid_context'), tag });
  const handMade = (tag: string, value: string): ContextChoice => ({ headers: header(value), problem: maybe(`ctx:${tag}`, 'invalid_context'), tag });
  return weighted<() => ContextChoice>(prng, [
    [50, () => ({ headers: [], tag: 'none' })],
    [10, () => ({ headers: [], prelude: { key: 'same', transform: 'none' }, tag: 'same-key' })],
    [8, () => ({ headers: [], prelude: { key: 'other', transform: 'none' }, problem: certain('ctx:other-key', 'invalid_context'), tag: 'other-key' })],
    [3, () => ({ headers: [], prelude: { key: 'same', transform: 'truncate' }, problem: certain('ctx:truncated', 'invalid_context'), tag: 'truncated' })],
    [3, () => ({ headers: [], prelude: { key: 'same', transform: 'twice' }, problem: certain('ctx:sent-twice', 'invalid_context'), tag: 'sent-twice' })],
    [
      4,
      () => ({
        headers: [],
        prelude: { key: 'same', transform: 'bump' },
        problem: maybe('ctx:counters-2^53-1', 'invalid_context'),
        reuseAfter: true,
        tag: 'bumped',
      }),
    ],
    [3, () => bad('garbage', prng.pick(['garbage', 'c1.', 'c1.!!!!', 'c2.W1tdLFtdXQ', 'c1.W1tdLFtdXQ.x', '.', 'c1..', printable(prng, 40)]))],
    [2, () => bad('json-not-a-context', token(prng.pick<unknown>([{ a: 1 }, 'str', 42, null, [1], [[], [], []], [{}, {}], [[['n1.a']], []]])))],
    [
      2,
      () => ({
        // Control characters in a header value may be refused by the HTTP parser itself.
        headers: header(Buffer.from(randomBytes(prng, prng.int(1, 64)).toString('latin1').replace(/[\r\n\0]/g, 'z'), 'latin1')),
        problem: inParser(certain('ctx:binary', 'invalid_context', 'bad_request')),
        tag: 'binary',
      }),
    ],
    [2, () => bad('bad-counter', token([[[actor(prng), prng.pick<unknown>([0, -1, 1.5, 2 ** 53, '7', null, 1e308])]], []]))],
    [1, () => bad('bad-actor', token([[[prng.pick(['N1.X', '', 'a', 'a.b.c', 'n1.' + 'z'.repeat(40), 'é.1']), 1]], []]))],
    [2, () => bad('over-64k', `c1.${'A'.repeat(prng.int(contextTokenBytesMax + 1, contextTokenBytesMax + 6000))}`)],
    [1, () => ({ headers: [...header('garbage'), ...header('c1.W1tdLFtdXQ')], problem: certain('ctx:sent-twice', 'invalid_context'), tag: 'static-twice' })],
    [2, () => handMade('hand-made-huge-counter', token([[[actor(prng), counterMax]], [[actor(prng), counterMax]]]))],
    [1, () => handMade('hand-made-many-actors', token([Array.from({ length: prng.int(100, 1000) }, () => [actor(prng), prng.int(1, counterMax)]), []]))],
    [1, () => handMade('hand-made-empty', token([[], []]))],
    [1, () => handMade('empty-value', '')],
  ])();
}
