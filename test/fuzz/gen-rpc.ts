// The internal RPC family: POST /internal/rpc with msgpack bodies (msgpackr's `pack`, or the raw
// encoder for what msgpackr would not write): valid batches, mutated messages, mixed batches,
// empty and huge batches, random values and broken bytes; with the cluster credential, without
// it, or with a wrong one (docs/api.md section 4). Pure.
import { Packr } from 'msgpackr';
import type { Prng } from '../../jepsen-like/prng.js';
import { any4xx, certain, exclusive, expectFor, maybe, type Outcome, type Problem } from './expect.js';
import { hex, randomBytes, randomString, weighted } from './gen-util.js';
import { deepArray, describeMp, encodeMp, lyingArrayHeader, MpMap, toPlain, uint64, type Mp } from './msgpack-raw.js';
import { rpcTypes, validMessage } from './rpc-messages.js';
import { mutateMessage, withField, type MutationVerdict } from './rpc-mutate.js';
import type { GenConfig } from './gen-client.js';
import type { FuzzCase, HttpShape, PostCheck } from './types.js';

export const rpcPath = '/internal/rpc';
/** The same msgpackr options as src/transport/codec.ts. */
const packr = new Packr({ useRecords: false, moreTypes: false });

export interface RpcGenConfig extends GenConfig {
  readonly secret: string;
}

interface Body {
  /** The generator branch, e.g. `replicate.mutated-swap`: part of the case name. */
  readonly name: string;
  readonly bytes: Buffer;
  readonly verdict: MutationVerdict;
  readonly label: string;
  /** Outcomes a 200 answer must hold (a batch of that many messages). */
  readonly count?: number;
  /** A key a valid message of a refused batch would have written. */
  readonly probeKey?: string;
}

const rpcKey = (prng: Prng) => `fz-rpc-${hex(prng, 12)}`;
const worst = (verdicts: readonly MutationVerdict[]): MutationVerdict => (verdicts.includes('invalid') ? 'invalid' : verdicts.includes('unclear') ? 'unclear' : 'valid');

function encode(prng: Prng, value: Mp): { bytes: Buffer; encoder: string } {
  const plain = toPlain(value);
  if (plain !== undefined && prng.chance(0.5)) return { bytes: packr.pack(plain), encoder: 'msgpackr' };
  return { bytes: encodeMp(value), encoder: 'raw' };
}

function batchBody(prng: Prng, batch: readonly Mp[], verdict: MutationVerdict, name: string, label: string, probeKey?: string): Body {
  const { bytes, encoder } = encode(prng, batch);
  return { name, bytes, verdict, label: `${label} [${encoder}] ${describeMp(batch)}`, count: batch.length, ...(probeKey ? { probeKey } : {}) };
}

const typeOf = (message: Mp): string => {
  const type = message instanceof MpMap ? message.get('type') : undefined;
  return typeof type === 'string' && /^[a-zA-Z]{1,20}$/.test(type) ? type : 'message';
};

function randomTree(prng: Prng, depth: number): Mp {
  return weighted<() => Mp>(prng, [
    [3, () => prng.int(-1000, 1000)],
    [3, () => randomString(prng, 20)],
    [2, () => randomBytes(prng, prng.int(0, 20))],
    [1, () => null],
    [depth > 0 ? 3 : 0, () => Array.from({ length: prng.int(0, 4) }, () => randomTree(prng, depth - 1))],
    [depth > 0 ? 3 : 0, () => new MpMap(Array.from({ length: prng.int(0, 4) }, () => [randomString(prng, 6), randomTree(prng, depth - 1)] as const))],
  ])();
}

function generateBody(prng: Prng, nodes: number): Body {
  const valid = () => validMessage(prng, prng.pick(rpcTypes), rpcKey(prng), nodes);
  return weighted<() => Body>(prng, [
    [20, () => batchBody(prng, Array.from({ length: prng.int(1, 4) }, valid), 'valid', 'valid-batch', 'valid batch')],
    [
      42,
      () => {
        const batch = Array.from({ length: prng.int(1, 3) }, valid);
        const at = prng.int(0, batch.length - 1);
        const type = typeOf(batch[at]!);
        const m = mutateMessage(prng, batch[at]!);
        batch[at] = m.message;
        return batchBody(prng, batch, m.verdict, `${type}.mutated-${m.label.split(' ')[0]}`, `mutated ${type}: ${m.label}`);
      },
    ],
    [
      6,
      () => {
        const message = validMessage(prng, 'forward', rpcKey(prng), nodes);
        const field = prng.pick(['timeoutMs', 'timeoutMs', 'w', 'r']);
        const huge = prng.chance(0.7);
        const path = ['request', field];
        const value = uint64(huge ? prng.pick([2n ** 64n - 1n, 2n ** 53n + 1n]) : BigInt(prng.int(1, 3)));
        const mutated = withField(message, path, value);
        // Only a field the op has is replaced (a get has r, a put or delete w).
        const changed = describeMp(mutated) !== describeMp(message);
        return batchBody(prng, [mutated], changed && huge ? 'invalid' : 'unclear', `forward.uint64-${field}`, `forward with uint64 ${field}${huge ? ' (huge)' : ''}`);
      },
    ],
    [
      8,
      () => {
        const probeKey = rpcKey(prng);
        const good = validMessage(prng, 'replicate', probeKey, nodes);
        let bad: Mp = withField(valid(), ['type'], 'unknown');
        for (let i = 0; i < 10; i++) {
          const m = mutateMessage(prng, valid());
          if (m.verdict === 'invalid') {
            bad = m.message;
            break;
          }
        }
        return batchBody(prng, prng.shuffle([good, bad]), 'invalid', 'mixed-batch', 'valid replicate + invalid message', probeKey);
      },
    ],
    [3, () => batchBody(prng, [], 'invalid', 'empty-batch', 'empty batch')],
    [
      3,
      () => {
        const type = prng.pick(['ping', 'read', 'keyPending'] as const);
        const batch = Array.from({ length: prng.int(500, 3000) }, () => validMessage(prng, type, rpcKey(prng), nodes));
        return batchBody(prng, batch, 'unclear', 'huge-batch', `huge batch of ${type}`);
      },
    ],
    [
      4,
      () => {
        const value = prng.pick<Mp>([valid(), 'ping', 42, null, randomBytes(prng, 8), new MpMap([['type', 'ping']])]);
        return { name: 'not-an-array', bytes: encode(prng, value).bytes, verdict: 'invalid', label: `not an array: ${describeMp(value)}` };
      },
    ],
    [
      4,
      () => {
        const value = randomTree(prng, 4);
        return { name: 'random-value', bytes: encodeMp([value]), verdict: 'invalid', label: `random msgpack value in a batch: ${describeMp(value)}` };
      },
    ],
    [
      10,
      () => {
        const whole = encodeMp(Array.from({ length: prng.int(1, 3) }, valid));
        return weighted<() => Body>(prng, [
          [3, () => ({ name: 'bytes-truncated', bytes: whole.subarray(0, prng.int(0, whole.length - 1)), verdict: 'invalid', label: 'truncated batch' })],
          [2, () => ({ name: 'bytes-trailing', bytes: Buffer.concat([whole, randomBytes(prng, prng.int(1, 16))]), verdict: 'unclear', label: 'batch + trailing bytes' })],
          [2, () => ({ name: 'bytes-random', bytes: randomBytes(prng, prng.int(1, 512)), verdict: 'invalid', label: 'random bytes' })],
          [1, () => ({ name: 'bytes-empty', bytes: Buffer.alloc(0), verdict: 'invalid', label: 'empty body' })],
          [1, () => ({ name: 'bytes-deep', bytes: encodeMp(deepArray(prng.int(10_000, 500_000))), verdict: 'invalid', label: 'deeply nested arrays' })],
          [1, () => ({ name: 'bytes-lying-header', bytes: encodeMp(lyingArrayHeader(2 ** 32 - 1)), verdict: 'invalid', label: 'array32 header, no elements' })],
        ])();
      },
    ],
  ])();
}

export function generateRpcCase(prng: Prng, config: RpcGenConfig): FuzzCase {
  const body = generateBody(prng, config.nodes);
  const auth = weighted(prng, [
    [78, { header: `Bearer ${config.secret}`, ok: true, tag: 'auth:ok' }],
    [10, { header: undefined, ok: false, tag: 'auth:none' }],
    [8, { header: prng.pick(['Bearer wrong', 'Bearer ', `Bearer ${config.secret}x`, `Basic ${config.secret}`]), ok: false, tag: 'auth:wrong' }],
    [4, { header: config.secret, ok: false, tag: 'auth:no-scheme' }],
  ]);
  const method = prng.chance(0.95) ? 'POST' : prng.pick(['GET', 'PUT', 'DELETE', 'PATCH']);
  const contentType = weighted(prng, [
    [85, 'application/msgpack'],
    [5, undefined],
    [5, 'application/json'],
    [5, 'text/plain'],
  ]);
  const headers: [string, string][] = [];
  if (auth.header !== undefined) headers.push(['Authorization', auth.header]);
  if (contentType !== undefined) headers.push(['Content-Type', contentType]);
  const shape: HttpShape = { method, target: rpcPath, headers, body: body.bytes, framing: { kind: 'length' } };

  const problems: Problem[] = [];
  let outcome: Outcome = { ok: [200], errors: [], body: 'rpc', ...(body.count !== undefined ? { rpcBatch: body.count } : {}) };
  if (method !== 'POST') outcome = { ok: [], errors: any4xx, body: 'any' };
  else if (!auth.ok) problems.push(exclusive(`rpc:${auth.tag}`, 'unauthorized'));
  else {
    if (contentType !== 'application/msgpack') problems.push(maybe(`rpc:content-type-${contentType ?? 'absent'}`, 'bad_request'));
    if (body.verdict === 'invalid') problems.push(certain('rpc:invalid-body', 'bad_request'));
    if (body.verdict === 'unclear') problems.push(maybe('rpc:unclear-body', 'bad_request'));
  }
  const after: PostCheck | undefined = body.probeKey !== undefined ? { kind: 'absent', encodedKey: body.probeKey } : undefined;
  return {
    family: 'rpc',
    name: `rpc.${body.name}`,
    tags: [auth.tag, `method:${method}`, `body:${body.verdict}`, ...problems.map((p) => p.tag)],
    steps: [{ node: prng.int(0, config.nodes - 1), request: shape, expect: [expectFor(outcome, problems, [body.label])], ...(after ? { after } : {}) }],
  };
}
