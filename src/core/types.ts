// Shared value types of the core. Ids are branded so a node id can never be passed where a
// partition index or an actor id is expected.

export type NodeId = string & { readonly __brand: 'NodeId' };
export type PartitionId = number & { readonly __brand: 'PartitionId' };
/** The identity that stamps versions: a node id plus the incarnation of its data directory. */
export type ActorId = string & { readonly __brand: 'ActorId' };

export const asNodeId = (id: string): NodeId => id as NodeId;
export const asPartitionId = (index: number): PartitionId => index as PartitionId;
export const actorIdOf = (node: NodeId, incarnation: string): ActorId => `${node}.${incarnation}` as ActorId;

/** One event: the `counter`-th write coordinated by `actor`. */
export type Dot = readonly [actor: ActorId, counter: number];

/**
 * A set of events, compactly: every dot (a, n) with n <= vv[a], plus single dots beyond that
 * (`cloud`). `vv` is sorted by actor and has no zero entries; `cloud` is sorted and holds no dot
 * that `vv` already covers. Both invariants are kept by `dvv.ts`.
 */
export interface CausalContext {
  readonly vv: ReadonlyArray<readonly [ActorId, number]>;
  readonly cloud: ReadonlyArray<Dot>;
}

export type SiblingValue =
  /**
   * A written value. `expiresAtMs` (wall clock, set from a PUT's `ttl` by the coordinator) is part of
   * the version: from that instant on the value is not live (dvv.ts isLive), and the reaper treats it
   * as a tombstone deleted then.
   */
  | { readonly kind: 'value'; readonly data: Uint8Array; readonly contentType: string; readonly expiresAtMs?: number | undefined }
  /** A delete marker; `deletedAtMs` (wall clock) starts the grace period before it may be reaped. */
  | { readonly kind: 'tombstone'; readonly deletedAtMs: number };

export interface Sibling {
  readonly dot: Dot;
  readonly value: SiblingValue;
}

/** A replica's copy of a key: concurrent siblings and the causal history they summarise. */
export interface VersionedObject {
  readonly context: CausalContext;
  readonly siblings: ReadonlyArray<Sibling>;
}
