// Storage.listKeys for both engines: the range of a prefix inside one partition, read in key order
// in bounded steps, live keys kept. Each engine supplies how to read rows of the range and how to
// turn a row into an entry (SQLite quarantines a row it cannot serve: no entry).
import { compareUtf8 } from '../core/key-order.js';
import type { KeyScan, KeyScanPage, StoredEntry } from '../core/ports.js';

/** Reads up to `limit` rows of the prefix's range from `key` on (`key` itself only if `inclusive`), in key order. */
export type RangeRead<Row> = (key: string, inclusive: boolean, limit: number) => Row[];

/**
 * The bytes just above every key that starts with `prefix`: the prefix with its last byte raised
 * by one (UTF-8 has no byte 0xFF, so it always can be), or 0xFF (above every UTF-8 string) for ''.
 * Not UTF-8 itself: SQLite compares it as TEXT bytes (CAST(? AS TEXT)), never decodes it.
 */
export function prefixUpperBound(prefix: string): Buffer {
  const upper = Buffer.from(prefix, 'utf8');
  if (upper.length === 0) return Buffer.from([0xff]);
  upper[upper.length - 1]! += 1;
  return upper;
}

/**
 * The scan Storage.listKeys describes. Rows are read a step at a time, each step one row more than
 * the keys still wanted (the extra row tells whether more of the range follows), never more than
 * `rowsMax` rows in all.
 */
export function listKeyRange<Row>(scan: KeyScan, read: RangeRead<Row>, keyOf: (row: Row) => string, entryOf: (row: Row) => StoredEntry | undefined): KeyScanPage {
  if (!(scan.rowsMax >= 1 && scan.keysMax >= 1)) throw new RangeError(`listKeys: rowsMax ${scan.rowsMax} and keysMax ${scan.keysMax} must be >= 1`);
  const rowsMax = Math.min(Math.floor(scan.rowsMax), Number.MAX_SAFE_INTEGER);
  const keysMax = Math.min(Math.floor(scan.keysMax), Number.MAX_SAFE_INTEGER);
  const keys: string[] = [];
  const resume = scan.afterKey !== undefined && compareUtf8(scan.afterKey, scan.prefix) >= 0;
  let from = resume ? scan.afterKey! : scan.prefix;
  let inclusive = !resume;
  let rowsRead = 0;
  let last: string | undefined;
  for (;;) {
    const asked = Math.min(rowsMax - rowsRead, keysMax - keys.length + 1);
    const rows = read(from, inclusive, asked);
    for (const row of rows) {
      if (keys.length >= keysMax) return { keys, next: last };
      rowsRead++;
      last = keyOf(row);
      const entry = entryOf(row);
      if (entry !== undefined && scan.isLive(entry.object)) keys.push(entry.key);
    }
    if (rows.length < asked) return { keys, next: undefined };
    if (rowsRead >= rowsMax) return { keys, next: last };
    from = last!;
    inclusive = false;
  }
}
