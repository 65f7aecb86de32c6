// The HTTP bench's output: one table per section (peak throughput, latency at a fixed load, value
// sizes) and the verdict table of issue 13's targets. Pure formatting of the rows the phases gave.
import os from 'node:os';
import { fmt, table } from './convergence-common.js';
import type { Op, Row } from './bench-phases.js';
import {
  cpuRatioMax, etcdRatioMin, latencyLoadFraction, notMeasured, p99OverP50Max, rate, ratioVerdict, syncFullRatioMin, throughputRatioMin, usPerReq,
  type Verdict,
} from './bench-targets.js';

export const targetNames = { noop: 'no-op', normal: 'kvorum sync=normal', full: 'kvorum sync=full', etcd: 'etcd' } as const;

export interface BenchResults {
  /** Closed-loop peak rows of every target that ran (no-op, kvorum normal and full, etcd). */
  readonly peak: readonly Row[];
  /** Open-loop rows (the no-op server and kvorum sync=normal, each at a fraction of its own peak). */
  readonly latency: readonly Row[];
  /** kvorum sync=normal at each value size. */
  readonly sizes: readonly Row[];
  /** Sections not run, and why (keys: 'noop', 'sync', 'etcd', 'latency', 'sizes'). */
  readonly skipped: Readonly<Record<string, string>>;
}

const ops: readonly Op[] = ['PUT', 'GET'];
const statuses = (row: Row) => Object.entries(row.r.statusCounts).map(([code, n]) => `${code}:${n}`).join(' ');
const cores = (row: Row, cpu: number | undefined) => (cpu === undefined ? '-' : fmt(cpu / row.r.seconds, 2));
const find = (rows: readonly Row[], target: string, op: Op) => rows.find((x) => x.target === target && x.op === op);

export function peakTable(rows: readonly Row[]): string {
  return table(
    [
      ['target', 'op', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'responses', 'failed', 'errors', 'srv CPU', 'srv us/req', 'gen CPU', 'statuses'],
      ...rows.map((row) => [
        row.target, row.op, fmt(rate(row), 0), fmt(row.r.p50, 2), fmt(row.r.p99, 2), fmt(row.r.p999, 2), String(row.r.responses), String(row.r.non2xx),
        String(row.r.errors), cores(row, row.serverCpu), fmt(usPerReq(row), 0), cores(row, row.r.generatorCpuSeconds), statuses(row),
      ]),
    ],
    2,
  );
}

export function latencyTable(rows: readonly Row[]): string {
  return table(
    [
      ['target', 'op', 'offered/s', 'done/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99/p50', 'failed', 'errors', 'srv CPU', 'gen CPU', 'statuses'],
      ...rows.map((row) => [
        row.target, row.op, String(row.rate ?? '-'), fmt(rate(row), 0), fmt(row.r.p50, 2), fmt(row.r.p99, 2), fmt(row.r.p999, 2), fmt(row.r.max, 1),
        fmt(row.r.p99 / row.r.p50, 2), String(row.r.non2xx), String(row.r.errors), cores(row, row.serverCpu), cores(row, row.r.generatorCpuSeconds), statuses(row),
      ]),
    ],
    2,
  );
}

/** MB/s: value bytes of the successful requests, 10^6 bytes a MB. */
export function sizesTable(rows: readonly Row[]): string {
  return table(
    [
      ['value bytes', 'op', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'failed', 'errors', 'srv CPU', 'srv us/req', 'gen CPU', 'statuses'],
      ...rows.map((row) => [
        String(row.valueBytes), row.op, fmt(rate(row), 0), fmt((rate(row) * row.valueBytes) / 1e6, 1), fmt(row.r.p50, 2), fmt(row.r.p99, 2),
        String(row.r.non2xx), String(row.r.errors), cores(row, row.serverCpu), fmt(usPerReq(row), 0), cores(row, row.r.generatorCpuSeconds), statuses(row),
      ]),
    ],
    2,
  );
}

/** kvorum next to etcd: PUT w=2 with --sync full against etcd's put, GET r=2 against its linearizable range. */
export function etcdTable(peak: readonly Row[]): string | undefined {
  const pairs = [
    { label: 'PUT (kvorum w=2 sync=full | etcd put)', kv: find(peak, targetNames.full, 'PUT'), etcd: find(peak, targetNames.etcd, 'PUT') },
    { label: 'GET (kvorum r=2 sync=normal | etcd range)', kv: find(peak, targetNames.normal, 'GET'), etcd: find(peak, targetNames.etcd, 'GET') },
  ];
  const both = pairs.filter((p): p is { label: string; kv: Row; etcd: Row } => p.kv !== undefined && p.etcd !== undefined);
  if (both.length === 0) return undefined;
  const pair = (a: string, b: string) => `${a} | ${b}`;
  return table(
    [
      ['op', 'req/s', 'kvorum/etcd', 'p50 ms', 'p99 ms', 'srv us/req'],
      ...both.map(({ label, kv, etcd }) => [
        label, pair(fmt(rate(kv), 0), fmt(rate(etcd), 0)), fmt(rate(kv) / rate(etcd), 2), pair(fmt(kv.r.p50, 2), fmt(etcd.r.p50, 2)),
        pair(fmt(kv.r.p99, 2), fmt(etcd.r.p99, 2)), pair(fmt(usPerReq(kv), 0), fmt(usPerReq(etcd), 0)),
      ]),
    ],
    1,
  );
}

function noopVerdicts(peak: readonly Row[], skipped: string | undefined): Verdict[] {
  const cpu = ops.map((op) => {
    const [kv, noop] = [find(peak, targetNames.normal, op), find(peak, targetNames.noop, op)];
    const figure = `${op} CPU per request, kvorum / no-op`;
    if (kv === undefined || noop === undefined) return notMeasured('1', figure, `<= ${cpuRatioMax[op]}x`, skipped ?? 'not run');
    return ratioVerdict('1', figure, usPerReq(kv), usPerReq(noop), { max: cpuRatioMax[op] }, `${fmt(usPerReq(kv), 0)} / ${fmt(usPerReq(noop), 0)} us`);
  });
  const throughput = ops.map((op) => {
    const [kv, noop] = [find(peak, targetNames.normal, op), find(peak, targetNames.noop, op)];
    const figure = `${op} throughput, kvorum / no-op`;
    if (kv === undefined || noop === undefined) return notMeasured('1', figure, `>= ${throughputRatioMin[op]}x`, skipped ?? 'not run');
    return ratioVerdict('1', figure, rate(kv), rate(noop), { min: throughputRatioMin[op] }, `${fmt(rate(kv), 0)} / ${fmt(rate(noop), 0)} req/s`);
  });
  return [...cpu, ...throughput];
}

function etcdVerdicts(peak: readonly Row[], skipped: string | undefined): Verdict[] {
  const pairs = [
    { op: 'PUT' as const, kv: find(peak, targetNames.full, 'PUT'), figure: 'PUT w=2 --sync full / etcd put' },
    { op: 'GET' as const, kv: find(peak, targetNames.normal, 'GET'), figure: 'GET r=2 / etcd linearizable range' },
  ];
  return pairs.map(({ op, kv, figure }) => {
    const etcd = find(peak, targetNames.etcd, op);
    if (kv === undefined || etcd === undefined) return notMeasured('2', figure, `>= ${etcdRatioMin}x`, skipped ?? 'not run');
    return ratioVerdict('2', figure, rate(kv), rate(etcd), { min: etcdRatioMin }, `${fmt(rate(kv), 0)} / ${fmt(rate(etcd), 0)} req/s`);
  });
}

function syncVerdicts(peak: readonly Row[], skipped: string | undefined): Verdict[] {
  return ops.map((op) => {
    const full = find(peak, targetNames.full, op);
    const normal = find(peak, targetNames.normal, op);
    const figure = `${op} throughput, --sync full / normal`;
    if (full === undefined || normal === undefined) return notMeasured('3', figure, `>= ${syncFullRatioMin}x`, skipped ?? 'not run');
    return ratioVerdict('3', figure, rate(full), rate(normal), { min: syncFullRatioMin }, `${fmt(rate(full), 0)} / ${fmt(rate(normal), 0)} req/s`);
  });
}

function latencyVerdicts(latency: readonly Row[], skipped: string | undefined): Verdict[] {
  return ops.map((op) => {
    const row = find(latency, targetNames.normal, op);
    const figure = `${op} p99 / p50 at ${latencyLoadFraction}x peak`;
    if (row === undefined) return notMeasured('4', figure, `<= ${p99OverP50Max}x`, skipped ?? 'not run');
    const detail = `p50 ${fmt(row.r.p50, 2)}, p99 ${fmt(row.r.p99, 2)}, p99.9 ${fmt(row.r.p999, 2)} ms at ${row.rate} req/s`;
    return ratioVerdict('4', figure, row.r.p99, row.r.p50, { max: p99OverP50Max }, detail);
  });
}

function sizeVerdicts(sizes: readonly Row[], skipped: string | undefined): Verdict[] {
  if (sizes.length === 0) return [notMeasured('6', 'throughput by value size', 'reported', skipped ?? 'not run')];
  return [...new Set(sizes.map((r) => r.valueBytes))].map((bytes) => {
    const cell = (op: Op) => {
      const row = sizes.find((r) => r.valueBytes === bytes && r.op === op);
      return row === undefined ? `${op} -` : `${op} ${fmt(rate(row), 0)}/s ${fmt((rate(row) * bytes) / 1e6, 1)} MB/s`;
    };
    return { item: '6', figure: `${bytes}-byte values`, value: `${cell('PUT')}, ${cell('GET')}`, target: 'reported', verdict: 'reported' };
  });
}

export function verdictTable(res: BenchResults): string {
  const verdicts = [
    ...noopVerdicts(res.peak, res.skipped['noop']),
    ...etcdVerdicts(res.peak, res.skipped['etcd']),
    ...syncVerdicts(res.peak, res.skipped['sync']),
    ...latencyVerdicts(res.latency, res.skipped['latency']),
    notMeasured('5', 'cost flat as data grows (1M keys)', 'start <= 3 s, 0.8x', 'not measured by this bench'),
    ...sizeVerdicts(res.sizes, res.skipped['sizes']),
  ];
  return table([['#', 'figure', 'measured', 'target', 'verdict'], ...verdicts.map((v) => [v.item, v.figure, v.value, v.target, v.verdict])], 5);
}

export function printReport(res: BenchResults): void {
  console.log(`\npeak throughput (closed loop)\n${peakTable(res.peak)}`);
  console.log(`  (srv CPU / gen CPU: cores used by the server processes / by the load generator, 1.00 = one core busy; ${os.cpus().length} here.\n   srv us/req: server CPU microseconds per successful request, all server processes of the target summed.)`);
  const vsEtcd = etcdTable(res.peak);
  if (vsEtcd !== undefined) console.log(`\nkvorum | etcd (closed loop, same generator and connections)\n${vsEtcd}`);
  if (res.latency.length > 0) console.log(`\nlatency at a fixed offered load (open loop, ${latencyLoadFraction}x each target's and op's peak; latency from when each request was due;\n  the no-op rows are the floor this machine and generator give)\n${latencyTable(res.latency)}`);
  if (res.sizes.length > 0) console.log(`\nvalue sizes (${targetNames.normal}, closed loop)\n${sizesTable(res.sizes)}`);
  console.log(`\nissue 13 targets\n${verdictTable(res)}`);
}
