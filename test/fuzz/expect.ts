// Turning what a generator put into a request into the answers the contract allows. A request
// collects problems; a certain problem must make it fail with one of its codes, an uncertain one
// (behaviour the docs leave open) may make it fail with one of its codes or not at all. Where
// several problems meet, any of their codes is accepted: the order of checks is not specified.
import { errorCatalog, type ErrorCode } from '../../src/core/errors.js';
import type { BodyKind, Expect } from './types.js';

export interface Problem {
  readonly codes: readonly ErrorCode[];
  readonly certain: boolean;
  /** A short label, e.g. `ct:too-long`; it becomes a tag of the case. */
  readonly tag: string;
  /** The request cannot even be read (e.g. headers over the limit): only these codes, whatever else is wrong... */
  readonly exclusive?: boolean;
  /** ...unless the HTTP parser meets this problem first (bytes it refuses, early in the request). */
  readonly parser?: boolean;
}

export const certain = (tag: string, ...codes: ErrorCode[]): Problem => ({ codes, certain: true, tag });
export const maybe = (tag: string, ...codes: ErrorCode[]): Problem => ({ codes, certain: false, tag });
export const exclusive = (tag: string, ...codes: ErrorCode[]): Problem => ({ codes, certain: true, tag, exclusive: true });
/** A problem in the bytes themselves, which the HTTP parser may refuse before reading the rest. */
export const inParser = (p: Problem): Problem => ({ ...p, parser: true });

const allCodes = Object.keys(errorCatalog) as ErrorCode[];

/** Every catalogued 4xx code: "some catalogued refusal", where the docs do not name one. */
export const any4xx: readonly ErrorCode[] = allCodes.filter((c) => errorCatalog[c].status >= 400 && errorCatalog[c].status < 500);
/** Every catalogued code with status 400. */
export const any400: readonly ErrorCode[] = allCodes.filter((c) => errorCatalog[c].status === 400);

const union = (...lists: (readonly ErrorCode[])[]): ErrorCode[] => [...new Set(lists.flat())];

export interface Outcome {
  /** Success statuses when nothing is wrong with the request. */
  readonly ok: readonly number[];
  /** Errors a well-formed request may still get (e.g. quorum_unavailable, not_found). */
  readonly errors: readonly ErrorCode[];
  readonly body: BodyKind;
  readonly head?: boolean;
  readonly rpcBatch?: number;
}

/** The allowed answers of a request with these problems (an exclusive one allows only its own codes). */
export function expectFor(outcome: Outcome, problems: readonly Problem[], why: readonly string[] = []): Expect {
  const only = problems.find((p) => p.exclusive);
  const base = { body: outcome.body, ...(outcome.head ? { head: true } : {}), ...(outcome.rpcBatch !== undefined ? { rpcBatch: outcome.rpcBatch } : {}) };
  if (only) {
    const early = problems.filter((p) => p.parser);
    return { ...base, ok: [], errors: union(only.codes, ...early.map((p) => p.codes)), why: [...why, only.tag, ...early.map((p) => p.tag)], certain: [only.tag] };
  }
  const anyCertain = problems.some((p) => p.certain);
  return {
    ...base,
    certain: problems.filter((p) => p.certain).map((p) => p.tag),
    ok: anyCertain ? [] : outcome.ok,
    errors: union(anyCertain ? [] : outcome.errors, ...problems.map((p) => p.codes)),
    why: [...why, ...problems.map((p) => `${p.certain ? '' : '?'}${p.tag}`)],
  };
}

/** A refusal with any of `codes` and nothing else. */
export const refusal = (codes: readonly ErrorCode[], why: string, head = false): Expect => ({
  ok: [],
  errors: codes,
  body: 'any',
  ...(head ? { head: true } : {}),
  why: [why],
});
