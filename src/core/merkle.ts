// The per-partition anti-entropy tree: a "tictac" Merkle tree as in Riak's kv_tictacaae. Every
// level is the XOR of the 64-bit version hashes of the keys under it (versionHash: one SHA-1 of
// the key and its version), so the tree depends only on the set of (key, version) pairs, never on
// the order of writes, and a write moves one leaf, its branch and the root in O(1).
// Shape is fixed (root -> 16 branches -> 16 leaves each) so two nodes compare level by level
// without negotiating. The storage engine keeps the tree: each row stores its leaf and version
// hash (computed once, when the version is written) and the leaf hashes are persisted in the same
// transaction, so a tree costs 256 hashes per partition in memory and is never rebuilt from the
// keys. The key-level comparison reads (key, version hash) of one leaf from storage.
// Hashes travel and compare as bytes: 8 big-endian bytes per hash, not hex text.
import { hash } from 'node:crypto';
import type { Dot, VersionedObject } from './types.js';

export const merkleLeaves = 256;
export const merkleBranchWidth = 16;
export const merkleBranches = merkleLeaves / merkleBranchWidth;
/** Bytes of one hash on the wire. */
export const hashBytes = 8;

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareDots = (a: Dot, b: Dot): number => compareStrings(a[0], b[0]) || a[1] - b[1];

/**
 * A version as canonical text: its causal context and its siblings' dots. A dot identifies exactly
 * one written value, so values are not hashed; tombstones are marked so a delete never hashes like
 * a write, and a value's expiry is appended when it has one (so two copies differing in it are not
 * equal, while a value without a TTL hashes as it did before TTLs existed). Sorted defensively
 * (dvv.ts already keeps these sorted) and encoded as JSON, so no actor id can forge a separator.
 */
function canonicalVersion(object: VersionedObject): string {
  const vv = object.context.vv.filter(([, n]) => n > 0).sort((a, b) => compareStrings(a[0], b[0]));
  const cloud = [...object.context.cloud].sort(compareDots);
  const siblings = [...object.siblings]
    .sort((a, b) => compareDots(a.dot, b.dot))
    .map(({ dot, value }) =>
      value.kind === 'tombstone' ? ['t', dot[0], dot[1]] : value.expiresAtMs === undefined ? ['v', dot[0], dot[1]] : ['v', dot[0], dot[1], value.expiresAtMs],
    );
  return JSON.stringify(['dvv1', vv, cloud, siblings]);
}

/** A digest of one replica's version of a key, as hex text: what the tombstone reaper compares across replicas. */
export function objectDigest(object: VersionedObject): string {
  return hash('sha1', canonicalVersion(object), 'hex');
}

/**
 * The tree contribution of `key` at version `object`: 64 bits of one SHA-1 over the key and the
 * canonical version. Computed once per written version (storage keeps it with the row); an absent
 * key contributes nothing (XOR identity), so "missing" and "never written" are the same tree.
 */
export function versionHash(key: string, object: VersionedObject): bigint {
  const known = versionHashes.get(object);
  if (known?.key === key) return known.hash;
  const computed = BigInt(`0x${hash('sha1', `${key}\0${canonicalVersion(object)}`, 'hex').slice(0, 16)}`);
  versionHashes.set(object, { key, hash: computed });
  return computed;
}

/**
 * Hashes already taken, by object (objects are never mutated): a read hashes its local copy for the
 * digest comparison and the client route hashes the merged answer, often the same object, for its ETag.
 */
const versionHashes = new WeakMap<VersionedObject, { readonly key: string; readonly hash: bigint }>();

/**
 * The bucket of `key` among `leaves` (a power of two). Not the ring's hash: the ring places keys by
 * the top bits of SHA-1(key), so all keys of a partition share those bits. FNV-1a over the UTF-16
 * code units with murmur3's finalizer: no adversary gains anything by crowding a leaf (the SHA-1
 * this replaced was as easy to steer for 8 bits), and it costs a few ns instead of a digest.
 */
export function bucketOf(key: string, leaves: number): number {
  if (!Number.isInteger(leaves) || leaves < 1 || (leaves & (leaves - 1)) !== 0) {
    throw new RangeError(`leaves must be a power of two, got ${leaves}`);
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) & (leaves - 1);
}

/** The leaf of `key` in every partition tree. */
export const leafOf = (key: string): number => bucketOf(key, merkleLeaves);

function checkIndex(what: string, index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`${what} must be in 0..${count - 1}, got ${index}`);
}

/** Hashes as wire bytes: 8 big-endian bytes each. */
export function packHashes(hashes: ArrayLike<bigint>): Uint8Array {
  const out = new Uint8Array(hashes.length * hashBytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < hashes.length; i++) view.setBigUint64(i * hashBytes, hashes[i]!);
  return out;
}

/** The hashes packed in `bytes` (a multiple of 8 bytes long). */
export function unpackHashes(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: Math.floor(bytes.byteLength / hashBytes) }, (_, i) => view.getBigUint64(i * hashBytes));
}

/** What anti-entropy reads of a tree: its hashes, level by level, and its key count. */
export interface TreeView {
  readonly size: number;
  root(): bigint;
  /** The 16 branch hashes, packed. */
  branches(): Uint8Array;
  /** The hashes of the `merkleBranchWidth` leaves under `branch`, packed, in leaf order. */
  leavesOf(branch: number): Uint8Array;
}

/**
 * The hash state of one partition's tree: 256 leaf hashes, their branches and root, and how many
 * keys each leaf counts. Constant memory whatever the key count; storage engines keep one per
 * partition and move it only by committed changes (xor).
 */
export class LeafTree implements TreeView {
  private readonly leafHashes = new BigUint64Array(merkleLeaves);
  private readonly leafKeys = new Uint32Array(merkleLeaves);
  private readonly branchHashes = new BigUint64Array(merkleBranches);
  private rootHash = 0n;
  private count = 0;

  /** XORs `delta` into `leaf` (a key's version hash in or out) and moves its key count by `keys`. */
  xor(leaf: number, delta: bigint, keys: number): void {
    checkIndex('leaf', leaf, merkleLeaves);
    this.leafHashes[leaf]! ^= delta;
    this.branchHashes[Math.floor(leaf / merkleBranchWidth)]! ^= delta;
    this.rootHash ^= delta;
    this.leafKeys[leaf]! += keys;
    this.count += keys;
  }

  get size(): number {
    return this.count;
  }

  leafHash(leaf: number): bigint {
    return this.leafHashes[leaf]!;
  }

  keysInLeaf(leaf: number): number {
    return this.leafKeys[leaf]!;
  }

  root(): bigint {
    return this.rootHash;
  }

  branches(): Uint8Array {
    return packHashes(this.branchHashes);
  }

  leavesOf(branch: number): Uint8Array {
    checkIndex('branch', branch, merkleBranches);
    const start = branch * merkleBranchWidth;
    return packHashes(this.leafHashes.subarray(start, start + merkleBranchWidth));
  }
}

/** The tree of a partition with no keys. */
export const emptyTree: TreeView = new LeafTree();

/**
 * Indexes at which two packed hash lists differ. Lists are normally of equal length; a missing
 * entry (e.g. a peer without this partition's tree answers none) counts as differing.
 */
export function diffHashes(ours: Uint8Array, theirs: Uint8Array): number[] {
  const out: number[] = [];
  const n = Math.ceil(Math.max(ours.byteLength, theirs.byteLength) / hashBytes);
  for (let i = 0; i < n; i++) {
    const at = i * hashBytes;
    if (at + hashBytes > ours.byteLength || at + hashBytes > theirs.byteLength) {
      out.push(i);
      continue;
    }
    for (let b = at; b < at + hashBytes; b++) {
      if (ours[b] !== theirs[b]) {
        out.push(i);
        break;
      }
    }
  }
  return out;
}

/** (key, version hash) pairs of some leaves. */
export type KeyHashes = ReadonlyArray<readonly [key: string, hash: bigint]>;

/** Keys held on only one side or with different version hashes, sorted. Inputs need not be sorted. */
export function diffKeys(ours: KeyHashes, theirs: KeyHashes): string[] {
  const mine = new Map(ours);
  const out = new Set<string>();
  for (const [key, hash] of theirs) {
    if (mine.get(key) !== hash) out.add(key);
    mine.delete(key);
  }
  for (const key of mine.keys()) out.add(key);
  return [...out].sort(compareStrings);
}

/** What a tree comparison asks of the other side: its hashes, level by level, where they differ. */
export interface RemoteTree {
  branches(): Promise<Uint8Array>;
  /** The leaf hashes of each branch asked, concatenated in the order asked. */
  leavesOf(branches: readonly number[]): Promise<Uint8Array>;
  /** The (key, version hash) pairs held in the leaves asked. */
  keysIn(leaves: readonly number[]): Promise<KeyHashes>;
}

/** Our side of a comparison: the tree's hashes, and the (key, version hash) pairs of some leaves. */
export interface LocalTree {
  readonly tree: TreeView;
  keysIn(leaves: readonly number[]): Promise<KeyHashes>;
}

/**
 * Keys that differ between `ours` and the tree behind `theirs`, descending only where hashes differ
 * (riak_core's hashtree:compare/4): branches, then their leaves, then those leaves' keys. Nothing
 * here repairs: the caller compares roots first (one call for all partitions) and repairs the keys.
 */
export async function compareTrees(ours: LocalTree, theirs: RemoteTree): Promise<string[]> {
  const branches = diffHashes(ours.tree.branches(), await theirs.branches());
  const remoteLeaves = await theirs.leavesOf(branches);
  const width = merkleBranchWidth * hashBytes;
  const leaves = branches.flatMap((b, i) =>
    diffHashes(ours.tree.leavesOf(b), remoteLeaves.subarray(i * width, (i + 1) * width)).map((l) => b * merkleBranchWidth + l),
  );
  const theirKeys = await theirs.keysIn(leaves);
  return diffKeys(await ours.keysIn(leaves), theirKeys); // ours as of their answer
}
