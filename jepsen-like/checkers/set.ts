// The set checker, after Jepsen's set-full: clients add unique integers to a few keys (each key a
// grow-only set), read the sets during the run, and after healing every node reads every key with
// r=all. What it asserts:
//
// - every acknowledged add (`ok`) is in the final set of its key (`lost` must be 0);
// - every element of a final set was attempted by some add on that key (`unexpected` must be 0);
// - no add that got `fail` is present (`failedPresent` must be 0): `fail` promises it was not written;
// - every key with an acknowledged add was actually read at the end by at least one node
//   (`unreadKeys` must be empty), or the first three would pass vacuously.
//
// The final set of a key is the union over the nodes whose final read succeeded (200/300, or 404 for
// "no value"); nodes disagreeing is reported (`finalReadsDisagree`) but is not a violation by itself,
// convergence is the convergence checker's business. Indeterminate adds (`info`: timeouts, 503s) may
// or may not be present, and are only classified.
//
// Stale reads (a read missing an element whose add was acknowledged before the read was invoked) are
// reported, split by whether the read overlapped a fault window, and never invalidate the run: set
// reads in kvorum need not intersect the write quorum, and under sloppy quorum and partitions a
// read can legitimately miss an acknowledged write until hinted handoff, read repair or anti-entropy.
import type { FaultWindow, FinalRead, Op } from '../history.js';
import { asElements, asNumber, faultsOverlapping, finalReadSucceeded, pairOps, type Pair } from './ops.js';

export interface LostElement {
  readonly key: string;
  readonly element: number;
  /** Completion time of the (first) acknowledged add. */
  readonly ackMs: number;
  readonly process: number;
  readonly node: string;
}

export interface UnexpectedElement {
  readonly key: string;
  readonly element: number;
  /** The nodes whose final read contained it. */
  readonly nodes: readonly string[];
}

export interface FailedPresentElement {
  readonly key: string;
  readonly element: number;
  readonly failMs: number;
  readonly status: number | string | undefined;
  readonly node: string;
}

export interface StaleRead {
  readonly process: number;
  readonly key: string;
  readonly node: string;
  readonly invokeMs: number;
  readonly completeMs: number;
  /** How many elements acknowledged before the read was invoked it lacked. */
  readonly missingCount: number;
  /** Up to 5 of them, with the completion time of their add. */
  readonly missing: readonly { readonly element: number; readonly ackMs: number; readonly ackedDuringFault: boolean }[];
  /** Kinds of the fault windows the read overlapped (empty outside faults). */
  readonly faults: readonly string[];
}

export interface StaleReadGroup {
  /** Reads (ok) in this group that were checked. */
  readonly reads: number;
  readonly count: number;
  /** Up to 10. */
  readonly examples: readonly StaleRead[];
}

export interface FinalDisagreement {
  readonly key: string;
  /** Per node: how many elements its final read returned, and how many of the key's union it lacked. */
  readonly nodes: readonly { readonly node: string; readonly size: number; readonly missing: number }[];
}

export interface SetResults {
  readonly valid: boolean;
  readonly keys: number;
  /** Distinct (key, element) pairs some add was invoked for. */
  readonly attempted: number;
  /** ...of which some add got `ok`. */
  readonly acknowledged: number;
  /** ...of which every add got `fail`. */
  readonly failed: number;
  /** ...of which no add got `ok` and some got `info` (or never completed). */
  readonly indeterminate: number;
  readonly lost: { readonly count: number; readonly examples: readonly LostElement[] };
  readonly unexpected: { readonly count: number; readonly examples: readonly UnexpectedElement[] };
  readonly indeterminatePresent: number;
  readonly indeterminateAbsent: number;
  readonly failedPresent: { readonly count: number; readonly examples: readonly FailedPresentElement[] };
  readonly staleReads: { readonly insideFaults: StaleReadGroup; readonly outsideFaults: StaleReadGroup };
  readonly finalReadsDisagree: { readonly count: number; readonly examples: readonly FinalDisagreement[] };
  /** Final reads that did not succeed (status other than 200/300/404). */
  readonly finalReadErrors: readonly { readonly key: string; readonly node: string; readonly status: number }[];
  /** Keys with an acknowledged add that no node's final read succeeded for: their adds are unchecked. */
  readonly unreadKeys: readonly string[];
}

interface ElementState {
  ok: Pair | undefined;
  info: Pair | undefined;
  fail: Pair | undefined;
}

const LOST_EXAMPLES = 20;
const STALE_EXAMPLES = 10;
const OTHER_EXAMPLES = 20;

export function checkSet(history: readonly Op[], finalReads: readonly FinalRead[], faults: readonly FaultWindow[]): SetResults {
  const pairs = pairOps(history);
  const elements = bestOutcomes(pairs);
  const finals = finalSets(finalReads);
  const adds = classifyAdds(elements, finals.union);
  const unexpected = unexpectedElements(elements, finals);
  const disagreements = finalDisagreements(finals);
  const stale = checkStaleReads(pairs, elements, faults);
  const keys = new Set([...elements.keys(), ...finalReads.map((r) => r.key)]).size;
  const { lost, failedPresent, unreadKeys } = adds;
  return {
    valid: lost.length === 0 && unexpected.length === 0 && failedPresent.length === 0 && unreadKeys.length === 0,
    keys,
    attempted: adds.attempted,
    acknowledged: adds.acknowledged,
    failed: adds.failed,
    indeterminate: adds.indeterminate,
    lost: { count: lost.length, examples: lost.slice(0, LOST_EXAMPLES) },
    unexpected: { count: unexpected.length, examples: unexpected.slice(0, OTHER_EXAMPLES) },
    indeterminatePresent: adds.indeterminatePresent,
    indeterminateAbsent: adds.indeterminateAbsent,
    failedPresent: { count: failedPresent.length, examples: failedPresent.slice(0, OTHER_EXAMPLES) },
    staleReads: stale,
    finalReadsDisagree: { count: disagreements.length, examples: disagreements.slice(0, OTHER_EXAMPLES) },
    finalReadErrors: finals.errors,
    unreadKeys,
  };
}

/** Per key, per element: the earliest add of each outcome (ok, info, fail); the best one decides. */
function bestOutcomes(pairs: readonly Pair[]): Map<string, Map<number, ElementState>> {
  const elements = new Map<string, Map<number, ElementState>>();
  for (const p of pairs) {
    if (p.f !== 'add') continue;
    const element = asNumber(p.invoke.value);
    if (element === undefined) continue;
    let byElement = elements.get(p.key);
    if (byElement === undefined) elements.set(p.key, (byElement = new Map()));
    let state = byElement.get(element);
    if (state === undefined) byElement.set(element, (state = { ok: undefined, info: undefined, fail: undefined }));
    const slot = p.type;
    const current = state[slot];
    if (current === undefined || p.completeMs < current.completeMs) state[slot] = p;
  }
  return elements;
}

interface FinalSets {
  /** Per key, the elements each node's successful final read returned. */
  readonly byKey: Map<string, { node: string; elements: Set<number> }[]>;
  /** Per key, the union over those nodes. */
  readonly union: Map<string, Set<number>>;
  readonly errors: { key: string; node: string; status: number }[];
}

/** Final sets: union over the nodes whose final read succeeded. */
function finalSets(finalReads: readonly FinalRead[]): FinalSets {
  const byKey = new Map<string, { node: string; elements: Set<number> }[]>();
  const errors: { key: string; node: string; status: number }[] = [];
  for (const r of finalReads) {
    if (!finalReadSucceeded(r.status)) {
      errors.push({ key: r.key, node: r.node, status: r.status });
      continue;
    }
    let list = byKey.get(r.key);
    if (list === undefined) byKey.set(r.key, (list = []));
    list.push({ node: r.node, elements: new Set(asElements(r.value)) });
  }
  const union = new Map<string, Set<number>>();
  for (const [key, list] of byKey) {
    const all = new Set<number>();
    for (const { elements: e } of list) for (const x of e) all.add(x);
    union.set(key, all);
  }
  return { byKey, union, errors };
}

/** Every attempted add by its best outcome, checked against the final union of its key. */
function classifyAdds(elements: Map<string, Map<number, ElementState>>, union: Map<string, Set<number>>) {
  const counts = { attempted: 0, acknowledged: 0, failed: 0, indeterminate: 0, indeterminatePresent: 0, indeterminateAbsent: 0 };
  const lost: LostElement[] = [];
  const failedPresent: FailedPresentElement[] = [];
  const unreadKeys: string[] = [];
  for (const [key, byElement] of elements) {
    const final = union.get(key);
    let keyHasAck = false;
    for (const [element, s] of byElement) {
      counts.attempted++;
      if (s.ok !== undefined) {
        counts.acknowledged++;
        keyHasAck = true;
        if (final !== undefined && !final.has(element)) {
          lost.push({ key, element, ackMs: s.ok.completeMs, process: s.ok.process, node: s.ok.invoke.node });
        }
      } else if (s.info !== undefined) {
        counts.indeterminate++;
        if (final !== undefined) {
          if (final.has(element)) counts.indeterminatePresent++;
          else counts.indeterminateAbsent++;
        }
      } else if (s.fail !== undefined) {
        counts.failed++;
        if (final?.has(element) === true) {
          failedPresent.push({ key, element, failMs: s.fail.completeMs, status: s.fail.complete?.status, node: s.fail.invoke.node });
        }
      }
    }
    if (keyHasAck && final === undefined) unreadKeys.push(key);
  }
  lost.sort((a, b) => a.ackMs - b.ackMs || a.key.localeCompare(b.key) || a.element - b.element);
  failedPresent.sort((a, b) => a.failMs - b.failMs);
  return { ...counts, lost, failedPresent, unreadKeys: unreadKeys.sort() };
}

/** Elements in a final read that no add attempted. */
function unexpectedElements(elements: Map<string, Map<number, ElementState>>, finals: FinalSets): UnexpectedElement[] {
  const unexpected: UnexpectedElement[] = [];
  for (const [key, all] of finals.union) {
    const byElement = elements.get(key);
    for (const element of all) {
      if (byElement?.has(element) === true) continue;
      const nodes = (finals.byKey.get(key) ?? []).filter((r) => r.elements.has(element)).map((r) => r.node);
      unexpected.push({ key, element, nodes });
    }
  }
  return unexpected.sort((a, b) => a.key.localeCompare(b.key) || a.element - b.element);
}

/** Keys where the nodes' successful final reads differ. */
function finalDisagreements(finals: FinalSets): FinalDisagreement[] {
  const disagreements: FinalDisagreement[] = [];
  for (const [key, list] of finals.byKey) {
    const all = finals.union.get(key)!;
    if (list.every((r) => r.elements.size === all.size)) continue; // each a subset of the union: equal sizes, equal sets
    disagreements.push({ key, nodes: list.map((r) => ({ node: r.node, size: r.elements.size, missing: all.size - r.elements.size })) });
  }
  return disagreements.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * A read (ok) is stale when it lacks an element whose add completed ok strictly before the read was
 * invoked. Per key the acknowledged adds are sorted by ack time, so for a read invoked at t the ones it
 * must contain are a prefix, found by binary search; the read's elements are then marked in that
 * prefix (a stamp array, no per-read allocation, duplicates counted once), and any unmarked position
 * is a missed element. Linear in the size of the read.
 */
function checkStaleReads(
  pairs: readonly Pair[],
  elements: ReadonlyMap<string, ReadonlyMap<number, ElementState>>,
  faults: readonly FaultWindow[],
): SetResults['staleReads'] {
  interface KeyAcks {
    readonly list: { element: number; ackMs: number; duringFault: boolean }[];
    /** element -> its position in list */
    readonly position: Map<number, number>;
    readonly stamp: Int32Array;
  }
  const acks = new Map<string, KeyAcks>();
  for (const [key, byElement] of elements) {
    const list: KeyAcks['list'] = [];
    for (const [element, s] of byElement) {
      if (s.ok === undefined) continue;
      list.push({ element, ackMs: s.ok.completeMs, duringFault: faultsOverlapping(faults, s.ok.invokeMs, s.ok.completeMs).length > 0 });
    }
    list.sort((a, b) => a.ackMs - b.ackMs);
    acks.set(key, { list, position: new Map(list.map((a, i) => [a.element, i])), stamp: new Int32Array(list.length) });
  }

  const inside = { reads: 0, count: 0, examples: [] as StaleRead[] };
  const outside = { reads: 0, count: 0, examples: [] as StaleRead[] };
  let readNo = 0;
  for (const p of pairs) {
    if (p.f !== 'read' || p.type !== 'ok' || p.complete === undefined) continue;
    const overlapping = faultsOverlapping(faults, p.invokeMs, p.completeMs);
    const group = overlapping.length > 0 ? inside : outside;
    group.reads++;
    const k = acks.get(p.key);
    if (k === undefined) continue;
    const required = countBefore(k.list, p.invokeMs);
    if (required === 0) continue;
    readNo++;
    let present = 0;
    for (const e of asElements(p.complete.value)) {
      const i = k.position.get(e);
      if (i !== undefined && i < required && k.stamp[i] !== readNo) {
        k.stamp[i] = readNo;
        present++;
      }
    }
    if (present >= required) continue;
    group.count++;
    if (group.examples.length < STALE_EXAMPLES) {
      const missing: StaleRead['missing'][number][] = [];
      for (let i = 0; i < required && missing.length < 5; i++) {
        if (k.stamp[i] === readNo) continue;
        const a = k.list[i]!;
        missing.push({ element: a.element, ackMs: a.ackMs, ackedDuringFault: a.duringFault });
      }
      group.examples.push({
        process: p.process,
        key: p.key,
        node: p.invoke.node,
        invokeMs: p.invokeMs,
        completeMs: p.completeMs,
        missingCount: required - present,
        missing,
        faults: [...new Set(overlapping.map((w) => w.kind))],
      });
    }
  }
  return { insideFaults: inside, outsideFaults: outside };
}

/** How many entries of a list sorted by ackMs have ackMs < t. */
function countBefore(list: readonly { ackMs: number }[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.ackMs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
