// The order of keys inside a partition: memcmp of their UTF-8 bytes, SQLite's BINARY collation and
// the order scans and listings promise. Compared here without encoding: for well-formed strings,
// UTF-8 byte order is code point order, and code point order is UTF-16 order once surrogates
// (code points above U+FFFF) are ranked above U+E000..U+FFFF.

/** A code unit moved so that comparing units ranks surrogates above U+E000..U+FFFF (code point order). */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` by UTF-8 bytes (both well-formed). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Whether the string is valid UTF-16 (no lone surrogate), i.e. encodes to UTF-8 and back unchanged. */
export function isWellFormed(s: string): boolean {
  return !/\p{Surrogate}/u.test(s);
}
