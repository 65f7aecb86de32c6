// Versions: dotted version vectors (Preguiça, Almeida et al., "Scalable and Accurate Causality
// Tracking for Eventually Consistent Stores"). Every sibling carries the dot of the write that
// made it; the object's causal context says which writes it has seen. A write with a client's
// context discards exactly the siblings that context covers, so concurrent writes survive as
// siblings. Dots are stamped only by replicas (actor = node + data-directory incarnation), so the
// number of clock entries is bounded by replicas, not clients.
import { invariant } from './assert.js';
import type { ActorId, CausalContext, Dot, Sibling, SiblingValue, VersionedObject } from './types.js';

export const emptyContext: CausalContext = { vv: [], cloud: [] };
export const emptyObject: VersionedObject = { context: emptyContext, siblings: [] };

const dotKey = (d: Dot): string => `${d[0]}#${d[1]}`;
const compareActors = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const compareDots = (a: Dot, b: Dot): number => compareActors(a[0], b[0]) || a[1] - b[1];

function vvGet(ctx: CausalContext, actor: ActorId): number {
  for (const [a, n] of ctx.vv) if (a === actor) return n;
  return 0;
}

export function covers(ctx: CausalContext, dot: Dot): boolean {
  return dot[1] <= vvGet(ctx, dot[0]) || ctx.cloud.some((d) => d[0] === dot[0] && d[1] === dot[1]);
}

/** Builds a normalised context: cloud dots that extend or fall under the vv are folded into it. */
function normalise(vv: Map<ActorId, number>, cloud: Iterable<Dot>): CausalContext {
  const pending = [...cloud].sort(compareDots);
  const rest: Dot[] = [];
  for (const dot of pending) {
    const have = vv.get(dot[0]) ?? 0;
    if (dot[1] === have + 1) vv.set(dot[0], dot[1]);
    else if (dot[1] > have) rest.push(dot);
  }
  const remaining = rest.filter((d) => d[1] > (vv.get(d[0]) ?? 0));
  const seen = new Set<string>();
  return {
    vv: [...vv.entries()].filter(([, n]) => n > 0).sort((a, b) => compareActors(a[0], b[0])),
    cloud: remaining.filter((d) => !seen.has(dotKey(d)) && seen.add(dotKey(d))),
  };
}

export function joinContexts(a: CausalContext, b: CausalContext): CausalContext {
  const vv = new Map<ActorId, number>(a.vv);
  for (const [actor, n] of b.vv) vv.set(actor, Math.max(n, vv.get(actor) ?? 0));
  return normalise(vv, [...a.cloud, ...b.cloud]);
}

export function addDot(ctx: CausalContext, dot: Dot): CausalContext {
  return normalise(new Map(ctx.vv), [...ctx.cloud, dot]);
}

/** The context with the actor's version-vector entry raised to the dot: every earlier dot of it counts as seen. */
function raiseTo(ctx: CausalContext, [actor, counter]: Dot): CausalContext {
  const vv = new Map(ctx.vv);
  vv.set(actor, Math.max(counter, vv.get(actor) ?? 0));
  return normalise(vv, ctx.cloud);
}

function sortSiblings(siblings: Sibling[]): Sibling[] {
  return siblings.sort((x, y) => compareDots(x.dot, y.dot));
}

/**
 * Merges two replicas' copies of a key. A sibling survives if the other side has it too or has
 * not seen its write; the result has seen everything either side had seen. Commutative,
 * associative and idempotent, so replicas may exchange objects in any order, any number of times.
 */
export function sync(a: VersionedObject, b: VersionedObject): VersionedObject {
  const inB = new Set(b.siblings.map((s) => dotKey(s.dot)));
  const inA = new Set(a.siblings.map((s) => dotKey(s.dot)));
  const fromA = a.siblings.filter((s) => inB.has(dotKey(s.dot)) || !covers(b.context, s.dot));
  const fromB = b.siblings.filter((s) => !inA.has(dotKey(s.dot)) && !covers(a.context, s.dot));
  return normalised({ context: joinContexts(a.context, b.context), siblings: sortSiblings([...fromA, ...fromB]) }, 'sync');
}

function maxCounter(ctx: CausalContext, actor: ActorId): number {
  return Math.max(vvGet(ctx, actor), ...ctx.cloud.filter((d) => d[0] === actor).map((d) => d[1]));
}

export interface UpdateResult {
  readonly object: VersionedObject;
  readonly dot: Dot;
  /** What the writer has now seen: its own context plus the new write, nothing concurrent. */
  readonly writerContext: CausalContext;
}

/**
 * A coordinated write at replica `actor`: the siblings `clientContext` covers are superseded and
 * one new sibling is added with a fresh dot. Without a client context nothing is superseded.
 *
 * `counterFloor` guards against reusing dots after a tombstone was reaped (Riak's KV679): when
 * the stored object has no entry for `actor`, the actor's earlier dots for this key (if any) were
 * reaped, yet a client may still hold a context naming them, and a new write numbered 1, 2, ...
 * would silently fall under that context. Such a first write starts at `counterFloor` instead,
 * which the caller takes from the wall clock (dotCountersPerMs x ms), above every earlier counter
 * provided the actor's clock never steps back by more than the tombstone grace period.
 */
export function update(
  stored: VersionedObject | undefined,
  clientContext: CausalContext | undefined,
  actor: ActorId,
  value: SiblingValue,
  counterFloor = 0,
): UpdateResult {
  const base = stored ?? emptyObject;
  const seen = clientContext ?? emptyContext;
  const own = maxCounter(base.context, actor);
  const fresh = own === 0;
  const dot: Dot = [actor, fresh ? Math.max(maxCounter(seen, actor) + 1, counterFloor) : Math.max(own, maxCounter(seen, actor)) + 1];
  const kept = base.siblings.filter((s) => !covers(seen, s.dot));
  // A first dot above 1 would sit in the dot cloud for good; no earlier dot of this actor exists, so the vv may claim them.
  // The writer's context claims them the same way: it then names exactly the object's events when
  // the client had seen all of them (what If-Match compares), and claims nothing the object does not.
  const add = fresh ? raiseTo : addDot;
  const context = add(joinContexts(base.context, seen), dot);
  return {
    object: normalised({ context, siblings: sortSiblings([...kept, { dot, value }]) }, 'update'),
    dot,
    writerContext: add(seen, dot),
  };
}

export type LiveValue = Extract<SiblingValue, { kind: 'value' }>;

/**
 * Whether a sibling is live at wall-clock `nowMs`: a value not yet expired. A tombstone never is,
 * nor a value whose `expiresAtMs <= nowMs` (the reading node's clock decides).
 */
export function isLive(value: SiblingValue, nowMs: number): value is LiveValue {
  return value.kind === 'value' && (value.expiresAtMs === undefined || value.expiresAtMs > nowMs);
}

/** The values a read at wall-clock `nowMs` returns: every sibling that is neither a delete marker nor expired. */
export function liveValues(object: VersionedObject | undefined, nowMs: number): LiveValue[] {
  if (!object) return [];
  return object.siblings.flatMap((s) => (isLive(s.value, nowMs) ? [s.value] : []));
}

/**
 * Since when (wall-clock ms) a sibling is gone: a tombstone's delete, a value's expiry (which may lie
 * in the future); undefined for a value that never expires. The reaper's grace runs from this instant.
 */
export function goneSinceMs(value: SiblingValue): number | undefined {
  return value.kind === 'tombstone' ? value.deletedAtMs : value.expiresAtMs;
}

/**
 * Whether a key listing (GET /kv) shows the key: a read at wall-clock `nowMs` would return a value
 * (not only delete markers). The one liveness rule of listings: replicas apply it to every row they
 * scan. `nowMs` is the reading node's clock, for values that expire (a TTL).
 */
export function hasLiveValue(object: VersionedObject, nowMs: number): boolean {
  return liveValues(object, nowMs).length > 0;
}

/** Distinct actors in a context: bounded by the replicas that ever coordinated a write. */
export function actorsOf(ctx: CausalContext): Set<ActorId> {
  return new Set([...ctx.vv.map(([a]) => a), ...ctx.cloud.map(([a]) => a)]);
}

/** Clock entries of a context: what contextEntriesMax bounds. */
export function contextEntries(ctx: CausalContext): number {
  return ctx.vv.length + ctx.cloud.length;
}

/**
 * True when two contexts name the same set of events, whatever their form: both are normalised
 * first (a dot the version vector covers, or one that extends it, counts the same as the vv entry).
 */
export function sameContext(a: CausalContext, b: CausalContext): boolean {
  const x = joinContexts(emptyContext, a);
  const y = joinContexts(emptyContext, b);
  const sameDot = (d: Dot, e: Dot | undefined) => e !== undefined && d[0] === e[0] && d[1] === e[1];
  return x.vv.length === y.vv.length && x.cloud.length === y.cloud.length && x.vv.every((d, i) => sameDot(d, y.vv[i])) && x.cloud.every((d, i) => sameDot(d, y.cloud[i]));
}

export function contextIsEmpty(ctx: CausalContext): boolean {
  return ctx.vv.length === 0 && ctx.cloud.length === 0;
}

/** True when two replicas hold the same version: equal causal contexts and the same siblings (dots and expiries). */
export function sameVersion(a: VersionedObject | undefined, b: VersionedObject | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const expiry = (v: SiblingValue) => (v.kind === 'value' && v.expiresAtMs !== undefined ? `@${v.expiresAtMs}` : '');
  const dots = (o: VersionedObject) => o.siblings.map((s) => dotKey(s.dot) + expiry(s.value)).join(',');
  const ctx = (o: VersionedObject) => JSON.stringify([o.context.vv, o.context.cloud]);
  return dots(a) === dots(b) && ctx(a) === ctx(b);
}

/** Why `ctx` is not in the normal form this module keeps (vv sorted by actor; cloud sorted, distinct, beyond the vv), or undefined. */
export function contextFormProblem(ctx: CausalContext): string | undefined {
  for (let i = 1; i < ctx.vv.length; i++) if (!(ctx.vv[i - 1]![0] < ctx.vv[i]![0])) return 'version vector not sorted by actor';
  const vv = new Map(ctx.vv);
  for (let i = 0; i < ctx.cloud.length; i++) {
    const dot = ctx.cloud[i]!;
    if (i > 0 && compareDots(ctx.cloud[i - 1]!, dot) >= 0) return 'dot cloud not sorted and distinct';
    if (dot[1] <= (vv.get(dot[0]) ?? 0) + 1) return 'dot cloud holds a dot the version vector covers or extends';
  }
  return undefined;
}

/** Why the siblings of `o` are not distinct, sorted and covered by its context, or undefined. */
export function siblingsProblem(o: VersionedObject): string | undefined {
  // Linear in siblings and entries (not covers() per sibling): this also checks hostile input.
  const vv = new Map(o.context.vv);
  const cloud = new Set(o.context.cloud.map(dotKey));
  for (let i = 0; i < o.siblings.length; i++) {
    const dot = o.siblings[i]!.dot;
    if (i > 0 && compareDots(o.siblings[i - 1]!.dot, dot) >= 0) return 'siblings not sorted by distinct dots';
    if (dot[1] > (vv.get(dot[0]) ?? 0) && !cloud.has(dotKey(dot))) return 'a sibling the context does not cover';
  }
  return undefined;
}

/** What merge and update return must be in normal form: anything else is a bug here. */
function normalised(o: VersionedObject, made: string): VersionedObject {
  const problem = contextFormProblem(o.context) ?? siblingsProblem(o);
  invariant(problem === undefined, () => `dvv: ${made} produced an object not in normal form: ${problem}`);
  return o;
}
