// Messages between nodes. The shape is internal (docs/api.md section 4) and may change between versions.
import type { CausalContext, NodeId, VersionedObject } from './types.js';
import type { ErrorCode } from './errors.js';

/** A client request as the coordinator sees it, after the edge has parsed and validated it. */
export type ClientOp =
  | { readonly op: 'get'; readonly key: string; readonly r: QuorumSpec; readonly pr: QuorumSpec; readonly timeoutMs: number }
  | {
      readonly op: 'put';
      readonly key: string;
      readonly data: Uint8Array;
      readonly contentType: string;
      readonly context?: CausalContext | undefined;
      readonly w: QuorumSpec;
      readonly pw: QuorumSpec;
      readonly timeoutMs: number;
    }
  | {
      readonly op: 'delete';
      readonly key: string;
      readonly context?: CausalContext | undefined;
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
  | { readonly type: 'reap'; readonly key: string; readonly digest: string };

export type RpcResponse =
  | { readonly type: 'pong'; readonly node: string }
  | { readonly type: 'ack' }
  | { readonly type: 'object'; readonly object: VersionedObject | null }
  | { readonly type: 'result'; readonly result: ClientResult }
  | { readonly type: 'hashes'; readonly hashes: readonly string[] }
  | { readonly type: 'keys'; readonly keys: ReadonlyArray<readonly [key: string, digest: string]> }
  | { readonly type: 'pending'; readonly pending: boolean }
  | { readonly type: 'reaped'; readonly reaped: boolean };
