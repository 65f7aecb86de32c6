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
import type { NodeId } from './types.js';

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
  /** owners[p] is the member that owns partition p. */
  readonly owners: readonly NodeId[];
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

/** A change by `by`: `content` made after everything `current` has seen. */
export function nextRing(current: RingState, by: NodeId, content: RingContent): RingState {
  checkRingContent(content);
  const seen = new Map(current.seen);
  seen.set(by, (seen.get(by) ?? 0) + 1);
  const version = sortedClock(seen);
  return { ...contentOf(content), version, seen: version };
}

/** The shape every ring keeps: sorted distinct members, owners that may own, a claimant among the members. */
export function checkRingContent(ring: RingContent): void {
  const ids = ring.members.map((m) => m.id);
  invariant(ids.every((id, i) => i === 0 || ids[i - 1]! < id), () => 'ring: members not sorted and distinct');
  invariant(ring.owners.length === ring.partitions, () => `ring: ${ring.owners.length} owners for ${ring.partitions} partitions`);
  const owning = new Set(ring.members.filter((m) => m.status === 'valid' || m.status === 'leaving').map((m) => m.id));
  invariant(ring.owners.every((o) => owning.has(o)), () => 'ring: a partition owned by a member that may not own one');
  invariant(ids.includes(ring.claimant), () => `ring: claimant ${ring.claimant} is not a member`);
}

/** Whether `a` was made after `b` (its version covers b's and differs). */
export function madeAfter(a: RingState, b: RingState): boolean {
  const mine = new Map(a.version);
  return clockKey(a.version) !== clockKey(b.version) && b.version.every(([node, count]) => (mine.get(node) ?? 0) >= count);
}

/** Total order extending "made after" (a later version has strictly more changes in all); then content, then version. */
function rank(ring: RingState): string {
  const changes = ring.version.reduce((sum, [, count]) => sum + count, 0);
  return `${String(changes).padStart(16, '0')}:${contentDigest(ring)}:${clockKey(ring.version)}`;
}

function contentOf(ring: RingContent): RingContent {
  const { claimant, partitions, n, members, owners } = ring;
  return { claimant, partitions, n, members, owners };
}

function contentDigest(ring: RingContent): string {
  const canonical = [ring.claimant, ring.partitions, ring.n, ring.members.map((m) => [m.id, m.url, m.status]), ring.owners];
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
