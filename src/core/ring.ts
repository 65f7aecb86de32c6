// The consistent-hash ring: Q fixed partitions (Dynamo's strategy 3), claimed by members as
// evenly as possible, so that walking the ring from any partition meets N distinct owners.
// The ring is a value: it is derived only from (members, Q, N), so every node computes the same one.
import { createHash } from 'node:crypto';
import { invariant } from './assert.js';
import { asPartitionId, type NodeId, type PartitionId } from './types.js';

export interface Ring {
  readonly partitions: number;
  readonly n: number;
  /** Sorted, distinct. */
  readonly members: readonly NodeId[];
  /** owners[p] is the member that claims partition p. */
  readonly owners: readonly NodeId[];
}

export interface PreferenceList {
  /** min(N, members) distinct nodes, in ring order: the key's replicas. */
  readonly primaries: readonly NodeId[];
  /** Every other member, in ring order: where writes go when primaries are down. */
  readonly fallbacks: readonly NodeId[];
}

export function isValidPartitionCount(q: number): boolean {
  return Number.isInteger(q) && q >= 1 && (q & (q - 1)) === 0;
}

export function createRing(members: readonly NodeId[], partitions: number, n: number): Ring {
  if (!isValidPartitionCount(partitions)) throw new RangeError(`partitions must be a power of two, got ${partitions}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const sorted = [...new Set(members)].sort();
  if (sorted.length === 0) throw new RangeError('a ring needs at least one member');
  const owners = claim(sorted, partitions);
  invariant(owners.length === partitions && owners.every((o) => sorted.includes(o)), () => `ring: ${owners.length} owners for ${partitions} partitions, not all members`);
  return { partitions, n, members: sorted, owners };
}

/**
 * Striped claim: partition p goes to members[p mod M]. Every member gets floor(Q/M) or ceil(Q/M)
 * partitions, and any N consecutive partitions have N distinct owners except across the wrap
 * (Q-1 -> 0) when M does not divide Q; there the preference-list walk skips repeated owners, so
 * every preference list still has min(N, M) distinct primaries.
 */
function claim(members: readonly NodeId[], partitions: number): NodeId[] {
  return Array.from({ length: partitions }, (_, p) => members[p % members.length]!);
}

/** The top 32 bits of SHA-1 of the key's UTF-8 bytes: stable across Node versions and platforms. */
export function keyHash32(key: string): number {
  return createHash('sha1').update(key, 'utf8').digest().readUInt32BE(0);
}

export function partitionOf(ring: Ring, key: string): PartitionId {
  const bits = Math.log2(ring.partitions);
  return asPartitionId(bits === 0 ? 0 : keyHash32(key) >>> (32 - bits));
}

// Preference lists depend only on the ring, which is immutable: compute each once.
const preferenceCache = new WeakMap<Ring, PreferenceList[]>();

export function preferenceList(ring: Ring, partition: PartitionId): PreferenceList {
  let lists = preferenceCache.get(ring);
  if (!lists) {
    lists = Array.from({ length: ring.partitions }, (_, p) => computePreferenceList(ring, asPartitionId(p)));
    preferenceCache.set(ring, lists);
  }
  return lists[partition]!;
}

function computePreferenceList(ring: Ring, partition: PartitionId): PreferenceList {
  const seen: NodeId[] = [];
  for (let i = 0; i < ring.partitions && seen.length < ring.members.length; i++) {
    const owner = ring.owners[(partition + i) % ring.partitions]!;
    if (!seen.includes(owner)) seen.push(owner);
  }
  // With more members than partitions some own none; they still serve as fallbacks.
  for (const member of ring.members) if (!seen.includes(member)) seen.push(member);
  const replicas = Math.min(ring.n, ring.members.length);
  // Every member exactly once: N distinct primaries, then every other member as a fallback.
  invariant(seen.length === ring.members.length && new Set(seen).size === seen.length, () => `ring: partition ${partition}'s preference list is not the members in some order`);
  return { primaries: seen.slice(0, replicas), fallbacks: seen.slice(replicas) };
}

export function preferenceListForKey(ring: Ring, key: string): PreferenceList & { partition: PartitionId } {
  const partition = partitionOf(ring, key);
  return { partition, ...preferenceList(ring, partition) };
}

/** Partitions for which `node` is one of the primaries. */
export function partitionsReplicatedBy(ring: Ring, node: NodeId): PartitionId[] {
  const out: PartitionId[] = [];
  for (let p = 0; p < ring.partitions; p++) {
    if (preferenceList(ring, asPartitionId(p)).primaries.includes(node)) out.push(asPartitionId(p));
  }
  return out;
}
