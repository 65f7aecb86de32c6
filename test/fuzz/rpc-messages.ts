// Valid internal RPC messages of every type in src/core/rpc.ts, as msgpack values the mutators
// can take apart, and the shape each field must have (for judging whether a mutation made a
// message invalid). Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { hex, randomBytes } from './gen-util.js';
import { mpMap, type Mp } from './msgpack-raw.js';

export const rpcTypes = ['ping', 'replicate', 'read', 'readDigest', 'forward', 'aeRoots', 'aeBranches', 'aeLeaves', 'aeKeys', 'keyPending', 'reap'] as const;
export type RpcType = (typeof rpcTypes)[number];

/** The ring every fuzzed cluster has (the default). */
export const partitions = 64;
const branchesPerTree = 16;
const leavesPerTree = 256;

const actor = (prng: Prng) => `fz.${hex(prng, prng.int(1, 8))}`;
const quorum = (prng: Prng, zero: boolean): Mp => prng.pick<Mp>([...(zero ? [0] : []), 1, 2, 3, 'one', 'quorum', 'all']);
const subset = (prng: Prng, size: number): number[] => prng.shuffle(Array.from({ length: size }, (_, i) => i)).slice(0, prng.int(1, size));
/** A plausible wall-clock ms (pure: no clock read). */
const wallMs = (prng: Prng) => 1_700_000_000_000 + prng.int(0, 2 ** 31);

export function versionedObject(prng: Prng): Mp {
  const a = actor(prng);
  const n = prng.int(1, 100);
  const value = prng.chance(0.8)
    ? mpMap({ kind: 'value', data: randomBytes(prng, prng.int(0, 200)), contentType: prng.pick(['text/plain', 'application/octet-stream', 'foo']) })
    : mpMap({ kind: 'tombstone', deletedAtMs: wallMs(prng) });
  return mpMap({ context: mpMap({ vv: [[a, n]], cloud: [] }), siblings: [mpMap({ dot: [a, n], value })] });
}

function clientOp(prng: Prng, key: string): Mp {
  const timeoutMs = prng.int(1, 3000);
  switch (prng.pick(['get', 'put', 'delete'] as const)) {
    case 'get':
      return mpMap({ op: 'get', key, r: quorum(prng, false), pr: 0, timeoutMs });
    case 'put':
      return mpMap({ op: 'put', key, data: randomBytes(prng, prng.int(0, 300)), contentType: 'text/plain', context: undefined, w: quorum(prng, false), pw: 0, timeoutMs });
    case 'delete':
      return mpMap({ op: 'delete', key, context: undefined, w: quorum(prng, false), pw: 0, timeoutMs });
  }
}

/** A valid message of `type` about `key` (a key no client case uses). */
export function validMessage(prng: Prng, type: RpcType, key: string, nodes: number): Mp {
  switch (type) {
    case 'ping':
      return mpMap({ type });
    case 'replicate':
      return prng.chance(0.2)
        ? mpMap({ type, key, object: versionedObject(prng), hintFor: `n${prng.int(1, nodes)}` })
        : mpMap({ type, key, object: versionedObject(prng) });
    case 'read':
    case 'readDigest':
    case 'keyPending':
      return mpMap({ type, key });
    case 'forward':
      return mpMap({ type, request: clientOp(prng, key) });
    case 'aeRoots':
      return mpMap({ type, partitions: subset(prng, partitions) });
    case 'aeBranches':
      return mpMap({ type, partition: prng.int(0, partitions - 1) });
    case 'aeLeaves':
      return mpMap({ type, partition: prng.int(0, partitions - 1), branches: subset(prng, branchesPerTree) });
    case 'aeKeys':
      return mpMap({ type, partition: prng.int(0, partitions - 1), leaves: subset(prng, leavesPerTree).slice(0, 32) });
    case 'reap':
      return mpMap({ type, key, digest: hex(prng, 40) });
  }
}

/** What a field must hold, by its path in a message (list indices written `#`, tuple positions as digits). */
export type FieldKind = 'map' | 'list' | 'tuple' | 'str' | 'bin' | 'uint' | 'quorum' | 'type' | 'op' | 'kind';

const contextFields = (prefix: string): Record<string, FieldKind> => ({
  [prefix]: 'map',
  [`${prefix}.vv`]: 'list',
  [`${prefix}.vv.#`]: 'tuple',
  [`${prefix}.vv.#.0`]: 'str',
  [`${prefix}.vv.#.1`]: 'uint',
  [`${prefix}.cloud`]: 'list',
  [`${prefix}.cloud.#`]: 'tuple',
  [`${prefix}.cloud.#.0`]: 'str',
  [`${prefix}.cloud.#.1`]: 'uint',
});

export const fieldKinds: Readonly<Record<string, FieldKind>> = {
  '': 'map',
  type: 'type',
  key: 'str',
  hintFor: 'str',
  digest: 'str',
  object: 'map',
  ...contextFields('object.context'),
  'object.siblings': 'list',
  'object.siblings.#': 'map',
  'object.siblings.#.dot': 'tuple',
  'object.siblings.#.dot.0': 'str',
  'object.siblings.#.dot.1': 'uint',
  'object.siblings.#.value': 'map',
  'object.siblings.#.value.kind': 'kind',
  'object.siblings.#.value.data': 'bin',
  'object.siblings.#.value.contentType': 'str',
  'object.siblings.#.value.deletedAtMs': 'uint',
  request: 'map',
  'request.op': 'op',
  'request.key': 'str',
  'request.data': 'bin',
  'request.contentType': 'str',
  ...contextFields('request.context'),
  'request.r': 'quorum',
  'request.w': 'quorum',
  'request.pr': 'quorum',
  'request.pw': 'quorum',
  'request.timeoutMs': 'uint',
  partitions: 'list',
  'partitions.#': 'uint',
  partition: 'uint',
  branches: 'list',
  'branches.#': 'uint',
  leaves: 'list',
  'leaves.#': 'uint',
};

/** Fields a message may lack (or hold nil/undefined in). */
export const optionalFields: ReadonlySet<string> = new Set(['hintFor', 'request.context', 'request.pr', 'request.pw']);

const listNames = new Set(['vv', 'cloud', 'siblings', 'partitions', 'branches', 'leaves']);

/** The normalised path of a field: `object.siblings.#.dot.1`. */
export function normalisePath(path: readonly (string | number)[]): string {
  const out: string[] = [];
  path.forEach((segment, i) => {
    const previous = path[i - 1];
    out.push(typeof segment === 'number' && typeof previous === 'string' && listNames.has(previous) ? '#' : String(segment));
  });
  return out.join('.');
}
