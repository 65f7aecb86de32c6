// Small seeded building blocks for the generators: weighted choice, hex, bytes, strings. Pure
// functions of the PRNG they are given.
import type { Prng } from '../../jepsen-like/prng.js';

/** Canary keys (runner.ts) start with this; no generated key or string ever does. */
export const canaryPrefix = 'canary-';

export function weighted<T>(prng: Prng, options: readonly (readonly [number, T])[]): T {
  const total = options.reduce((sum, [w]) => sum + w, 0);
  let x = prng.next() * total;
  for (const [w, value] of options) {
    x -= w;
    if (x < 0) return value;
  }
  return options[options.length - 1]![1];
}

export function hex(prng: Prng, chars: number): string {
  let out = '';
  while (out.length < chars) out += prng.nextUint32().toString(16).padStart(8, '0');
  return out.slice(0, chars);
}

export function randomBytes(prng: Prng, length: number): Buffer {
  const out = Buffer.alloc(length);
  let i = 0;
  for (; i + 4 <= length; i += 4) out.writeUInt32LE(prng.nextUint32(), i);
  for (; i < length; i++) out[i] = prng.int(0, 255);
  return out;
}

const printableChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&\'()*+,;=:@/?';

/** Printable ASCII without spaces (safe inside a header value). */
export function printable(prng: Prng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += printableChars[prng.int(0, printableChars.length - 1)];
  return out;
}

/** A random JS string: ASCII, Latin-1, astral and lone-surrogate characters mixed. Never a canary name. */
export function randomString(prng: Prng, maxLength: number): string {
  const length = prng.int(0, maxLength);
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = prng.int(0, 9);
    if (kind < 6) out += String.fromCharCode(prng.int(0x20, 0x7e));
    else if (kind < 8) out += String.fromCharCode(prng.int(0x80, 0xff));
    else if (kind < 9) out += String.fromCodePoint(prng.int(0x1f300, 0x1f5ff));
    else out += String.fromCharCode(prng.int(0xd800, 0xdfff));
  }
  return neverCanary(out);
}

export function neverCanary(s: string): string {
  return s.startsWith(canaryPrefix) ? `x${s}` : s;
}

/** A body length: mostly small, sometimes large, sometimes just over the 1 MiB value limit. */
export function bodyLength(prng: Prng, valueBytesMax: number): number {
  return weighted(prng, [
    [30, 0],
    [40, prng.int(1, 100)],
    [18, prng.int(101, 65_536)],
    [6, prng.int(65_537, valueBytesMax - 1)],
    [2, valueBytesMax],
    [4, valueBytesMax + prng.int(1, 2000)],
  ]);
}

/** Body bytes: random binary, or printable text. */
export function body(prng: Prng, length: number): Buffer {
  if (length > 4096 || prng.chance(0.6)) return randomBytes(prng, length);
  return Buffer.from(printable(prng, length), 'latin1');
}
