// The HTTP bench's measured phases against one target (a kvorum cluster, the no-op server or etcd):
// peak PUT then GET (closed loop), PUT and GET at a fixed offered load (open loop, for latency), and
// PUT then GET at each of several value sizes. Each returns rows for the report.
import { join } from 'node:path';
import type { LoadApi, LoadResult, LoadSpec } from './common.js';
import { measured, runLoad, type Measured } from './bench-procs.js';

export type Op = 'PUT' | 'GET';

/** One measured phase: `target` (e.g. `kvorum sync=full`) doing `op` with `valueBytes` values. */
export interface Row extends Measured {
  readonly target: string;
  readonly op: Op;
  readonly valueBytes: number;
  /** Paced phases: the offered load, requests per second. */
  readonly rate?: number;
}

export interface Target {
  /** Label in the tables. */
  readonly name: string;
  readonly api: LoadApi;
  /** Client URLs; the connections are split across them. */
  readonly urls: readonly string[];
  /** The processes whose CPU is the server side (all members/nodes). */
  serverPids(): number[];
  /** kvorum API: query strings of PUT and GET (`w=2`, `r=2`). */
  readonly putQuery: string;
  readonly getQuery: string;
}

export interface PhaseOptions {
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly valueBytes: number;
  /** Where the written keys' lists go. */
  readonly dir: string;
}

const rate = (r: LoadResult): number => r.ok / r.seconds;
const progress = (text: string) => process.stdout.write(text);
/** A file name part from a target name ("kvorum sync=full" -> "kvorum-sync-full"). */
const slug = (name: string): string => name.replace(/[^a-z0-9]+/gi, '-');

function specFor(t: Target, o: PhaseOptions, op: Op, extra: Partial<LoadSpec> & Pick<LoadSpec, 'seconds' | 'keyPrefix'>): LoadSpec {
  return { urls: t.urls, connections: o.connections, valueBytes: o.valueBytes, api: t.api, method: op, query: op === 'PUT' ? t.putQuery : t.getQuery, ...extra };
}

/** Warm-up (discarded), then peak PUT for `seconds`, then peak GET of the keys written. */
export async function peakPhases(t: Target, o: PhaseOptions): Promise<Row[]> {
  const warmKeys = join(o.dir, `${slug(t.name)}-warm.keys`);
  const keys = peakKeysFile(t, o);
  if (o.warmup > 0) {
    progress(`  ${t.name}: warm-up ${o.warmup}s PUT + ${o.warmup}s GET ... `);
    const warm = await runLoad(specFor(t, o, 'PUT', { seconds: o.warmup, keyPrefix: 'warm-', keysOut: warmKeys }));
    if ((warm.keysWritten ?? 0) > 0) await runLoad(specFor(t, o, 'GET', { seconds: o.warmup, keyPrefix: '', keysIn: warmKeys }));
    progress('done\n');
  }
  progress(`  ${t.name}: PUT ${o.seconds}s ... `);
  const put = await measured(specFor(t, o, 'PUT', { seconds: o.seconds, keyPrefix: 'key-', keysOut: keys }), t.serverPids());
  progress(`${Math.round(rate(put.r))} req/s; GET ${o.seconds}s ... `);
  if ((put.r.keysWritten ?? 0) === 0) throw new Error(`${t.name}: no PUT succeeded, nothing to read (statuses ${JSON.stringify(put.r.statusCounts)})`);
  const get = await measured(specFor(t, o, 'GET', { seconds: o.seconds, keyPrefix: '', keysIn: keys }), t.serverPids());
  progress(`${Math.round(rate(get.r))} req/s\n`);
  return [
    { target: t.name, op: 'PUT', valueBytes: o.valueBytes, ...put },
    { target: t.name, op: 'GET', valueBytes: o.valueBytes, ...get },
  ];
}

/** The keys the peak PUT phase of `t` wrote. */
export const peakKeysFile = (t: Target, o: PhaseOptions): string => join(o.dir, `${slug(t.name)}.keys`);

/**
 * Open loop at `fraction` of each op's peak rate (from `peak`'s rows): PUT of new keys, then GET of
 * the keys the peak PUT phase wrote.
 */
export async function latencyPhases(t: Target, o: PhaseOptions, peak: readonly Row[], fraction: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const op of ['PUT', 'GET'] as const) {
    const peakRow = peak.find((r) => r.target === t.name && r.op === op);
    if (peakRow === undefined) continue;
    const offered = Math.max(1, Math.round(rate(peakRow.r) * fraction));
    progress(`  ${t.name}: ${op} at ${offered} req/s (open loop) ${o.seconds}s ... `);
    const extra = op === 'PUT' ? { keyPrefix: 'lat-' } : { keyPrefix: '', keysIn: peakKeysFile(t, o) };
    const m = await measured(specFor(t, o, op, { seconds: o.seconds, rate: offered, ...extra }), t.serverPids());
    progress(`p50 ${m.r.p50.toFixed(2)} ms, p99 ${m.r.p99.toFixed(2)} ms\n`);
    rows.push({ target: t.name, op, valueBytes: o.valueBytes, rate: offered, ...m });
  }
  return rows;
}

/** Peak PUT then GET at each value size (no warm-up: the target is warm from the earlier phases). */
export async function sizePhases(t: Target, o: PhaseOptions, sizes: readonly number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const valueBytes of sizes) {
    const keys = join(o.dir, `${slug(t.name)}-size-${valueBytes}.keys`);
    const sized = { ...o, valueBytes };
    progress(`  ${t.name}: ${valueBytes}-byte values: PUT ${o.seconds}s ... `);
    const put = await measured(specFor(t, sized, 'PUT', { seconds: o.seconds, keyPrefix: `s${valueBytes}-`, keysOut: keys }), t.serverPids());
    progress(`${Math.round(rate(put.r))} req/s; GET ${o.seconds}s ... `);
    rows.push({ target: t.name, op: 'PUT', valueBytes, ...put });
    if ((put.r.keysWritten ?? 0) === 0) {
      progress(`skipped (no PUT succeeded: ${JSON.stringify(put.r.statusCounts)})\n`);
      continue;
    }
    const get = await measured(specFor(t, sized, 'GET', { seconds: o.seconds, keyPrefix: '', keysIn: keys }), t.serverPids());
    progress(`${Math.round(rate(get.r))} req/s\n`);
    rows.push({ target: t.name, op: 'GET', valueBytes, ...get });
  }
  return rows;
}
