// Performance: per operation function, how many completed ok / fail / info, at what rate, and with
// what latency (invoke to completion), over the whole run, per fault window (operations invoked
// inside the window) and over the fault-free periods (operations invoked outside every window).
// An operation the run ended before completing counts as `info` and has no latency.
// Percentiles are nearest-rank: the p-th percentile of n sorted latencies is the ceil(p/100 * n)-th.
import type { FaultWindow, Op, RunInfo } from '../history.js';
import { pairOps, windowEnd, type Pair } from './ops.js';

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface OpStats {
  /** `add`, `read`, `write`, or `all`. */
  readonly f: string;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  readonly total: number;
  /** Per second over the group's duration; null when it lasted no time. */
  readonly okPerSec: number | null;
  readonly totalPerSec: number | null;
  /** Latency of every completion (ok, fail and info), null when there is none. */
  readonly latency: Percentiles | null;
  /** Latency of ok completions only. */
  readonly okLatency: Percentiles | null;
}

export interface PerfGroup {
  readonly label: string;
  readonly kind: 'all' | 'no fault' | FaultWindow['kind'];
  readonly description: string;
  readonly startMs: number;
  /** Window end, the run's end for a window still active at the end. */
  readonly endMs: number;
  /** For `no fault`, the total time outside every window. */
  readonly durationMs: number;
  readonly byF: readonly OpStats[];
  readonly all: OpStats;
}

export interface PerfResults {
  readonly durationMs: number;
  readonly overall: PerfGroup;
  readonly noFault: PerfGroup;
  readonly faults: readonly PerfGroup[];
}

/** Nearest-rank percentile of an ascending list (undefined when empty). */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50)!,
    p95: percentile(sorted, 95)!,
    p99: percentile(sorted, 99)!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}

/** The run's length: the longer of the configured time and the last recorded operation. */
export function runDurationMs(info: Pick<RunInfo, 'timeSec'>, history: readonly Op[]): number {
  let last = 0;
  for (const op of history) if (op.timeMs > last) last = op.timeMs;
  return Math.max(info.timeSec * 1000, last);
}

function stats(f: string, pairs: readonly Pair[], durationMs: number): OpStats {
  let ok = 0;
  let fail = 0;
  let info = 0;
  const all: number[] = [];
  const okOnly: number[] = [];
  for (const p of pairs) {
    if (p.type === 'ok') ok++;
    else if (p.type === 'fail') fail++;
    else info++;
    if (p.latencyMs !== undefined) {
      all.push(p.latencyMs);
      if (p.type === 'ok') okOnly.push(p.latencyMs);
    }
  }
  const total = ok + fail + info;
  const perSec = (n: number) => (durationMs > 0 ? n / (durationMs / 1000) : null);
  return { f, ok, fail, info, total, okPerSec: perSec(ok), totalPerSec: perSec(total), latency: percentiles(all), okLatency: percentiles(okOnly) };
}

function group(label: string, kind: PerfGroup['kind'], description: string, startMs: number, endMs: number, durationMs: number, pairs: readonly Pair[]): PerfGroup {
  const fs = [...new Set(pairs.map((p) => p.f))].sort();
  return {
    label, kind, description, startMs, endMs, durationMs,
    byF: fs.map((f) => stats(f, pairs.filter((p) => p.f === f), durationMs)),
    all: stats('all', pairs, durationMs),
  };
}

/** Total length of the union of the windows, clipped to [0, durationMs]. */
function coveredMs(faults: readonly FaultWindow[], durationMs: number): number {
  const spans = faults
    .map((w) => [Math.max(0, w.startMs), Math.min(durationMs, windowEnd(w))] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let curStart = Number.NaN;
  let curEnd = Number.NaN;
  for (const [s, e] of spans) {
    if (!(s <= curEnd)) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) curEnd = e;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

export function checkPerf(info: Pick<RunInfo, 'timeSec'>, history: readonly Op[], faults: readonly FaultWindow[]): PerfResults {
  const pairs = pairOps(history);
  const durationMs = runDurationMs(info, history);
  const inWindow = (p: Pair, w: FaultWindow) => p.invokeMs >= w.startMs && p.invokeMs <= windowEnd(w);
  const faultGroups = [...faults]
    .sort((a, b) => a.startMs - b.startMs)
    .map((w) => {
      const end = Math.min(windowEnd(w), Math.max(durationMs, w.startMs));
      return group(`${w.kind} ${(w.startMs / 1000).toFixed(1)}s`, w.kind, w.description, w.startMs, end, end - w.startMs, pairs.filter((p) => inWindow(p, w)));
    });
  const clean = pairs.filter((p) => !faults.some((w) => inWindow(p, w)));
  return {
    durationMs,
    overall: group('whole run', 'all', 'every operation', 0, durationMs, durationMs, pairs),
    noFault: group('no fault', 'no fault', 'operations invoked outside every fault window', 0, durationMs, Math.max(0, durationMs - coveredMs(faults, durationMs)), clean),
    faults: faultGroups,
  };
}
