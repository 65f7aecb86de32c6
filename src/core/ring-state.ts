// The versioned ring (issue 12): members with their membership status, the claimant, and the
// partition owners. Nodes gossip it and keep the merge of what they hear, so all converge on one.
//
// Two clocks: `version` says which changes the ring's content was made after (the author's `seen`
// plus one of its own), `seen` is every change this node has heard of. Merging joins `seen` and
// keeps the content whose version is greatest in one total order that extends "made after" (more
// changes, then the content's digest). Both halves are semilattices, so merging is commutative,
// associative and idempotent: nodes that heard the same rings in any order hold the same ring.
// A change made after hearing of another always wins over it. Two changes made without hearing of
// each other (two claimants on two sides of a partition) are settled deterministically: one wins
// whole, the other is dropped whole, never half-applied, and its author sees it gone. The claimant
// rule is what keeps that rare; this module only guarantees convergence.
import { createHash } from 'node:crypto';
import { invariant } from './assert.js';
import { walkReplicas } from './ring.js';
import { asPartitionId, type NodeId } from './types.js';

/** An operator's change, staged until a commit applies every staged change at once. */
export type StagedChange =
  | { readonly kind: 'join'; readonly node: NodeId }
  | { readonly kind: 'leave'; readonly node: NodeId }
  | { readonly kind: 'replace'; readonly node: NodeId; readonly by: NodeId }
  | { readonly kind: 'remove'; readonly node: NodeId };

/** A member's part in the ring, as in Riak: a joining member owns nothing until a committed plan gives it partitions. */
export type MemberStatus = 'joining' | 'valid' | 'leaving' | 'exiting' | 'removed';

export interface RingMember {
  readonly id: NodeId;
  readonly url: string;
  readonly status: MemberStatus;
}

/** [node, count] pairs, sorted by node, no zero counts. */
export type RingClock = readonly (readonly [NodeId, number])[];

export interface RingContent {
  /** The one member that may compute and commit ownership changes. */
  readonly claimant: NodeId;
  readonly partitions: number;
  readonly n: number;
  /** Sorted by id, distinct. */
  readonly members: readonly RingMember[];
  /** owners[p]: the member the last claim gave partition p; the start of the next claim. */
  readonly owners: readonly NodeId[];
  /** replicas[p]: the nodes that hold and serve partition p now, in preference order. */
  readonly replicas: readonly (readonly NodeId[])[];
  /** target[p]: the replicas partition p is moving to; equal to replicas[p] when it is not moving. */
  readonly target: readonly (readonly NodeId[])[];
  /** Changes staged by the operator, applied together by the next commit. */
  readonly staged: readonly StagedChange[];
}

export interface RingState extends RingContent {
  /** The changes this content was made after, its own included. */
  readonly version: RingClock;
  /** Every change the holder has heard of: at least `version`. */
  readonly seen: RingClock;
}

/** The first ring of a new cluster: no change made yet. */
export function genesisRing(content: RingContent): RingState {
  checkRingContent(content);
  return { ...content, version: [], seen: [] };
}

/** The ring a node keeps after hearing `b` while holding `a`. */
export function mergeRings(a: RingState, b: RingState): RingState {
  const sameVersion = clockKey(a.version) === clockKey(b.version);
  invariant(!sameVersion || contentDigest(a) === contentDigest(b), () => 'ring: two different rings carry the same version');
  const winner = rank(a) >= rank(b) ? a : b;
  return { ...contentOf(winner), version: winner.version, seen: joinClocks(a.seen, b.seen) };
}

/** Content with nothing moving and nothing staged: every partition served by the walk of `owners`. */
export function settledContent(base: Omit<RingContent, 'replicas' | 'target' | 'staged'>): RingContent {
  const replicas = base.owners.map((_, p) => walkReplicas(base.owners, asPartitionId(p), base.n));
  return { ...base, replicas, target: replicas, staged: [] };
}

/** A change by `by`: `content` made after everything `current` has seen. */
export function nextRing(current: RingState, by: NodeId, content: RingContent): RingState {
  checkRingContent(content);
  const seen = new Map(current.seen);
  seen.set(by, (seen.get(by) ?? 0) + 1);
  const version = sortedClock(seen);
  return { ...contentOf(content), version, seen: version };
}

/** The shape every ring keeps; a ring that breaks it is a bug here or a hostile peer's, refused either way. */
export function checkRingContent(ring: RingContent): void {
  const ids = ring.members.map((m) => m.id);
  invariant(ids.every((id, i) => i === 0 || ids[i - 1]! < id), () => 'ring: members not sorted and distinct');
  invariant(ids.includes(ring.claimant), () => `ring: claimant ${ring.claimant} is not a member`);
  const statusOf = new Map(ring.members.map((m) => [m.id, m.status]));
  const may = (id: NodeId, ...statuses: MemberStatus[]) => statuses.includes(statusOf.get(id)!);
  const sizes = [ring.owners.length, ring.replicas.length, ring.target.length];
  invariant(sizes.every((size) => size === ring.partitions), () => `ring: ${sizes.join('/')} owners/replicas/targets for ${ring.partitions} partitions`);
  invariant(ring.owners.every((o) => may(o, 'valid')), () => 'ring: a partition owned by a member that is not valid');
  const distinct = (list: readonly NodeId[]) => list.length >= 1 && list.length <= ring.n && new Set(list).size === list.length;
  invariant(ring.replicas.every((r) => distinct(r) && r.every((id) => may(id, 'valid', 'leaving'))), () => 'ring: a replica set that is empty, too large, repeats a node or names a member that may not serve');
  invariant(ring.target.every((t) => distinct(t) && t.every((id) => may(id, 'valid'))), () => 'ring: a target replica set that is empty, too large, repeats a node or names a member that is not valid');
}

/** What gossip compares first: two rings with the same digest are the same ring (one version, one content). */
export interface RingDigest {
  readonly version: RingClock;
  readonly seen: RingClock;
}

export const digestOfRing = (ring: RingState): RingDigest => ({ version: ring.version, seen: ring.seen });

export function sameDigest(a: RingDigest, b: RingDigest): boolean {
  return clockKey(a.version) === clockKey(b.version) && clockKey(a.seen) === clockKey(b.seen);
}

/** Whether `a` was made after `b` (its version covers b's and differs). */
export function madeAfter(a: RingState, b: RingState): boolean {
  const mine = new Map(a.version);
  return clockKey(a.version) !== clockKey(b.version) && b.version.every(([node, count]) => (mine.get(node) ?? 0) >= count);
}

/** Whether `a` holds every change `b` was made after: `b` itself, or a ring made after it. */
export function covers(a: RingState, b: RingState): boolean {
  const mine = new Map(a.version);
  return b.version.every(([node, count]) => (mine.get(node) ?? 0) >= count);
}

/** Total order extending "made after" (a later version has strictly more changes in all); then content, then version. */
function rank(ring: RingState): string {
  const changes = ring.version.reduce((sum, [, count]) => sum + count, 0);
  return `${String(changes).padStart(16, '0')}:${contentDigest(ring)}:${clockKey(ring.version)}`;
}

function contentOf(ring: RingContent): RingContent {
  const { claimant, partitions, n, members, owners, replicas, target, staged } = ring;
  return { claimant, partitions, n, members, owners, replicas, target, staged };
}

function contentDigest(ring: RingContent): string {
  const canonical = [ring.claimant, ring.partitions, ring.n, ring.members.map((m) => [m.id, m.url, m.status]), ring.owners, ring.replicas, ring.target, ring.staged.map((c) => [c.kind, c.node, c.kind === 'replace' ? c.by : ''])];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

const clockKey = (clock: RingClock): string => JSON.stringify(clock);

function joinClocks(a: RingClock, b: RingClock): RingClock {
  const joined = new Map(a);
  for (const [node, count] of b) joined.set(node, Math.max(joined.get(node) ?? 0, count));
  return sortedClock(joined);
}

const sortedClock = (clock: Map<NodeId, number>): RingClock =>
  [...clock].filter(([, count]) => count > 0).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
