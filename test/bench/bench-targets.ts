// Issue 13's targets as the HTTP bench checks them, and the verdict lines it prints: one per
// figure, with the measured values, the target and `meets` / `BELOW` (or why it was not measured).
import { fmt } from './convergence-common.js';
import type { Op, Row } from './bench-phases.js';

/** kvorum's server CPU per request at most this many times the no-op server's. */
export const cpuRatioMax: Record<Op, number> = { PUT: 4, GET: 3 };
/** kvorum's throughput at least this fraction of the no-op server's. */
export const throughputRatioMin: Record<Op, number> = { PUT: 0.35, GET: 0.5 };
/** kvorum (PUT with --sync full; GET) at least this many times etcd's put / linearizable range rate. */
export const etcdRatioMin = 2;
/** `--sync full` throughput at least this fraction of `--sync normal`'s. */
export const syncFullRatioMin = 0.8;
/** The latency phases offer this fraction of the peak rate measured in the same run. */
export const latencyLoadFraction = 0.5;
/** At that load, p99 at most this many times p50. */
export const p99OverP50Max = 5;

export interface Verdict {
  readonly item: string;
  readonly figure: string;
  readonly value: string;
  readonly target: string;
  readonly verdict: string;
}

export const rate = (row: Row): number => row.r.ok / row.r.seconds;
/** Server CPU microseconds per successful request, summed over the target's processes. */
export const usPerReq = (row: Row): number => (row.serverCpu === undefined ? NaN : (row.serverCpu * 1e6) / row.r.ok);

const meets = (ok: boolean, value: number): string => (!Number.isFinite(value) ? 'no figure' : ok ? 'meets' : 'BELOW');

/** `ratio <= max` (or `>= min`) as a verdict line. */
export function ratioVerdict(item: string, figure: string, num: number, den: number, bound: { max?: number; min?: number }, detail: string): Verdict {
  const ratio = num / den;
  const ok = bound.max !== undefined ? ratio <= bound.max : ratio >= (bound.min ?? 0);
  const target = bound.max !== undefined ? `<= ${bound.max}x` : `>= ${bound.min}x`;
  return { item, figure, value: `${fmt(ratio, 2)}x (${detail})`, target, verdict: meets(ok, ratio) };
}

/** A figure not measured in this run, and why. */
export const notMeasured = (item: string, figure: string, target: string, why: string): Verdict => ({ item, figure, value: '-', target, verdict: why });
