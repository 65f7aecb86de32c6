// The per-partition anti-entropy tree: a "tictac" Merkle tree as in Riak's kv_tictacaae. Every
// level is the XOR of 64-bit hashes of (key, digest of the key's version), so the tree depends
// only on the set of (key, digest) pairs, never on the order of writes, and a write updates one
// leaf, its branch and the root in O(1) without rehashing anything else.
// Shape is fixed (root -> 16 branches -> 16 leaves each) so two nodes can compare level by level
// without negotiating. Memory is O(keys): besides 273 hashes, each leaf keeps a Map of its keys'
// digests (a key plus a 40-char hex digest per stored key), needed for the key-level comparison.
import { createHash } from 'node:crypto';
import type { Dot, VersionedObject } from './types.js';

export const merkleLeaves = 256;
export const merkleBranchWidth = 16;
export const merkleBranches = merkleLeaves / merkleBranchWidth;

const sha1 = (text: string): Buffer => createHash('sha1').update(text, 'utf8').digest();
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareDots = (a: Dot, b: Dot): number => compareStrings(a[0], b[0]) || a[1] - b[1];
/** Fixed-width hex, so hashes travel as plain strings (msgpack/JSON have no BigInt). */
const hex64 = (h: bigint): string => h.toString(16).padStart(16, '0');

/**
 * A canonical digest of one replica's version of a key: SHA-1 over its causal context and its
 * siblings' dots. A dot identifies exactly one written value, so values are not hashed; tombstones
 * are marked so a delete never digests like a write. Sorted defensively (dvv.ts already keeps
 * these sorted) and encoded as JSON, so no actor id can forge a separator.
 */
export function objectDigest(object: VersionedObject): string {
  const vv = object.context.vv.filter(([, n]) => n > 0).sort((a, b) => compareStrings(a[0], b[0]));
  const cloud = [...object.context.cloud].sort(compareDots);
  const siblings = [...object.siblings]
    .sort((a, b) => compareDots(a.dot, b.dot))
    .map((s) => [s.value.kind === 'tombstone' ? 't' : 'v', s.dot[0], s.dot[1]]);
  return createHash('sha1').update(JSON.stringify(['dvv1', vv, cloud, siblings]), 'utf8').digest('hex');
}

/**
 * The 64-bit contribution of one key at one version. An absent key (no digest) contributes 0, the
 * XOR identity, so "missing" and "never written" are the same tree.
 */
export function keyHash(key: string, digest: string | undefined): bigint {
  return digest === undefined ? 0n : sha1(`${key}\0${digest}`).readBigUInt64BE(0);
}

/**
 * The leaf a key lives in. Hashes a prefixed key: the ring places keys by the top bits of
 * SHA-1(key), so all keys of one partition share those bits and would crowd into few leaves.
 */
export function bucketOf(key: string, leaves: number): number {
  if (!Number.isInteger(leaves) || leaves < 1 || (leaves & (leaves - 1)) !== 0) {
    throw new RangeError(`leaves must be a power of two, got ${leaves}`);
  }
  return sha1(`b:${key}`).readUInt32BE(0) & (leaves - 1);
}

function checkIndex(what: string, index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`${what} must be in 0..${count - 1}, got ${index}`);
}

export class PartitionTree {
  private readonly leafHashes = new BigUint64Array(merkleLeaves);
  private readonly branchHashes = new BigUint64Array(merkleBranches);
  private rootHash = 0n;
  /** Per leaf: key -> digest of the version this tree has counted for it. */
  private readonly leafKeys: Array<Map<string, string>> = Array.from({ length: merkleLeaves }, () => new Map());
  private count = 0;

  /**
   * Records that `key` moved from `oldDigest` to `newDigest` (undefined = absent). The hash
   * XORed out is that of the digest this tree actually holds for the key: equal to `oldDigest`
   * for a correct caller, and if a caller ever disagrees (a write racing a rebuild, say) the
   * tree still equals a fresh build from its key set instead of drifting forever.
   */
  apply(key: string, oldDigest: string | undefined, newDigest: string | undefined): void {
    const leaf = bucketOf(key, merkleLeaves);
    const keys = this.leafKeys[leaf]!;
    const held = keys.get(key);
    if (held === newDigest) return;
    const delta = keyHash(key, held) ^ keyHash(key, newDigest);
    this.leafHashes[leaf]! ^= delta;
    this.branchHashes[Math.floor(leaf / merkleBranchWidth)]! ^= delta;
    this.rootHash ^= delta;
    if (newDigest === undefined) {
      keys.delete(key);
      this.count--;
    } else {
      if (held === undefined) this.count++;
      keys.set(key, newDigest);
    }
  }

  /** Number of keys counted. */
  get size(): number {
    return this.count;
  }

  /** The digest counted for `key`, if any. */
  digestOf(key: string): string | undefined {
    return this.leafKeys[bucketOf(key, merkleLeaves)]!.get(key);
  }

  root(): string {
    return hex64(this.rootHash);
  }

  branches(): string[] {
    return Array.from(this.branchHashes, hex64);
  }

  /** The hashes of the `merkleBranchWidth` leaves under `branch`, in leaf order. */
  leavesOf(branch: number): string[] {
    checkIndex('branch', branch, merkleBranches);
    const start = branch * merkleBranchWidth;
    return Array.from(this.leafHashes.subarray(start, start + merkleBranchWidth), hex64);
  }

  /** The (key, digest) pairs in `leaf`, sorted by key. */
  keysIn(leaf: number): Array<[key: string, digest: string]> {
    checkIndex('leaf', leaf, merkleLeaves);
    return [...this.leafKeys[leaf]!].sort((a, b) => compareStrings(a[0], b[0]));
  }
}

/**
 * Indexes at which two hash lists differ. Lists are normally of equal length; a missing entry
 * (e.g. a peer without this partition's tree answers []) counts as differing.
 */
export function diffHashes(ours: readonly string[], theirs: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) if (ours[i] !== theirs[i]) out.push(i);
  return out;
}

export type KeyDigests = ReadonlyArray<readonly [key: string, digest: string]>;

/** Keys held on only one side or with different digests, sorted. Inputs need not be sorted. */
export function diffKeys(ours: KeyDigests, theirs: KeyDigests): string[] {
  const mine = new Map(ours);
  const out = new Set<string>();
  for (const [key, digest] of theirs) {
    if (mine.get(key) !== digest) out.add(key);
    mine.delete(key);
  }
  for (const key of mine.keys()) out.add(key);
  return [...out].sort(compareStrings);
}

/** What a tree comparison asks of the other side: its hashes, level by level, where they differ. */
export interface RemoteTree {
  branches(): Promise<readonly string[]>;
  /** The leaf hashes of each branch asked, concatenated in the order asked. */
  leavesOf(branches: readonly number[]): Promise<readonly string[]>;
  /** The (key, digest) pairs held in the leaves asked. */
  keysIn(leaves: readonly number[]): Promise<KeyDigests>;
}

/**
 * Keys that differ between `ours` and the tree behind `theirs`, descending only where hashes differ
 * (riak_core's hashtree:compare/4): branches, then their leaves, then those leaves' keys. Nothing
 * here repairs: the caller compares roots first (one call for all partitions) and repairs the keys.
 */
export async function compareTrees(ours: PartitionTree, theirs: RemoteTree): Promise<string[]> {
  const branches = diffHashes(ours.branches(), await theirs.branches());
  const remoteLeaves = await theirs.leavesOf(branches);
  const leaves = branches.flatMap((b, i) =>
    diffHashes(ours.leavesOf(b), remoteLeaves.slice(i * merkleBranchWidth, (i + 1) * merkleBranchWidth)).map((l) => b * merkleBranchWidth + l),
  );
  const theirKeys = await theirs.keysIn(leaves);
  return diffKeys(leaves.flatMap((l) => ours.keysIn(l)), theirKeys); // ours as of their answer
}
