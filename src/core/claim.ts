// Partition claim for membership changes (issue 12): given who owns each of the Q partitions now
// and the members that should own them next, choose new owners so that every member owns
// floor(Q/M) or ceil(Q/M) partitions, as few partitions as possible change owner, and, among the
// choices that keep both, a partition goes to a member that does not already own one of the N-1
// partitions on either side of it (Riak's target_n_val), so that preference lists stay spread.
// Pure and deterministic: every node computing a plan from the same ring gets the same owners.
import { invariant } from './assert.js';
import { claimSwapPassesMax } from './limits.js';
import type { NodeId } from './types.js';

export interface ClaimPlan {
  readonly owners: readonly NodeId[];
  /** Partitions whose owner changes. */
  readonly moved: number;
  /** The fewest moves any balanced claim needs from the same start: `moved` always equals it. */
  readonly movedMin: number;
}

/** How many partitions each member should own: the ceilings go to the members holding the most now. */
function claimTargets(current: readonly NodeId[], members: readonly NodeId[]): Map<NodeId, number> {
  const held = ownedCounts(current);
  const ranked = [...members].sort((a, b) => (held.get(b) ?? 0) - (held.get(a) ?? 0) || compareIds(a, b));
  const base = Math.floor(current.length / members.length);
  const extra = current.length % members.length;
  return new Map(ranked.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
}

export function claim(current: readonly NodeId[], members: readonly NodeId[], n: number): ClaimPlan {
  const sorted = [...new Set(members)].sort(compareIds);
  invariant(sorted.length > 0 && current.length > 0, () => `claim: ${sorted.length} members for ${current.length} partitions`);
  const targets = claimTargets(current, sorted);
  const owners = [...current];
  const released = release(owners, targets);
  const movedMin = released.length;
  for (const partition of released) owners[partition] = pickOwner(owners, partition, targets, n);
  spreadBySwaps(owners, released, n);
  const moved = owners.filter((o, p) => o !== current[p]).length;
  const counts = ownedCounts(owners);
  invariant(
    sorted.every((m) => (counts.get(m) ?? 0) === targets.get(m)) && [...counts.keys()].every((m) => targets.has(m)),
    () => `claim: unbalanced result ${JSON.stringify([...counts])}`,
  );
  invariant(moved === movedMin, () => `claim: moved ${moved} partitions where ${movedMin} suffice`);
  return { owners, moved, movedMin };
}

/**
 * Partitions that must change owner: every one held by a non-member, and each member's surplus
 * over its target, chosen as far as possible from the others released (they go to the same few
 * new owners, so released neighbours would crowd a preference list). Marks them unowned in `owners`.
 */
function release(owners: NodeId[], targets: ReadonlyMap<NodeId, number>): number[] {
  const q = owners.length;
  const out = owners.flatMap((owner, p) => (targets.has(owner) ? [] : [p]));
  const kept = new Map<NodeId, number[]>();
  owners.forEach((owner, p) => targets.has(owner) && kept.set(owner, [...(kept.get(owner) ?? []), p]));
  // Each partition's distance to the nearest released one, kept up to date: O(Q) per release.
  const distance = Array.from({ length: q }, () => q);
  const mark = (r: number) => {
    for (let p = 0; p < q; p++) distance[p] = Math.min(distance[p]!, ringDistance(p, r, q));
  };
  out.forEach(mark);
  for (const [member, partitions] of [...kept].sort(([a], [b]) => compareIds(a, b))) {
    const left = [...partitions];
    for (let surplus = partitions.length - targets.get(member)!; surplus > 0; surplus--) {
      const farthest = left.reduce((best, p) => (distance[p]! > distance[best]! ? p : best));
      out.push(farthest);
      mark(farthest);
      left.splice(left.indexOf(farthest), 1);
    }
  }
  for (const p of out) owners[p] = unowned;
  return out.sort((a, b) => a - b);
}

/** A member below its target for `partition`: first one without a neighbour within N-1, then the least loaded. */
function pickOwner(owners: NodeId[], partition: number, targets: ReadonlyMap<NodeId, number>, n: number): NodeId {
  const counts = ownedCounts(owners);
  const open = [...targets].filter(([m, target]) => (counts.get(m) ?? 0) < target).map(([m]) => m);
  invariant(open.length > 0, () => `claim: no member has room for partition ${partition}`);
  const crowding = (m: NodeId) => neighbours(owners, partition, n).filter((o) => o === m).length;
  const fill = (m: NodeId) => (counts.get(m) ?? 0) / targets.get(m)!;
  return open.sort((a, b) => crowding(a) - crowding(b) || fill(a) - fill(b) || compareIds(a, b))[0]!;
}

/**
 * Swaps the new owners of two moved partitions when that leaves fewer owners repeated within N-1 of
 * each other. Free: both partitions move anyway and every member keeps its count. Bounded passes.
 */
function spreadBySwaps(owners: NodeId[], moved: readonly number[], n: number): void {
  const clash = (p: number, owner: NodeId) => neighbours(owners, p, n).filter((o) => o === owner).length;
  for (let pass = 0; pass < claimSwapPassesMax; pass++) {
    let improved = false;
    for (let i = 0; i < moved.length; i++) {
      for (let j = i + 1; j < moved.length; j++) {
        const [p, q] = [moved[i]!, moved[j]!];
        const [a, b] = [owners[p]!, owners[q]!];
        if (a === b) continue;
        const before = clash(p, a) + clash(q, b);
        owners[p] = b;
        owners[q] = a;
        if (clash(p, b) + clash(q, a) < before) improved = true;
        else [owners[p], owners[q]] = [a, b];
      }
    }
    if (!improved) return;
  }
}

/** Owners of the N-1 partitions on either side of `partition` (the ones sharing a preference list with it). */
function neighbours(owners: readonly NodeId[], partition: number, n: number): NodeId[] {
  const q = owners.length;
  const reach = Math.min(n - 1, Math.floor((q - 1) / 2));
  const out: NodeId[] = [];
  for (let d = 1; d <= reach; d++) out.push(owners[(partition + d) % q]!, owners[(partition - d + q) % q]!);
  return out;
}

/** Windows of N consecutive partitions (wrapping) whose owners are not all distinct: 0 is a perfect spread. */
export function claimViolations(owners: readonly NodeId[], n: number): number {
  const q = owners.length;
  const width = Math.min(n, q);
  let violations = 0;
  for (let p = 0; p < q; p++) {
    const window = Array.from({ length: width }, (_, d) => owners[(p + d) % q]);
    if (new Set(window).size < width) violations++;
  }
  return violations;
}

const unowned = '' as NodeId;
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const ringDistance = (a: number, b: number, q: number): number => Math.min((a - b + q) % q, (b - a + q) % q);

function ownedCounts(owners: readonly NodeId[]): Map<NodeId, number> {
  const counts = new Map<NodeId, number>();
  for (const o of owners) if (o !== unowned) counts.set(o, (counts.get(o) ?? 0) + 1);
  return counts;
}
