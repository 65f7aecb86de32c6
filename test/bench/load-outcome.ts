// What a load phase gathers (either generator, load-closed.ts or load-paced.ts), the keys it uses,
// and the summary load.ts prints from it (percentiles, counts): the generators' shared vocabulary.
import { readFileSync } from 'node:fs';
import type { LoadResult, LoadSpec } from './common.js';

export interface PhaseOutcome {
  seconds: number;
  /** By status code as a string; a 2xx whose body showed a failure is counted as `<code>-failed`. */
  statusCounts: Record<string, number>;
  /** Milliseconds, successful answers only. */
  latencies: number[];
  errors: number;
  timeouts: number;
  /** PUT: keys whose write succeeded. */
  written: string[];
  /** Paced: requests the schedule issued. */
  issued?: number;
}

/** A 2xx status that counts as success (a string key of statusCounts, or a number). */
export const isOk = (status: number | string): boolean => /^2\d\d$/.test(String(status));
export const failedBodyStatus = (status: number): string => `${status}-failed`;

export interface KeySource {
  next(): string;
}

/** PUT: `${keyPrefix}${seq}`, a new key each time; GET: the keys of `keysIn`, in order, cycling. */
export function keySource(spec: LoadSpec): KeySource {
  let seq = 0;
  if (spec.method === 'PUT') return { next: () => `${spec.keyPrefix}${seq++}` };
  const keys = readFileSync(spec.keysIn ?? '', 'utf8').split('\n').filter(Boolean);
  if (keys.length === 0) throw new Error(`load: no keys to read in ${spec.keysIn}`);
  return { next: () => keys[seq++ % keys.length]! };
}

/** The phase's figures: counts, and latency percentiles of the successful answers. */
export function summarize(o: PhaseOutcome, generatorCpuSeconds: number, method: 'PUT' | 'GET'): LoadResult {
  const sorted = Float64Array.from(o.latencies).sort();
  const pct = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  const responses = Object.values(o.statusCounts).reduce((a, b) => a + b, 0);
  const ok = Object.entries(o.statusCounts).reduce((a, [code, n]) => (isOk(code) ? a + n : a), 0);
  return {
    seconds: o.seconds,
    responses,
    ok,
    non2xx: responses - ok,
    statusCounts: o.statusCounts,
    errors: o.errors,
    timeouts: o.timeouts,
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    mean: sorted.length === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length,
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
    generatorCpuSeconds,
    ...(method === 'PUT' ? { keysWritten: o.written.length } : {}),
    ...(o.issued === undefined ? {} : { issued: o.issued }),
  };
}
