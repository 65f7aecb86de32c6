// Key order shared by the engines: memcmp of UTF-8 bytes, which is what SQLite's BINARY collation
// does for TEXT. Plain JS `<` compares UTF-16 units instead, and disagrees for astral characters
// (a surrogate pair sorts below U+E000..U+FFFF in UTF-16, above them in UTF-8).

/** Compares two keys in that order (for sorting a few; SortedKeys keeps its own UTF-8 copies). */
export const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

interface Entry {
  readonly key: string;
  readonly utf8: Buffer;
}

/** A set of keys kept sorted by UTF-8 bytes, for range scans in MemoryStorage. */
export class SortedKeys {
  // A sorted array with binary search: inserts are a memmove, fine for a test/simulator engine.
  private readonly entries: Entry[] = [];

  get size(): number {
    return this.entries.length;
  }

  add(key: string): void {
    const utf8 = Buffer.from(key, 'utf8');
    const i = this.firstNotBefore(utf8);
    if (this.entries[i]?.key !== key) this.entries.splice(i, 0, { key, utf8 });
  }

  delete(key: string): void {
    const i = this.firstNotBefore(Buffer.from(key, 'utf8'));
    if (this.entries[i]?.key === key) this.entries.splice(i, 1);
  }

  /** Up to `limit` keys strictly after `afterKey` (from the start if undefined), ascending. */
  after(afterKey: string | undefined, limit: number): string[] {
    return afterKey === undefined ? this.from('', true, limit) : this.from(afterKey, false, limit);
  }

  /** Up to `limit` keys from `key` on (`key` itself only if `inclusive`), ascending. */
  from(key: string, inclusive: boolean, limit: number): string[] {
    const utf8 = Buffer.from(key, 'utf8');
    let i = this.firstNotBefore(utf8);
    if (!inclusive && i < this.entries.length && this.entries[i]!.utf8.equals(utf8)) i++;
    return this.entries.slice(i, i + Math.max(0, limit)).map((e) => e.key);
  }

  /** Index of the first entry >= `utf8` (entries.length if none). */
  private firstNotBefore(utf8: Buffer): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(this.entries[mid]!.utf8, utf8) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
