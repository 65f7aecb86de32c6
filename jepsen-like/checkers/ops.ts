// Shared helpers for the checkers: pairing a history's invocations with their completions, and
// asking whether an interval of time overlaps a fault window. Pure functions, no I/O.
import type { FaultWindow, Op, OpType } from '../history.js';

/** One client operation: its invocation and its completion (absent when the run ended first). */
export interface Pair {
  readonly process: number;
  readonly f: Op['f'];
  readonly key: string;
  readonly invoke: Op;
  readonly complete: Op | undefined;
  /**
   * The outcome. An operation the run ended before completing is `info` (indeterminate), as in
   * Jepsen: it may or may not have taken effect.
   */
  readonly type: Exclude<OpType, 'invoke'>;
  readonly invokeMs: number;
  /** Completion time; for an operation never completed, +Infinity. */
  readonly completeMs: number;
  /** Invoke to completion, from the completion's `latencyMs` when recorded; undefined if never completed. */
  readonly latencyMs: number | undefined;
}

/**
 * Pairs each invocation with the next completion of the same process (a process has at most one
 * operation in flight). The history is ordered by time first (stable, so an invoke and its completion
 * at the same millisecond keep their order). A completion with no pending invocation (a runner bug,
 * or a history cut at the front) gets a synthetic invocation at `timeMs - latencyMs`. Pairs are
 * returned in invocation order.
 */
export function pairOps(history: readonly Op[]): Pair[] {
  const ordered = history
    .map((op, index) => ({ op, index }))
    .sort((a, b) => a.op.timeMs - b.op.timeMs || a.index - b.index)
    .map((x) => x.op);
  const pending = new Map<number, Op>();
  const pairs: Pair[] = [];
  const make = (invoke: Op, complete: Op | undefined): Pair => {
    const latencyMs = complete === undefined ? undefined : complete.latencyMs ?? Math.max(0, complete.timeMs - invoke.timeMs);
    return {
      process: invoke.process,
      f: invoke.f,
      key: invoke.key,
      invoke,
      complete,
      type: complete === undefined || complete.type === 'invoke' ? 'info' : complete.type,
      invokeMs: invoke.timeMs,
      completeMs: complete === undefined ? Number.POSITIVE_INFINITY : complete.timeMs,
      latencyMs,
    };
  };
  for (const op of ordered) {
    if (op.type === 'invoke') {
      const previous = pending.get(op.process);
      if (previous !== undefined) pairs.push(make(previous, undefined)); // never completed
      pending.set(op.process, op);
      continue;
    }
    const invoke = pending.get(op.process);
    if (invoke !== undefined) {
      pending.delete(op.process);
      pairs.push(make(invoke, op));
    } else {
      const synthetic: Op = { ...op, type: 'invoke', timeMs: op.timeMs - (op.latencyMs ?? 0), value: op.f === 'read' ? null : op.value };
      pairs.push(make(synthetic, op));
    }
  }
  for (const invoke of pending.values()) pairs.push(make(invoke, undefined));
  return pairs.sort((a, b) => a.invokeMs - b.invokeMs || a.process - b.process);
}

/** The window's end, +Infinity while it was still active when the run ended. */
export function windowEnd(w: FaultWindow): number {
  return w.endMs ?? Number.POSITIVE_INFINITY;
}

/** Whether the closed interval [startMs, endMs] overlaps the window (closed at both ends too). */
export function overlaps(w: FaultWindow, startMs: number, endMs: number): boolean {
  return startMs <= windowEnd(w) && endMs >= w.startMs;
}

/** The fault windows overlapping [startMs, endMs]. */
export function faultsOverlapping(faults: readonly FaultWindow[], startMs: number, endMs: number): FaultWindow[] {
  return faults.filter((w) => overlaps(w, startMs, endMs));
}

/** A short label for a window, e.g. "partition 12.0–20.5s". */
export function windowLabel(w: FaultWindow): string {
  const end = w.endMs === undefined ? 'end' : `${(w.endMs / 1000).toFixed(1)}s`;
  return `${w.kind} ${(w.startMs / 1000).toFixed(1)}–${end}`;
}

/** A number from an op's value, or undefined when it is not a single number. */
export function asNumber(value: Op['value']): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** The elements of an op's value: an array as is, a single number as one element, null as none. */
export function asElements(value: Op['value']): readonly number[] {
  if (value === null) return [];
  return typeof value === 'number' ? [value] : value;
}

/** Whether a final `r=all` read's HTTP status means it read the key (200/300, or 404: no value). */
export function finalReadSucceeded(status: number): boolean {
  return (status >= 200 && status < 400) || status === 404;
}
