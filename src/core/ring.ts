// The consistent-hash ring: Q fixed partitions (Dynamo's strategy 3), claimed by members as
// evenly as possible, so that walking the ring from any partition meets N distinct owners.
// A Ring is the data path's view of the versioned ring (ring-state.ts): who serves each partition
// now, and who is receiving it in a transfer. Immutable: a membership change makes a new one.
import { hash } from 'node:crypto';
import { invariant } from './assert.js';
import { asPartitionId, type NodeId, type PartitionId } from './types.js';

export interface Ring {
  readonly partitions: number;
  readonly n: number;
  /** Sorted, distinct. */
  readonly members: readonly NodeId[];
  /** owners[p] is the member that claims partition p. */
  readonly owners: readonly NodeId[];
  /** replicas[p]: the primaries of partition p now, in preference order, distinct. */
  readonly replicas: readonly (readonly NodeId[])[];
  /**
   * pending[p]: members receiving partition p in a transfer (Cassandra's pending ranges): they get
   * every write too, but answer no read and count toward no quorum until the partition switches.
   */
  readonly pending: readonly (readonly NodeId[])[];
}

export interface PreferenceList {
  /** min(N, members) distinct nodes, in ring order: the key's replicas. */
  readonly primaries: readonly NodeId[];
  /** Members receiving this partition in a transfer: written to, never counted. */
  readonly pending: readonly NodeId[];
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
  const owners = stripedOwners(sorted, partitions);
  invariant(owners.length === partitions && owners.every((o) => sorted.includes(o)), () => `ring: ${owners.length} owners for ${partitions} partitions, not all members`);
  const replicas = Array.from({ length: partitions }, (_, p) => walkReplicas(owners, asPartitionId(p), n));
  return { partitions, n, members: sorted, owners, replicas, pending: replicas.map(() => []) };
}

/**
 * Striped claim: partition p goes to members[p mod M]. Every member gets floor(Q/M) or ceil(Q/M)
 * partitions, and any N consecutive partitions have N distinct owners except across the wrap
 * (Q-1 -> 0) when M does not divide Q; there the preference-list walk skips repeated owners, so
 * every preference list still has min(N, M) distinct primaries.
 */
export function stripedOwners(members: readonly NodeId[], partitions: number): NodeId[] {
  return Array.from({ length: partitions }, (_, p) => members[p % members.length]!);
}

/** The top 32 bits of SHA-1 of the key's UTF-8 bytes: stable across Node versions and platforms. */
export function keyHash32(key: string): number {
  // One-shot hash to hex: no Hash object or Buffer per call (this runs several times per request).
  return parseInt(hash('sha1', key, 'hex').slice(0, 8), 16);
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
  const primaries = ring.replicas[partition]!;
  const pending = ring.pending[partition]!;
  const taken = new Set([...primaries, ...pending]);
  // Fallbacks in ring order from this partition, then members that own nothing.
  const fallbacks = [...walkOwners(ring.owners, partition), ...ring.members].filter((m) => !taken.has(m) && ring.members.includes(m) && taken.add(m));
  invariant(
    new Set(primaries).size === primaries.length && primaries.length + pending.length <= taken.size,
    () => `ring: partition ${partition}'s preference list repeats a node`,
  );
  return { primaries, pending, fallbacks };
}

/** The owners met walking the ring from `partition`, each once, in order. */
function walkOwners(owners: readonly NodeId[], partition: PartitionId): NodeId[] {
  const seen: NodeId[] = [];
  for (let i = 0; i < owners.length; i++) {
    const owner = owners[(partition + i) % owners.length]!;
    if (!seen.includes(owner)) seen.push(owner);
  }
  return seen;
}

/** A partition's replicas under `owners`: the first N distinct owners walking the ring from it. */
export function walkReplicas(owners: readonly NodeId[], partition: PartitionId, n: number): NodeId[] {
  return walkOwners(owners, partition).slice(0, n);
}

export function preferenceListForKey(ring: Ring, key: string): PreferenceList & { partition: PartitionId } {
  const partition = partitionOf(ring, key);
  return { partition, ...preferenceList(ring, partition) };
}

/** Partitions `node` serves now or is receiving: those it keeps a tree for and accepts writes of. */
export function partitionsHeldBy(ring: Ring, node: NodeId): PartitionId[] {
  const out: PartitionId[] = [];
  for (let p = 0; p < ring.partitions; p++) {
    if (ring.replicas[p]!.includes(node) || ring.pending[p]!.includes(node)) out.push(asPartitionId(p));
  }
  return out;
}
