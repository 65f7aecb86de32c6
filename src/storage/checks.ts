// Argument checks every engine makes the same way (the simulator's storage too): a failed one is
// a caller's bug, thrown as a RangeError before anything is read or staged.
import { metaBytesMax, metaNameCharsMax, storageBatchMax } from '../core/limits.js';
import { merkleLeaves } from '../core/merkle.js';

export function checkMetaName(name: string): void {
  if (typeof name !== 'string' || name.length > metaNameCharsMax) {
    throw new RangeError(`storage: a meta record name is a string of at most ${metaNameCharsMax} characters`);
  }
}

export function checkMetaBytes(bytes: Uint8Array | undefined): void {
  if (bytes === undefined) return;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > metaBytesMax) {
    throw new RangeError(`storage: a meta record is a Uint8Array of at most ${metaBytesMax} bytes`);
  }
}

/**
 * How many objects one dropPartition deletes at most: `limit` floored and capped at a batch, the
 * same in every engine (so a caller that works in the simulator works on SQLite). Below 1 the
 * answer 0 could not tell an empty partition from a request for nothing.
 */
export function dropLimit(limit: number): number {
  if (!(limit >= 1)) throw new RangeError(`storage: dropPartition limit must be at least 1, not ${String(limit)}`);
  return Math.min(Math.floor(limit), storageBatchMax);
}

/** A tree leaf number, as leafKeys takes it: 0..merkleLeaves-1. */
export function checkLeaf(leaf: number): void {
  if (!Number.isInteger(leaf) || leaf < 0 || leaf >= merkleLeaves) throw new RangeError(`leaf must be in 0..${merkleLeaves - 1}, got ${leaf}`);
}
