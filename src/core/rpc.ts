// Messages between nodes. The shape is internal (docs/api.md section 4) and may change between versions.
import type { CausalContext, NodeId, VersionedObject } from './types.js';
import type { ErrorCode } from './errors.js';
import type { RingDigest, RingState, StagedChange } from './ring-state.js';

/** A membership operation; only the claimant runs them (core/membership.ts), other nodes forward them there. */
export type AdminOp =
  | { readonly op: 'stage'; readonly change: StagedChange; readonly force: boolean }
  | { readonly op: 'commit' }
  | { readonly op: 'clear' }
  /** Stops one moving partition, or every one when `partition` is absent. */
  | { readonly op: 'cancel'; readonly partition?: number | undefined }
  /** A node started with --join asks to be added as a joining member (and its join staged). */
  | { readonly op: 'register'; readonly id: NodeId; readonly url: string; readonly partitions: number; readonly n: number }
  /** `node` holds all of partition `partition` for this target replica set (checked by Merkle comparison). */
  | { readonly op: 'transferDone'; readonly partition: number; readonly node: NodeId; readonly target: readonly NodeId[] };

export type AdminOutcome =
  | { readonly ok: true; readonly before: RingState; readonly after: RingState }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/**
 * A conditional write (docs/api.md, Conditional requests), checked by the coordinator on a quorum
 * read: `absent` (If-None-Match: *) holds when the key has no live value; `match` (If-Match) when
 * the key's causal context names exactly the events of `context`.
 */
export type WriteCondition = { readonly kind: 'absent' } | { readonly kind: 'match'; readonly context: CausalContext };

/** A client request as the coordinator sees it, after the edge has parsed and validated it. */
export type ClientOp =
  | { readonly op: 'get'; readonly key: string; readonly r: QuorumSpec; readonly pr: QuorumSpec; readonly timeoutMs: number }
  | {
      readonly op: 'put';
      readonly key: string;
      readonly data: Uint8Array;
      readonly contentType: string;
      readonly context?: CausalContext | undefined;
      /** The value expires this many seconds (1..ttlSecondsMax) after the coordinator's wall clock at the write. */
      readonly ttlSeconds?: number | undefined;
      readonly condition?: WriteCondition | undefined;
      readonly w: QuorumSpec;
      readonly pw: QuorumSpec;
      readonly timeoutMs: number;
    }
  | {
      readonly op: 'delete';
      readonly key: string;
      readonly context?: CausalContext | undefined;
      readonly condition?: WriteCondition | undefined;
      readonly w: QuorumSpec;
      readonly pw: QuorumSpec;
      readonly timeoutMs: number;
    };

/** r/w as the client gave them; resolved against N and the membership by quorum.ts. */
export type QuorumSpec = number | 'one' | 'quorum' | 'all';

/** What a coordinated operation produced. `node` is the node that coordinated it. */
export type ClientResult =
  | { readonly ok: true; readonly node: string; readonly object?: VersionedObject | undefined; readonly context: CausalContext }
  | { readonly ok: false; readonly node: string; readonly code: ErrorCode; readonly message: string; readonly details: Record<string, unknown> };

export type RpcRequest =
  | { readonly type: 'ping' }
  /**
   * Store (merge) this object into the local replica; answer once durable. With `hintFor`, the
   * receiver is a fallback: it keeps the object as a hint for that primary instead.
   */
  | { readonly type: 'replicate'; readonly key: string; readonly object: VersionedObject; readonly hintFor?: NodeId }
  /** Return the local replica's object. */
  | { readonly type: 'read'; readonly key: string }
  /** Return the hash of the local replica's version (merkle.ts versionHash), not the object: a read compares versions first. */
  | { readonly type: 'readDigest'; readonly key: string }
  /** Coordinate this client operation (the sender is not a replica of the key). */
  | { readonly type: 'forward'; readonly request: ClientOp }
  /** Anti-entropy, top down: tree roots of partitions, branches of one, leaves of some branches, keys of some leaves. */
  | { readonly type: 'aeRoots'; readonly partitions: readonly number[] }
  | { readonly type: 'aeBranches'; readonly partition: number }
  | { readonly type: 'aeLeaves'; readonly partition: number; readonly branches: readonly number[] }
  | { readonly type: 'aeKeys'; readonly partition: number; readonly leaves: readonly number[] }
  /** Tombstone reaping: whether the receiver may still send a version of this key elsewhere (a hint, a write or repair in flight)... */
  | { readonly type: 'keyPending'; readonly key: string }
  /** ...and delete this key if its tombstone-only object still has this digest. */
  | { readonly type: 'reap'; readonly key: string; readonly digest: string }
  /**
   * Gossip: here is my ring's digest (and the ring itself when pushing a change); merge the ring if
   * any, and answer with yours unless it has that same digest (periodic gossip of a settled
   * cluster then carries two clocks, not two rings).
   */
  | { readonly type: 'ringGossip'; readonly digest: RingDigest; readonly ring?: RingState | undefined }
  /** A membership operation for the claimant; `forwarded` once it has been sent on, so it never loops. */
  | { readonly type: 'admin'; readonly op: AdminOp; readonly forwarded: boolean }
  /** A page of partition `partition`'s objects after `afterKey`, for a node receiving it. */
  | { readonly type: 'transferPage'; readonly partition: number; readonly afterKey?: string | undefined; readonly limit: number }
  /**
   * Key listing (GET /kv): up to `limit` live keys of partition `partition` starting with `prefix`,
   * after `afterKey`, from the receiver's own copy (it must be a primary of the partition).
   */
  | { readonly type: 'listKeys'; readonly partition: number; readonly prefix: string; readonly afterKey?: string | undefined; readonly limit: number };

export type RpcResponse =
  | { readonly type: 'pong'; readonly node: string }
  | { readonly type: 'ack' }
  | { readonly type: 'object'; readonly object: VersionedObject | null }
  /** The version hash packed in 8 bytes (merkle.ts packHashes); null: the replica holds no version of the key. */
  | { readonly type: 'digest'; readonly digest: Uint8Array | null }
  | { readonly type: 'result'; readonly result: ClientResult }
  /**
   * Tree hashes, packed (8 big-endian bytes each, core/merkle.ts). For aeRoots, `absent` lists the
   * positions (in the partitions asked) of partitions the answerer keeps no tree for: their 8 bytes
   * are zero and mean nothing. For branches or leaves of such a partition, no bytes at all.
   */
  | { readonly type: 'hashes'; readonly hashes: Uint8Array; readonly absent?: readonly number[] | undefined }
  /** The keys of the leaves asked and their version hashes, packed in the same order. */
  | { readonly type: 'keys'; readonly keys: readonly string[]; readonly hashes: Uint8Array }
  | { readonly type: 'pending'; readonly pending: boolean }
  | { readonly type: 'reaped'; readonly reaped: boolean }
  /** No ring: the answerer's ring has the digest it was sent. */
  | { readonly type: 'ring'; readonly ring?: RingState | undefined }
  | { readonly type: 'admin'; readonly outcome: AdminOutcome }
  | { readonly type: 'entries'; readonly entries: ReadonlyArray<readonly [key: string, object: VersionedObject]> }
  /**
   * The live keys found, in key order (UTF-8 bytes); `next`: the last key the replica read when it
   * stopped at a bound (ask again after it), null when it reached the end of the range.
   */
  | { readonly type: 'keyPage'; readonly keys: readonly string[]; readonly next: string | null };
