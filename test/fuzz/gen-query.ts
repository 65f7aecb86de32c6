// Query strings for /kv/{key}: r, w, pr, pw, timeout, returnbody and ttl with valid, boundary and
// garbage values (docs/api.md, "Query parameters"), plus repeated and unknown parameters. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { certain, maybe, type Problem } from './expect.js';
import { weighted } from './gen-util.js';

export type KvMethod = 'GET' | 'HEAD' | 'PUT' | 'DELETE';

export interface QueryChoice {
  /** `?…` or empty. */
  readonly text: string;
  readonly problems: readonly Problem[];
  /** `returnbody=true` was sent (and is the only returnbody): a successful PUT answers 200/300. */
  readonly returnBody: boolean;
}

/** The cluster the fuzzer runs: 3 nodes, N = 3. */
const n = 3;

type Param = 'r' | 'w' | 'pr' | 'pw' | 'timeout' | 'returnbody' | 'ttl';
/** A value as sent (already percent-encoded where needed) and whether the contract accepts it. */
type Value = { readonly raw: string; readonly verdict: 'valid' | 'invalid' | 'unclear'; readonly resolved?: number };

const q = (raw: string, resolved: number): Value => ({ raw, verdict: 'valid', resolved });
const quorumValid = [q('1', 1), q('2', 2), q('3', 3), q('one', 1), q('quorum', 2), q('all', 3), q('%31', 1)];
const primaryValid = [q('0', 0), ...quorumValid];
const bad = (...raws: string[]): Value[] => raws.map((raw) => ({ raw, verdict: 'invalid' }));
const unclear = (...raws: string[]): Value[] => raws.map((raw) => ({ raw, verdict: 'unclear' }));
const quorumInvalid = bad('4', '-1', '', 'abc', '2.0', '1e0', '%zz', '+1', '%20', 'x'.repeat(17), '99999', '18446744073709551617', 'null', 'NaN');
const quorumUnclear = unclear('01', '003', 'ALL', 'One');

const values: Record<Param, { valid: Value[]; invalid: Value[]; unclear: Value[] }> = {
  r: { valid: quorumValid, invalid: [...bad('0'), ...quorumInvalid], unclear: quorumUnclear },
  w: { valid: quorumValid, invalid: [...bad('0'), ...quorumInvalid], unclear: quorumUnclear },
  pr: { valid: primaryValid, invalid: quorumInvalid, unclear: quorumUnclear },
  pw: { valid: primaryValid, invalid: quorumInvalid, unclear: quorumUnclear },
  timeout: {
    valid: ['1', '2', '50', '2000', '59999', '60000', '%32%30%30%30'].map((raw) => ({ raw, verdict: 'valid' as const })),
    invalid: bad('0', '60001', '-1', 'abc', '1.5', '', '1e3', '99999999999999999999', '%zz', '0x10', 'Infinity'),
    unclear: unclear('000001', '0002000'),
  },
  returnbody: { valid: ['true', 'false'].map((raw) => ({ raw, verdict: 'valid' as const })), invalid: bad('maybe', 'TRUE', '1', '', 'yes', '%zz'), unclear: [] },
  // Valid ttls are long, so no value the fuzzer wrote expires while it checks what is stored.
  ttl: {
    valid: ['3600', '86400', '31536000', '%33%36%30%30'].map((raw) => ({ raw, verdict: 'valid' as const })),
    invalid: bad('0', '-1', '31536001', 'abc', '1.5', '', '1e3', '%zz', '99999999999999999999', 'Infinity'),
    unclear: unclear('03600'),
  },
};

const codeOf: Record<Param, ErrorCode> = { r: 'invalid_quorum', w: 'invalid_quorum', pr: 'invalid_quorum', pw: 'invalid_quorum', timeout: 'invalid_timeout', returnbody: 'bad_request', ttl: 'invalid_ttl' };

const relevant: Record<KvMethod, readonly Param[]> = {
  GET: ['r', 'pr', 'timeout'],
  HEAD: ['r', 'pr', 'timeout'],
  PUT: ['w', 'pw', 'timeout', 'returnbody', 'ttl'],
  DELETE: ['w', 'pw', 'timeout'],
};

/** Parameters the contract ignores (docs/api.md: "Other query parameters are ignored"). */
const junk = ['foo=bar', 'x', '=', '&', 'R=4', 'W=abc', 'Timeout=0', '__proto__=1', 'constructor=x', 'hasOwnProperty=1', 'r%00=1', 'a=%zz', 'a[b]=c', 'toString'];

function pickValue(prng: Prng, param: Param): Value {
  const set = values[param];
  return weighted(prng, [
    [70, () => prng.pick(set.valid)],
    [25, () => prng.pick(set.invalid)],
    [set.unclear.length > 0 ? 5 : 0, () => prng.pick(set.unclear.length > 0 ? set.unclear : set.valid)],
  ])();
}

export function generateQuery(prng: Prng, method: KvMethod | 'OTHER'): QueryChoice {
  const parts: string[] = [];
  const problems: Problem[] = [];
  const sent = new Map<Param, Value>();
  const own = method === 'OTHER' ? [] : relevant[method];
  for (const param of ['r', 'w', 'pr', 'pw', 'timeout', 'returnbody', 'ttl'] as const) {
    const mine = own.includes(param);
    if (!prng.chance(mine ? 0.35 : 0.06)) continue;
    const value = pickValue(prng, param);
    parts.push(`${param}=${value.raw}`);
    // A bad percent-escape may fail the whole query string rather than the one parameter.
    const codes: ErrorCode[] = value.raw.includes('%zz') ? [codeOf[param], 'bad_request'] : [codeOf[param]];
    if (value.verdict === 'valid') sent.set(param, value);
    // ttl is refused on GET, HEAD and DELETE whatever its value (it would look applied).
    if (param === 'ttl' && !mine && method !== 'OTHER') problems.push(certain('q:ttl-not-put', ...codes));
    else if (mine && value.verdict === 'invalid') problems.push(certain(`q:${param}-invalid`, ...codes));
    else if (value.verdict !== 'valid') problems.push(maybe(`q:${param}-${value.verdict}${mine ? '' : '-unused'}`, ...codes));
    if (prng.chance(0.04)) {
      parts.push(`${param}=${pickValue(prng, param).raw}`);
      problems.push(maybe(`q:${param}-repeated`, codeOf[param], 'bad_request'));
      sent.delete(param);
    }
  }
  // pr/pw may not exceed r/w (the node's default for both is quorum, 2 of 3).
  for (const [primary, total] of [['pr', 'r'], ['pw', 'w']] as const) {
    if (!own.includes(primary)) continue;
    const p = sent.get(primary)?.resolved ?? 0;
    const t = parts.some((part) => part.startsWith(`${total}=`)) ? sent.get(total)?.resolved : Math.floor(n / 2) + 1;
    if (t !== undefined && p > t) problems.push(certain(`q:${primary}>${total}`, 'invalid_quorum'));
  }
  while (prng.chance(0.15)) {
    const extra = prng.pick(junk);
    parts.splice(prng.int(0, parts.length), 0, extra);
    if (extra.includes('%zz')) problems.push(maybe('q:junk-bad-escape', 'bad_request'));
  }
  const text = parts.length === 0 ? (prng.chance(0.05) ? '?' : '') : `?${parts.join('&')}`;
  const returnBody = method === 'PUT' && sent.get('returnbody')?.raw === 'true';
  return { text, problems, returnBody };
}
