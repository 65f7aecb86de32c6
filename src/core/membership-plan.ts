// Membership changes as pure steps on the ring's content (issue 12), Riak's staged clustering:
// the operator stages join/leave/replace/remove, `plan` shows what a commit would do, `commit`
// applies every staged change at once (new owners by claim.ts, a target replica set per
// partition), then each moving partition switches to its target once its transfers are done, or
// is cancelled back to its current replicas. When nothing moves any more, leaving members are
// removed. Only the claimant runs these (membership.ts); each returns new content or throws a
// catalogued error and changes nothing.
import { claim } from './claim.js';
import { KvError } from './errors.js';
import { walkReplicas } from './ring.js';
import type { MemberStatus, RingContent, RingMember, StagedChange } from './ring-state.js';
import { asPartitionId, type NodeId, type PartitionId } from './types.js';

export interface StageOptions {
  /** Whether the failure detector believes `node` is up (a live node is removed only with force). */
  readonly isUp: (node: NodeId) => boolean;
  readonly force: boolean;
  /**
   * Stage even while a committed plan moves partitions (the forced removal of a dead claimant:
   * its transfers report to the claimant, so without a new one they could never finish).
   */
  readonly whileMoving?: boolean;
}

export interface MemberShare {
  readonly id: NodeId;
  readonly status: MemberStatus;
  /** Partitions it serves now, and after the plan. */
  readonly before: number;
  readonly after: number;
}

export interface PlanReport {
  readonly changes: readonly StagedChange[];
  readonly members: readonly MemberShare[];
  /** Partitions whose replica set changes. */
  readonly partitionsMoving: number;
  /** One per (partition, new replica): what must be streamed. */
  readonly transfers: readonly { readonly partition: PartitionId; readonly to: NodeId }[];
  /** Partitions whose claimed owner changes, and the fewest any balanced claim needs. */
  readonly ownersMoved: number;
  readonly ownersMovedMin: number;
}

const refuse = (message: string, details: Record<string, unknown> = {}): never => {
  throw new KvError('membership_refused', message, details);
};

/** Adds one change to the staged list, after checking it against the ring and what is already staged. */
export function stage(ring: RingContent, change: StagedChange, options: StageOptions): RingContent {
  const status = ring.members.find((m) => m.id === change.node)?.status;
  const involves = (c: StagedChange, node: NodeId) => c.node === node || (c.kind === 'replace' && c.by === node);
  if (ring.staged.some((c) => involves(c, change.node) || (change.kind === 'replace' && c.kind === 'replace' && c.by === change.by))) {
    refuse(`a change for ${change.node} is already staged: clear the plan to change it`);
  }
  if (status === undefined || status === 'removed') refuse(`${change.node} is not a member`);
  if (change.kind === 'join' && status !== 'joining') refuse(`${change.node} is ${status}, not joining: only a node started with --join can be joined`);
  if ((change.kind === 'leave' || change.kind === 'replace') && status !== 'valid') refuse(`${change.node} is ${status}: only a valid member can ${change.kind}`);
  if (change.kind === 'replace') {
    const by = ring.members.find((m) => m.id === change.by)?.status;
    if (by !== 'joining') refuse(`${change.by} must be a node started with --join that is not yet a member, it is ${by ?? 'unknown'}`);
  }
  if (change.kind === 'remove' && options.isUp(change.node) && !options.force) {
    refuse(`${change.node} is up: stop it for good first, use leave to hand its partitions away, or pass --force`);
  }
  // A replacement stands in for its node's own staged join (staged when it started with --join).
  const kept = change.kind === 'replace' ? ring.staged.filter((c) => !(c.kind === 'join' && c.node === change.by)) : ring.staged;
  const staged = [...kept, change];
  planOf({ ...ring, staged }, { allowEmpty: true, allowMoving: options.whileMoving ?? false });
  return { ...ring, staged };
}

/** The content a commit of every staged change makes, and what it would move. Throws if it may not be committed. */
export function planOf(ring: RingContent, { allowEmpty = false, allowMoving = false } = {}): { content: RingContent; report: PlanReport } {
  if (ring.staged.length === 0 && !allowEmpty) refuse('nothing is staged: stage join, leave, replace or remove first');
  const moving = movingPartitions(ring);
  if (moving.length > 0 && !allowMoving) refuse(`a committed plan is still moving ${moving.length} partitions: wait for its transfers or cancel them`);
  const members = applyStatuses(ring.members, ring.staged);
  const valid = members.filter((m) => m.status === 'valid').map((m) => m.id);
  if (valid.length < ring.n) refuse(`the plan leaves ${valid.length} valid members, fewer than N=${ring.n}`, { valid: valid.length, n: ring.n });
  const replaced = new Map(ring.staged.flatMap((c) => (c.kind === 'replace' ? [[c.node, c.by] as const] : [])));
  const start = ring.owners.map((o) => replaced.get(o) ?? o);
  const claimed = claim(start, valid, ring.n);
  const serving = new Set(members.filter((m) => m.status !== 'removed').map((m) => m.id));
  const replicas = ring.replicas.map((r) => r.filter((id) => serving.has(id)));
  const lost = replicas.findIndex((r) => r.length === 0);
  if (lost >= 0) refuse(`partition ${lost} would have no replica left: every node holding it is being removed`, { partition: lost });
  const target = claimed.owners.map((_, p) => walkReplicas(claimed.owners, asPartitionId(p), ring.n));
  // A partition whose replica set stays the same (in another order) takes its new order at once.
  const settled = replicas.map((r, p) => (sameSet(r, target[p]!) ? target[p]! : r));
  const content = withLiveClaimant({ ...ring, members, owners: claimed.owners, replicas: settled, target, staged: [] });
  const byReplace = movedByReplace(ring.owners, start);
  return { content, report: reportOf(ring, content, claimed.moved + byReplace, claimed.movedMin + byReplace) };
}

/** Partition `p`'s transfers are done: it is served by its target from now on. */
export function switchPartition(ring: RingContent, p: PartitionId): RingContent {
  return settle({ ...ring, replicas: ring.replicas.map((r, i) => (i === p ? ring.target[p]! : r)) });
}

/**
 * Partition `p` stops moving: its current replicas keep it (the next plan may move it again). A
 * leaving member among them keeps serving it, so it is valid again: only a member that holds
 * nothing may be removed (stage its leave again to hand the partition away).
 */
export function cancelPartition(ring: RingContent, p: PartitionId): RingContent {
  const keeps = new Set(ring.replicas[p]);
  const members = ring.members.map((m): RingMember => (m.status === 'leaving' && keeps.has(m.id) ? { ...m, status: 'valid' } : m));
  return settle({ ...ring, members, target: ring.target.map((t, i) => (i === p ? ring.replicas[p]! : t)) });
}

/** Partitions whose target differs from their replicas. */
export function movingPartitions(ring: RingContent): PartitionId[] {
  return ring.replicas.flatMap((r, p) => (sameSet(r, ring.target[p]!) ? [] : [asPartitionId(p)]));
}

/** The members receiving partition `p` (in its target, not yet serving it). */
export const incomingOf = (ring: RingContent, p: PartitionId): NodeId[] => ring.target[p]!.filter((id) => !ring.replicas[p]!.includes(id));

/** Once nothing moves, leaving members hold nothing and are removed. */
function settle(ring: RingContent): RingContent {
  if (movingPartitions(ring).length > 0) return ring;
  const members = ring.members.map((m): RingMember => (m.status === 'leaving' ? { ...m, status: 'removed' } : m));
  return withLiveClaimant({ ...ring, members });
}

/** A claimant that is removed hands the role to the first valid member by id. */
function withLiveClaimant(ring: RingContent): RingContent {
  const status = ring.members.find((m) => m.id === ring.claimant)?.status;
  if (status === 'valid' || status === 'leaving') return ring;
  return { ...ring, claimant: ring.members.find((m) => m.status === 'valid')!.id };
}

function applyStatuses(members: readonly RingMember[], staged: readonly StagedChange[]): RingMember[] {
  const next = new Map<NodeId, MemberStatus>();
  for (const c of staged) {
    if (c.kind === 'join') next.set(c.node, 'valid');
    if (c.kind === 'leave') next.set(c.node, 'leaving');
    if (c.kind === 'remove') next.set(c.node, 'removed');
    if (c.kind === 'replace') next.set(c.node, 'leaving').set(c.by, 'valid');
  }
  return members.map((m) => ({ ...m, status: next.get(m.id) ?? m.status }));
}

function reportOf(before: RingContent, after: RingContent, ownersMoved: number, ownersMovedMin: number): PlanReport {
  const count = (ring: RingContent, id: NodeId, which: 'replicas' | 'target') => ring[which].filter((r) => r.includes(id)).length;
  const moving = movingPartitions(after);
  return {
    changes: before.staged,
    members: after.members.map((m) => ({ id: m.id, status: m.status, before: count(before, m.id, 'replicas'), after: count(after, m.id, 'target') })),
    partitionsMoving: moving.length,
    transfers: moving.flatMap((partition) => incomingOf(after, partition).map((to) => ({ partition, to }))),
    ownersMoved,
    ownersMovedMin,
  };
}

/** Owners changed by replace substitution (one for one, no claim needed). */
const movedByReplace = (owners: readonly NodeId[], start: readonly NodeId[]) => start.filter((o, p) => o !== owners[p]).length;

const sameSet = (a: readonly NodeId[], b: readonly NodeId[]) => a.length === b.length && a.every((id) => b.includes(id));
