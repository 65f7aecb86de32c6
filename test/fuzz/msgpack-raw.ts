// A hand-rolled msgpack encoder for hostile RPC bodies: it writes what msgpackr would not (maps
// with non-string or `__proto__` keys, uint64 encodings of small numbers, strings with invalid
// UTF-8, arbitrary ext types, pre-encoded fragments). Pure.

/** A msgpack value as the fuzzer builds it. */
export type Mp = null | undefined | boolean | number | bigint | string | Uint8Array | readonly Mp[] | MpMap | MpRaw;

/** A map with keys of any type, in order (duplicates allowed). */
export class MpMap {
  constructor(readonly entries: readonly (readonly [Mp, Mp])[]) {}
  get(key: string): Mp | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }
}

/** Bytes spliced into the encoding as they are (one msgpack value, or deliberately not). */
export class MpRaw {
  constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
  ) {}
}

export const mpMap = (obj: Readonly<Record<string, Mp>>): MpMap => new MpMap(Object.entries(obj));

const u8 = (n: number) => [n & 0xff];
const u16 = (n: number) => [(n >>> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function be64(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < 8; i++) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** `value` as msgpack uint64 (0xcf), whatever its size: msgpackr decodes it as a BigInt. */
export const uint64 = (value: bigint | number): MpRaw => new MpRaw(Uint8Array.from([0xcf, ...be64(BigInt(value))]), `uint64(${value})`);
/** `value` as msgpack int64 (0xd3). */
export const int64 = (value: bigint | number): MpRaw => new MpRaw(Uint8Array.from([0xd3, ...be64(BigInt(value))]), `int64(${value})`);
/** A float32 (0xca). */
export function float32(value: number): MpRaw {
  const b = Buffer.alloc(5);
  b[0] = 0xca;
  b.writeFloatBE(value, 1);
  return new MpRaw(b, `float32(${value})`);
}
/** A str whose bytes are not valid UTF-8. */
export const badUtf8Str = (bytes: readonly number[]): MpRaw => new MpRaw(Uint8Array.from([0xa0 | bytes.length, ...bytes]), `badUtf8(${bytes.length})`);
/** An ext value of any type code. */
export function ext(type: number, data: Uint8Array): MpRaw {
  const len = data.length;
  const head = len === 1 ? [0xd4] : len === 2 ? [0xd5] : len === 4 ? [0xd6] : len === 8 ? [0xd7] : len === 16 ? [0xd8] : [0xc7, ...u8(len)];
  return new MpRaw(Uint8Array.from([...head, type & 0xff, ...data]), `ext(${type},${len})`);
}
/** An array header claiming `count` elements, followed by nothing. */
export const lyingArrayHeader = (count: number): MpRaw => new MpRaw(Uint8Array.from([0xdd, ...u32(count)]), `array32 header(${count}) without elements`);
/** `depth` nested one-element arrays around nil. */
export const deepArray = (depth: number): MpRaw => new MpRaw(Uint8Array.from([...new Array<number>(depth).fill(0x91), 0xc0]), `deep array(${depth})`);
/** `depth` nested one-entry maps {"a": ...} around nil. */
export const deepMap = (depth: number): MpRaw => {
  const bytes = new Uint8Array(depth * 3 + 1);
  for (let i = 0; i < depth; i++) bytes.set([0x81, 0xa1, 0x61], i * 3);
  bytes[depth * 3] = 0xc0;
  return new MpRaw(bytes, `deep map(${depth})`);
};

function encodeInto(value: Mp, out: number[], chunks: Uint8Array[]): void {
  const flush = () => {
    if (out.length > 0) chunks.push(Uint8Array.from(out.splice(0)));
  };
  if (value === null) return void out.push(0xc0);
  if (value === undefined) return void out.push(0xd4, 0x00, 0x00); // msgpackr's undefined
  if (value === true) return void out.push(0xc3);
  if (value === false) return void out.push(0xc2);
  if (value instanceof MpRaw) {
    flush();
    chunks.push(value.bytes);
    return;
  }
  if (typeof value === 'bigint') {
    if (value >= 0n) out.push(0xcf, ...be64(value));
    else out.push(0xd3, ...be64(value));
    return;
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
      if (value < 0x80) out.push(value);
      else if (value <= 0xff) out.push(0xcc, value);
      else if (value <= 0xffff) out.push(0xcd, ...u16(value));
      else out.push(0xce, ...u32(value));
    } else if (Number.isInteger(value) && value < 0 && value >= -0x80000000) {
      if (value >= -32) out.push(value & 0xff);
      else if (value >= -128) out.push(0xd0, value & 0xff);
      else if (value >= -32768) out.push(0xd1, ...u16(value & 0xffff));
      else out.push(0xd2, ...u32(value >>> 0));
    } else {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(value);
      out.push(0xcb, ...b);
    }
    return;
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    const n = bytes.length;
    if (n < 32) out.push(0xa0 | n);
    else if (n <= 0xff) out.push(0xd9, n);
    else if (n <= 0xffff) out.push(0xda, ...u16(n));
    else out.push(0xdb, ...u32(n));
    flush();
    chunks.push(bytes);
    return;
  }
  if (value instanceof Uint8Array) {
    const n = value.length;
    if (n <= 0xff) out.push(0xc4, n);
    else if (n <= 0xffff) out.push(0xc5, ...u16(n));
    else out.push(0xc6, ...u32(n));
    flush();
    chunks.push(value);
    return;
  }
  if (value instanceof MpMap) {
    const n = value.entries.length;
    if (n < 16) out.push(0x80 | n);
    else if (n <= 0xffff) out.push(0xde, ...u16(n));
    else out.push(0xdf, ...u32(n));
    for (const [k, v] of value.entries) {
      encodeInto(k, out, chunks);
      encodeInto(v, out, chunks);
    }
    return;
  }
  const n = value.length;
  if (n < 16) out.push(0x90 | n);
  else if (n <= 0xffff) out.push(0xdc, ...u16(n));
  else out.push(0xdd, ...u32(n));
  for (const item of value) encodeInto(item, out, chunks);
}

export function encodeMp(value: Mp): Buffer {
  const out: number[] = [];
  const chunks: Uint8Array[] = [];
  encodeInto(value, out, chunks);
  if (out.length > 0) chunks.push(Uint8Array.from(out));
  return Buffer.concat(chunks);
}

/**
 * The same value as a plain JS value for msgpackr's `pack`, or undefined when it has parts only
 * the raw encoder can write (MpRaw, non-string keys, `__proto__` keys).
 */
export function toPlain(value: Mp): unknown {
  if (value instanceof MpRaw) return undefined;
  if (value instanceof MpMap) {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of value.entries) {
      if (typeof k !== 'string' || k === '__proto__' || Object.prototype.hasOwnProperty.call(obj, k)) return undefined;
      const plain = toPlain(v);
      if (plain === undefined && v !== undefined) return undefined;
      obj[k] = plain;
    }
    return obj;
  }
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value as readonly Mp[]) {
      const plain = toPlain(item);
      if (plain === undefined && item !== undefined) return undefined;
      items.push(plain);
    }
    return items;
  }
  if (typeof value === 'bigint' && (value > 0xffffffffffffffffn || value < -0x8000000000000000n)) return undefined;
  return value;
}

/** A short description of a value's shape, for printing a case. */
export function describeMp(value: Mp, depth = 0): string {
  if (depth > 6) return '…';
  if (value === null) return 'nil';
  if (value === undefined) return 'undefined';
  if (value instanceof MpRaw) return `<${value.label}>`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 24))}…(${value.length} chars)` : JSON.stringify(value);
  if (value instanceof Uint8Array) return `bin(${value.length})`;
  if (value instanceof MpMap) {
    const shown = value.entries.slice(0, 12).map(([k, v]) => `${typeof k === 'string' ? k : describeMp(k, depth + 1)}: ${describeMp(v, depth + 1)}`);
    return `{${shown.join(', ')}${value.entries.length > 12 ? `, …${value.entries.length - 12} more` : ''}}`;
  }
  const items = value as readonly Mp[];
  const shown = items.slice(0, 6).map((v) => describeMp(v, depth + 1));
  return `[${shown.join(', ')}${items.length > 6 ? `, …${items.length - 6} more` : ''}]`;
}
