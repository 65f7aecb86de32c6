// Checks of committed rows as SqliteStorage reads them: a column may hold any SQLite value if
// something other than this engine wrote it, so every row is checked before it is served.
import { keyBytesMax } from '../core/limits.js';
import type { PartitionId, VersionedObject } from '../core/types.js';
import { decodeObject } from './object-codec.js';
import type { HintRow, RawHintRow, RawObjectRow } from './sqlite-tables.js';

/** A row that passed every check, or why it did not. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** How SQLite typed a value better-sqlite3 returned, for reasons an operator reads. */
export function sqlType(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return 'TEXT';
  if (v instanceof Uint8Array) return 'BLOB';
  return Number.isInteger(v) ? 'INTEGER' : 'REAL';
}

/** A committed row's key, if it is one a write of ours could have stored. */
export function checkKey(key: unknown): Checked<string> {
  if (typeof key !== 'string') return { ok: false, reason: `key is ${sqlType(key)}, not TEXT` };
  const keyBytes = Buffer.byteLength(key);
  if (keyBytes < 1 || keyBytes > keyBytesMax) return { ok: false, reason: `key is ${keyBytes} bytes, not 1..${keyBytesMax}` };
  return { ok: true, value: key };
}

/** The object of a committed row, if the row is one this engine could have written. */
export function checkObjectRow(row: RawObjectRow): Checked<{ key: string; partition: PartitionId; object: VersionedObject }> {
  const { partition, bytes } = row;
  const checkedKey = checkKey(row.key);
  if (!checkedKey.ok) return checkedKey;
  const key = checkedKey.value;
  if (!Number.isSafeInteger(partition) || (partition as number) < 0) {
    return { ok: false, reason: `partition is ${sqlType(partition)} ${String(partition)}, not a partition number` };
  }
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: `object is ${sqlType(bytes)}, not a BLOB` };
  try {
    return { ok: true, value: { key, partition: partition as PartitionId, object: decodeObject(bytes) } };
  } catch (err) {
    return { ok: false, reason: `object does not decode: ${(err as Error).message}` };
  }
}

export function checkHintRow(row: RawHintRow): Checked<{ key: string; object: VersionedObject; hint: HintRow }> {
  const checked = checkObjectRow(row);
  if (!checked.ok) return checked;
  const { version, createdAtMs } = row;
  if (!Number.isSafeInteger(version)) return { ok: false, reason: `version is ${sqlType(version)}, not an integer` };
  if (!Number.isSafeInteger(createdAtMs)) return { ok: false, reason: `created_at_ms is ${sqlType(createdAtMs)}, not an integer` };
  const { key, partition, object } = checked.value;
  const hint = { partition, bytes: row.bytes as Uint8Array, version: version as number, createdAtMs: createdAtMs as number };
  return { ok: true, value: { key, object, hint } };
}
