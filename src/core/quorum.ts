// r/w/pr/pw: parsing the accepted forms and resolving them against N and the membership.
import { invariant } from './assert.js';
import { KvError } from './errors.js';
import type { QuorumSpec } from './rpc.js';

/** Parses one of `1..N | one | quorum | all` (and `0` where `zeroAllowed`, for pr/pw). */
export function parseQuorum(raw: string, n: number, name: string, zeroAllowed = false): QuorumSpec {
  if (raw === 'one' || raw === 'quorum' || raw === 'all') return raw;
  const min = zeroAllowed ? 0 : 1;
  if (/^[0-9]{1,4}$/.test(raw)) {
    const k = Number(raw);
    if (k >= min && k <= n) return k;
  }
  throw new KvError('invalid_quorum', `${name} must be ${min}..${n}, one, quorum or all; got "${raw}".`);
}

/**
 * The number of distinct replicas a spec asks for, given N and the number of members. The named
 * forms adapt to a cluster smaller than N; a number is taken literally, so it may exceed what the
 * cluster can give (the caller answers 503, never silently lowers it).
 */
export function resolveQuorum(spec: QuorumSpec, n: number, members: number): number {
  invariant(Number.isSafeInteger(n) && n >= 1 && Number.isSafeInteger(members) && members >= 1, () => `quorum: N=${n} over ${members} members`);
  const replicas = Math.min(n, members);
  switch (spec) {
    case 'one':
      return 1;
    case 'quorum': {
      const majority = Math.floor(replicas / 2) + 1;
      // Two majorities of the same replicas always meet: what makes r + w > N mean something.
      invariant(2 * majority > replicas && majority <= replicas, () => `quorum: ${majority} is not a majority of ${replicas}`);
      return majority;
    }
    case 'all':
      return replicas;
    default:
      invariant(Number.isSafeInteger(spec) && spec >= 0, () => `quorum: a numeric spec must be a count, got ${spec}`);
      return spec;
  }
}

/**
 * r/pr (or w/pw) as a request gives them: each a valid form (absent: `totalDefault`, and 0
 * primaries), and pr/pw not asking for more primaries than r/w asks for replicas.
 */
export function parseQuorumPair(
  total: string | undefined,
  primary: string | undefined,
  n: number,
  totalDefault: QuorumSpec,
  names: readonly ['r', 'pr'] | readonly ['w', 'pw'],
): readonly [total: QuorumSpec, primary: QuorumSpec] {
  const [totalName, primaryName] = names;
  const t = total === undefined ? totalDefault : parseQuorum(total, n, totalName);
  const p = primary === undefined ? 0 : parseQuorum(primary, n, primaryName, true);
  checkPrimaryQuorum(p, t, n, [primaryName, totalName]);
  return [t, p];
}

/** pr/pw may not ask for more primaries than r/w asks for replicas. */
export function checkPrimaryQuorum(primary: QuorumSpec, total: QuorumSpec, n: number, names: [string, string]): void {
  if (resolveQuorum(primary, n, n) > resolveQuorum(total, n, n)) {
    throw new KvError('invalid_quorum', `${names[0]} may not be greater than ${names[1]}.`);
  }
}
