// The JSON views of the admin API (docs/api.md section 3), declared once: the routes build them,
// and `kvorum status`, the tests, the fault-injection harness and the simulator read them.
import type { PeerStatus } from '../core/failure-detector.js';
import { preferenceList, type Ring } from '../core/ring.js';
import type { RingState } from '../core/ring-state.js';
import { asPartitionId, type Dot, type VersionedObject } from '../core/types.js';

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

/** One receiver's progress in `GET /admin/transfers` (and the overview's `transfers`). */
export interface TransferView {
  readonly partition: number;
  readonly to: string;
  readonly leaving: readonly string[];
  readonly from: string | null;
  readonly state: string;
  readonly keys: number;
  readonly bytes: number;
  readonly keysPerSecond: number;
  readonly bytesPerSecond: number;
  readonly error: string | null;
  readonly keysTotal: number | null;
  readonly etaSeconds: number | null;
}

/** `GET /admin/transfers`. */
export interface TransfersView {
  readonly ringVersion: number;
  readonly partitionsMoving: number;
  readonly keysLeft: number;
  readonly etaSeconds: number | null;
  readonly transfers: readonly TransferView[];
}

/** A member's last completed anti-entropy exchange with one peer, as the member measured it. */
export interface PeerExchangeView {
  readonly peer: string;
  readonly sinceLastMs: number;
  readonly lastKeysRepaired: number;
  readonly lastPartitionsDiffering: number;
  readonly exchanges: number;
  readonly keysRepaired: number;
}

/** Client requests (/kv, /kv/{key}, /batch) a node served since it started. */
export interface RequestTotalsView {
  readonly count: number;
  readonly latencySecondsSum: number;
  /** Cumulative counts: requests that took at most `le` seconds (the last `le` is null: all of them). */
  readonly buckets: ReadonlyArray<{ readonly le: number | null; readonly count: number }>;
}

/** `GET /admin/overview/local`: what one member says of itself. */
export interface LocalOverviewView {
  readonly node: string;
  readonly ringVersion: number;
  readonly uptimeSeconds: number;
  /** Hints this node holds, by the member they are for. */
  readonly hintsHeld: Readonly<Record<string, number>>;
  readonly antiEntropy: readonly PeerExchangeView[];
  readonly requests: RequestTotalsView;
}

/** A member in `GET /admin/overview`: status and phi as the asked node sees them; the rest as the member said (null: it did not answer). */
export interface OverviewMemberView extends Omit<MemberView, 'hintsPending'> {
  readonly reachable: boolean;
  readonly ringVersion: number | null;
  readonly uptimeSeconds: number | null;
  /** Hints the member holds for others. */
  readonly hintsHeld: number | null;
  /** Hints the reachable members hold for this one. */
  readonly hintsFor: number;
  /** sinceLastMs: its anti-entropy lag (since its latest completed exchange with any peer; null: none yet). */
  readonly antiEntropy: { readonly sinceLastMs: number | null; readonly exchanges: number; readonly keysRepaired: number; readonly peers: readonly PeerExchangeView[] } | null;
  readonly requests: RequestTotalsView | null;
}

/** `GET /admin/overview`: the whole cluster as one node gathers it, for the web console and `kvorum status`. */
export interface OverviewView extends Omit<ClusterView, 'members'> {
  readonly members: readonly OverviewMemberView[];
  readonly transfers: TransfersView;
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

/** A ring's version as one number for people: how many changes it was made after. */
export const ringVersionOf = (ring: RingState): number => ring.version.reduce((sum, [, count]) => sum + count, 0);

/** What /cluster and /admin/overview say of the cluster besides its members: sizes, ring version, claimant, and each partition's primaries and the nodes it is moving to. */
export function clusterHeadView(self: string, state: RingState, ring: Ring): Omit<ClusterView, 'members'> {
  return {
    node: self,
    n: ring.n,
    partitions: ring.partitions,
    ringVersion: ringVersionOf(state),
    claimant: state.claimant,
    ring: Array.from({ length: ring.partitions }, (_, p) => ({ partition: p, owners: preferenceList(ring, asPartitionId(p)).primaries, pending: ring.pending[p]! })),
  };
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
