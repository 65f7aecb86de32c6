// Mutations of valid RPC messages: swap a field's type (string for bytes, BigInt/uint64 for
// numbers, negative, NaN, huge...), drop a field, add one, nest deeply, blow up a list, hide the
// fields behind `__proto__`. Each mutation says whether it surely made the message invalid (the
// node must refuse the body: 400 bad_request) or only maybe. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { randomBytes, randomString, weighted } from './gen-util.js';
import { badUtf8Str, deepArray, deepMap, ext, float32, int64, lyingArrayHeader, MpMap, uint64, type Mp } from './msgpack-raw.js';
import { fieldKinds, normalisePath, optionalFields, type FieldKind } from './rpc-messages.js';

export type MutationVerdict = 'valid' | 'unclear' | 'invalid';
export interface Mutated {
  readonly message: Mp;
  readonly verdict: MutationVerdict;
  readonly label: string;
}

type Path = readonly (string | number)[];
interface Site {
  readonly path: Path;
  readonly value: Mp;
}

function sites(value: Mp, path: Path = [], out: Site[] = []): Site[] {
  out.push({ path, value });
  if (value instanceof MpMap) for (const [k, v] of value.entries) if (typeof k === 'string') sites(v, [...path, k], out);
  if (Array.isArray(value)) (value as readonly Mp[]).forEach((v, i) => sites(v, [...path, i], out));
  return out;
}

const removeMarker = Symbol('remove');

/** `root` with the value at `path` replaced. */
export const withField = (root: Mp, path: Path, value: Mp): Mp => setAt(root, path, value);

function setAt(root: Mp, path: Path, replacement: Mp | typeof removeMarker): Mp {
  if (path.length === 0) return replacement === removeMarker ? null : replacement;
  const [head, ...rest] = path;
  if (root instanceof MpMap) {
    const entries = root.entries.flatMap(([k, v]): (readonly [Mp, Mp])[] => {
      if (k !== head) return [[k, v]];
      if (rest.length === 0 && replacement === removeMarker) return [];
      return [[k, setAt(v, rest, replacement)]];
    });
    return new MpMap(entries);
  }
  if (Array.isArray(root) && typeof head === 'number') {
    const items = [...(root as readonly Mp[])];
    if (rest.length === 0 && replacement === removeMarker) items.splice(head, 1);
    else items[head] = setAt(items[head]!, rest, replacement);
    return items;
  }
  return root;
}

/** How a replacement value is classified against a field kind. */
type ValueClass = 'nil' | 'bool' | 'uint' | 'negint' | 'float' | 'bigint-small' | 'bigint-huge' | 'str' | 'str-bad' | 'bin' | 'list' | 'map' | 'ext' | 'broken';

interface Replacement {
  readonly value: Mp;
  readonly cls: ValueClass;
}

const safeMax = Number.MAX_SAFE_INTEGER;

function randomReplacement(prng: Prng): Replacement {
  return weighted<() => Replacement>(prng, [
    [2, () => ({ value: null, cls: 'nil' })],
    [1, () => ({ value: undefined, cls: 'nil' })],
    [1, () => ({ value: prng.chance(0.5), cls: 'bool' })],
    [3, () => ({ value: prng.pick([0, 1, 255, 65_536, 2 ** 31, 2 ** 32, 2 ** 40, safeMax]), cls: 'uint' })],
    [3, () => ({ value: prng.pick([-1, -(2 ** 31), -safeMax]), cls: 'negint' })],
    [3, () => ({ value: prng.pick([1.5, NaN, Infinity, -Infinity, 2 ** 53 + 2, 1e308, 5e-324]), cls: 'float' })],
    [2, () => ({ value: prng.pick([2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 1n]), cls: 'bigint-huge' })],
    [2, () => ({ value: -(2n ** 63n), cls: 'negint' })],
    [3, () => ({ value: uint64(prng.int(0, 3000)), cls: 'bigint-small' })],
    [2, () => ({ value: uint64(prng.pick([2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 63n])), cls: 'bigint-huge' })],
    [1, () => ({ value: int64(-prng.int(1, 1000)), cls: 'negint' })],
    [1, () => ({ value: float32(prng.int(0, 100)), cls: 'uint' })],
    [4, () => ({ value: randomString(prng, 40), cls: 'str' })],
    [1, () => ({ value: 'z'.repeat(prng.int(70_000, 200_000)), cls: 'str' })],
    [1, () => ({ value: '', cls: 'str' })],
    [1, () => ({ value: badUtf8Str([0xff, 0xfe, 0xc0, 0x80]), cls: 'str-bad' })],
    [3, () => ({ value: randomBytes(prng, prng.int(0, 64)), cls: 'bin' })],
    [2, () => ({ value: prng.pick<Mp>([[], [1, 2, 3]]), cls: 'list' })],
    [2, () => ({ value: prng.pick([new MpMap([]), new MpMap([['a', 1]]), new MpMap([[1, 'x']])]), cls: 'map' })],
    [1, () => ({ value: ext(prng.pick([-1, 0, 0x42, 0x72, 0x73, 0x78, 0x7f]), randomBytes(prng, prng.pick([1, 2, 4, 8, 3]))), cls: 'ext' })],
    [1, () => ({ value: prng.pick([deepArray(prng.int(500, 200_000)), deepMap(prng.int(500, 50_000))]), cls: 'broken' })],
    [1, () => ({ value: lyingArrayHeader(prng.pick([2 ** 32 - 1, 100_000_000])), cls: 'broken' })],
  ])();
}

const validNames: Partial<Record<FieldKind, readonly string[]>> = {
  type: ['ping', 'replicate', 'read', 'readDigest', 'forward', 'aeRoots', 'aeBranches', 'aeLeaves', 'aeKeys', 'keyPending', 'reap'],
  op: ['get', 'put', 'delete'],
  kind: ['value', 'tombstone'],
  quorum: ['one', 'quorum', 'all'],
};

const isUint = (v: Mp) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Whether a field of `kind` (a list: of `elementKind`) holding a value of class `cls` (`value`) is surely invalid. */
function judge(kind: FieldKind | undefined, optional: boolean, cls: ValueClass, value: Mp, elementKind?: FieldKind): MutationVerdict {
  if (kind === undefined) return 'unclear'; // a field the message does not define
  if (optional && cls === 'nil') return 'unclear';
  if (cls === 'ext') return 'unclear';
  switch (kind) {
    case 'uint':
      return cls === 'uint' || cls === 'bigint-small' ? 'unclear' : 'invalid';
    case 'quorum':
      if (cls === 'uint' || cls === 'bigint-small') return 'unclear';
      return cls === 'str' && validNames.quorum!.includes(value as string) ? 'unclear' : 'invalid';
    case 'str':
      return cls === 'str' || cls === 'str-bad' ? 'unclear' : 'invalid';
    case 'type':
    case 'op':
    case 'kind':
      // Another valid name changes what the other fields must be: maybe still valid.
      return cls === 'str' && validNames[kind]!.includes(value as string) ? 'unclear' : 'invalid';
    case 'bin':
      return cls === 'bin' ? 'unclear' : 'invalid';
    case 'map':
      return cls === 'map' ? 'unclear' : 'invalid';
    case 'list': {
      if (cls !== 'list') return 'invalid';
      const items = value as readonly Mp[];
      return items.length === 0 || (elementKind === 'uint' && items.every(isUint)) ? 'unclear' : 'invalid';
    }
    case 'tuple':
      return 'invalid';
  }
}

const kindAt = (path: Path): FieldKind | undefined => fieldKinds[normalisePath(path)];
const isOptional = (path: Path): boolean => optionalFields.has(normalisePath(path));
const show = (path: Path) => (path.length === 0 ? '(message)' : path.join('.'));

/** A list as long as `count` of elements like the list's first (or small integers). */
function hugeList(prng: Prng, list: readonly Mp[], count: number): Mp[] {
  const sample = list[0];
  return Array.from({ length: count }, (_, i) => (sample === undefined || typeof sample === 'number' ? prng.int(0, 300) : i % 2 === 0 ? sample : list[list.length - 1]!));
}

export function mutateMessage(prng: Prng, message: Mp): Mutated {
  const all = sites(message);
  const maps = all.filter((s) => s.value instanceof MpMap);
  const numbers = all.filter((s) => typeof s.value === 'number');
  const lists = all.filter((s) => Array.isArray(s.value) && kindAt(s.path) === 'list');
  return weighted<() => Mutated>(prng, [
    [
      40,
      () => {
        const site = prng.pick(all);
        const r = randomReplacement(prng);
        const verdict = judge(kindAt(site.path), isOptional(site.path), r.cls, r.value, kindAt([...site.path, 0]));
        return { message: setAt(message, site.path, r.value), verdict, label: `swap ${show(site.path)} -> ${r.cls}` };
      },
    ],
    [
      numbers.length > 0 ? 15 : 0,
      () => {
        // The one mutation that reaches the core's arithmetic: a number field sent as msgpack uint64.
        const site = prng.pick(numbers.length > 0 ? numbers : all);
        const big = prng.chance(0.5);
        const value = big ? uint64(prng.pick([2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 63n])) : uint64(typeof site.value === 'number' ? site.value : 1);
        const verdict = big ? judge(kindAt(site.path), false, 'bigint-huge', value) : 'unclear';
        return { message: setAt(message, site.path, value), verdict, label: `uint64 ${show(site.path)} (${big ? 'huge' : 'same value'})` };
      },
    ],
    [
      15,
      () => {
        const fields = all.filter((s) => s.path.length > 0 && typeof s.path[s.path.length - 1] === 'string');
        const site = prng.pick(fields.length > 0 ? fields : all);
        const verdict: MutationVerdict = isOptional(site.path) ? 'unclear' : 'invalid';
        return { message: setAt(message, site.path, removeMarker), verdict, label: `drop ${show(site.path)}` };
      },
    ],
    [
      10,
      () => {
        const site = prng.pick(maps);
        const name = prng.pick(['extra', 'constructor', 'toString', 'hintFor2', randomString(prng, 8), 'type']);
        const added = new MpMap([...(site.value as MpMap).entries, [name, randomReplacement(prng).value]]);
        // A repeated key ("type" again) makes the message ambiguous too.
        return { message: setAt(message, site.path, added), verdict: 'unclear', label: `add ${show([...site.path, name])}` };
      },
    ],
    [
      5,
      () => {
        const site = prng.pick(all);
        const value = prng.chance(0.5) ? deepArray(prng.int(1000, 200_000)) : deepMap(prng.int(1000, 50_000));
        return { message: setAt(message, site.path, value), verdict: 'invalid', label: `deep-nest ${show(site.path)}` };
      },
    ],
    [
      lists.length > 0 ? 8 : 0,
      () => {
        const site = prng.pick(lists.length > 0 ? lists : all);
        const list = Array.isArray(site.value) ? (site.value as readonly Mp[]) : [];
        const count = list[0] instanceof MpMap ? prng.int(1000, 4000) : prng.int(10_000, 100_000);
        // An empty list is filled with integers: right for lists of partitions, wrong for a context's cloud.
        const verdict: MutationVerdict = list.length > 0 || kindAt([...site.path, 0]) === 'uint' ? 'unclear' : 'invalid';
        return { message: setAt(message, site.path, hugeList(prng, list, count)), verdict, label: `huge-list ${show(site.path)} x${count}` };
      },
    ],
    [
      4,
      () => {
        // Fields only reachable through the prototype: {"__proto__": {type: ..., ...}}.
        return { message: new MpMap([['__proto__', message]]), verdict: 'unclear', label: 'proto-wrap' };
      },
    ],
    [3, () => ({ message: setAt(message, ['type'], prng.pick(['pong', 'Ping', 'unknown', 'constructor', '__proto__', ''])), verdict: 'invalid', label: 'unknown type' })],
  ])();
}
