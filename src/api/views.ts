// The JSON views of the admin API (docs/api.md section 3), declared once: the routes build them,
// and `kvorum status`, the tests, the fault-injection harness and the simulator read them.
import type { PeerStatus } from '../core/failure-detector.js';
import type { Dot, VersionedObject } from '../core/types.js';

/** `GET /cluster`: one node's view of the members and the ring. */
export interface ClusterView {
  readonly node: string;
  readonly n: number;
  readonly partitions: number;
  /** How many ring changes this node's ring was made after: equal on every node once gossip has spread it. */
  readonly ringVersion: number;
  /** The member that makes ring changes. */
  readonly claimant: string;
  readonly members: readonly MemberView[];
  readonly ring: readonly { readonly partition: number; readonly owners: readonly string[]; readonly pending: readonly string[] }[];
}

export interface MemberView {
  readonly id: string;
  readonly url: string | null;
  /** Its part in the ring: joining, valid, leaving (or exiting). */
  readonly membership: string;
  readonly status: PeerStatus;
  /** The failure detector's suspicion of the member, 2 decimals; null for this node and a member never heard from. */
  readonly phi: number | null;
  readonly hintsPending: number;
}

/** `GET /replica/kv/{key}`: one node's own copy of a key. */
export interface ReplicaCopyView {
  readonly key: string;
  readonly partition: number;
  readonly context: string;
  readonly siblings: readonly ReplicaSiblingView[];
}

/** A value sibling has `value` (base64), `contentType` and, written with a ttl, `expiresAt`; a tombstone has `deleted` and `deletedAt`. */
export interface ReplicaSiblingView {
  readonly dot: string;
  readonly value?: string;
  readonly contentType?: string;
  readonly expiresAt?: string;
  readonly deleted?: true;
  readonly deletedAt?: string;
}

/** phi as /cluster shows it: rounded to 2 decimals, null when there is none. */
export function phiView(phi: number | undefined): number | null {
  return phi === undefined ? null : Math.round(phi * 100) / 100;
}

/** A dot as the views write it, `actor:counter`; two copies are the same version when their dots and contexts are. */
export const formatDot = ([actor, counter]: Dot): string => `${actor}:${counter}`;

/** The inverse of formatDot (actor ids contain no ':'). */
export function parseDot(text: string): Dot {
  const at = text.lastIndexOf(':');
  return [text.slice(0, at) as Dot[0], Number(text.slice(at + 1))];
}

/** The siblings of a stored object as /replica/kv shows them. */
export function siblingViews(object: VersionedObject): ReplicaSiblingView[] {
  return object.siblings.map(({ dot, value }) =>
    value.kind === 'value'
      ? {
          dot: formatDot(dot),
          value: Buffer.from(value.data).toString('base64'),
          contentType: value.contentType,
          ...(value.expiresAtMs === undefined ? {} : { expiresAt: new Date(value.expiresAtMs).toISOString() }),
        }
      : { dot: formatDot(dot), deleted: true as const, deletedAt: new Date(value.deletedAtMs).toISOString() },
  );
}
