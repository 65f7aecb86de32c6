// What the membership bench prints and writes: the checks it runs at the end (replica copies,
// a read-back sample), the tables, the timeline and the JSON result file.
import { writeFileSync } from 'node:fs';
import { http } from '../kit/http.js';
import type { TestCluster } from '../kit/test-cluster.js';
import { sleep } from '../kit/wait.js';
import { mapLimit } from '../helpers/convergence.js';
import { valueFor } from './common.js';
import { fmt, int, mib, table } from './convergence-common.js';
import { benchKey, type DoneLine, type LoadedLine, type LoadRecords } from './membership-common.js';
import { perSecond, transferFigures, windowStats, type TransferFigures, type Window, type WindowStats } from './membership-report.js';
import type { ProcSampler } from './membership-sampler.js';
import type { StepResult } from './membership-steps.js';

export interface BenchResult {
  readonly opts: { readonly keys: number; readonly valueBytes: number; readonly rate: number; readonly timelineSeconds: number } & Record<string, unknown>;
  readonly cpus: string;
  readonly load: LoadedLine & { readonly fromMs: number; readonly toMs: number };
  readonly done: DoneLine;
  readonly windows: readonly Window[];
  readonly steps: readonly StepResult[];
  readonly checks: Record<string, string>;
  readonly logs: readonly string[];
}

/**
 * Replica copies the running nodes hold (the sum over nodes of their per-partition key counts,
 * GET /admin/partition-keys, partitions they serve), against N x keys. Retried for up to 30 s:
 * the counts are the Merkle trees' sizes, updated as writes commit.
 */
export async function checkCopies(c: TestCluster, keys: number, n = 3): Promise<string> {
  let line = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const live = c.nodes.filter((x) => x.running());
    const counts = await Promise.all(
      live.map(async (x) => Object.values((await http('GET', `${x.url}/admin/partition-keys`)).json<{ keys: Record<string, number> }>().keys).reduce((a, b) => a + b, 0)),
    );
    const total = counts.reduce((a, b) => a + b, 0);
    line = `${int(total)} ${total === n * keys ? '=' : '!='} N x keys = ${int(n * keys)} (${live.map((x, i) => `${x.id} ${int(counts[i]!)}`).join(', ')})`;
    if (total === n * keys) return line;
    await sleep(1000);
  }
  return `${line} MISMATCH after 30 s`;
}

/** GETs `count` keys spread over the key space (r=quorum, round-robin over the running nodes) and checks every byte. */
export async function checkSample(c: TestCluster, keys: number, valueBytes: number, count: number): Promise<string> {
  const live = c.nodes.filter((x) => x.running());
  const picks = Array.from({ length: Math.min(count, keys) }, (_, i) => Math.floor((i * keys) / Math.min(count, keys)));
  const bad: string[] = [];
  let siblings = 0;
  await mapLimit(picks, 16, async (i) => {
    const key = benchKey(i);
    const res = await http('GET', `${live[i % live.length]!.url}/kv/${key}`);
    const want = valueFor(key, valueBytes).toString('base64');
    // Siblings (300) of the written value: a PUT that failed (503, timeout) was stored all the same.
    const sibling = res.status === 300 && res.json<{ siblings: { value?: string }[] }>().siblings.every((s) => s.value === want);
    if (sibling) siblings++;
    else if (res.status !== 200 || !res.body.equals(valueFor(key, valueBytes))) bad.push(`${key}: ${res.status}, ${res.body.length} B`);
  });
  const intact = picks.length - bad.length - siblings;
  return (
    `${intact}/${picks.length} keys read back intact` +
    (siblings > 0 ? `, ${siblings} as siblings of the written value (a failed PUT stored all the same; the next write with the 300's context resolves them)` : '') +
    (bad.length > 0 ? `; BAD: ${bad.slice(0, 5).join('; ')}` : '')
  );
}

const statusText = (s: Record<string, number>) => (Object.keys(s).length === 0 ? '-' : Object.entries(s).map(([k, v]) => `${k === '0' ? 'err' : k === '-1' ? 'unans' : k}:${v}`).join(' '));

function loadTable(stats: readonly WindowStats[], rate: number): string {
  return table(
    [
      ['window', 'secs', 'offered/s', '2xx/s', 'non-2xx', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'GET p99', 'PUT p99', 'svc p99', 'worst 1s 2xx', 'worst 1s p99', 'statuses'],
      ...stats.map((s) => [
        s.name, fmt(s.seconds, 1), fmt(s.requests / s.seconds, 0), fmt(s.okPerSecond, 1), int(s.nonOk), fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.p999, 1), fmt(s.max, 0),
        fmt(s.getP99, 1), fmt(s.putP99, 1), fmt(s.serviceP99, 1), `${int(s.worstSecondOk)}/${fmt(rate, 0)}`, fmt(s.worstSecondP99, 0),
        statusText(s.statuses) + (s.fast503 > 0 ? ` (503 < 1.9 s: ${s.fast503})` : ''),
      ]),
    ],
    1,
  );
}

function stepTables(figs: readonly TransferFigures[], steps: readonly StepResult[]): string {
  const time = table(
    [
      ['step', 'step s', 'commit -> nothing moving s', 'transfers done', 'keys received', 'MB received', 'keys/s', 'MB/s', 'transfer errors', 'AE keys repaired', 'hints stored', 'read repairs'],
      ...figs.map((f) => [
        f.step, fmt(f.stepSeconds, 1), fmt(f.transferSeconds, 1), int(f.transfersCompleted), int(f.keysReceived), fmt(f.bytesReceived / 1e6, 1),
        int(f.keysPerSecond), fmt(f.mbPerSecond, 2), int(f.transferErrors), int(f.aeKeysRepaired), int(f.hintsStored), int(f.readRepairs),
      ]),
    ],
    1,
  );
  const moved = table(
    [
      ['step', 'partitions moving', '(partition, receiver) pairs', 'min pairs', 'plan keysMoving', 'keys received', 'received / plan', 'ownersMoved', 'ownersMovedMin', 'members before -> after'],
      ...figs.map((f, i) => [
        f.step, int(f.partitionsMoving), int(f.planTransfers), int(f.minTransfers), int(f.planKeysMoving), int(f.keysReceived), fmt(f.keysReceived / f.planKeysMoving, 3),
        int(f.ownersMoved), int(f.ownersMovedMin), steps[i]!.plan.members.map((m) => `${m.id} ${m.before}->${m.after}`).join(', '),
      ]),
    ],
    1,
  );
  return `${time}\n\n${moved}`;
}

function resourceTable(sampler: ProcSampler, windows: readonly Window[]): string {
  const labels = [...sampler.samples.keys()];
  const ours = (w: Window) => labels.reduce((sum, l) => sum + (sampler.window(l, w.fromMs, w.toMs).cpuCores || 0), 0);
  return table(
    [
      ['process', 'peak RSS (VmHWM)', ...windows.map((w) => `${w.name}: max RSS / CPU / wait`)],
      ['machine: every process', '', ...windows.map((w) => `busy ${fmt(sampler.machineCores(w.fromMs, w.toMs), 2)}`)],
      ['machine: not this bench', '', ...windows.map((w) => `${fmt(sampler.machineCores(w.fromMs, w.toMs) - ours(w), 2)}`)],
      ...labels.map((label) => [
        label, mib(sampler.peakBytes(label)),
        ...windows.map((w) => {
          const x = sampler.window(label, w.fromMs, w.toMs);
          return Number.isFinite(x.maxRssBytes) ? `${mib(x.maxRssBytes)} / ${fmt(x.cpuCores, 2)} / ${fmt(x.runWait, 2)}` : '-';
        }),
      ]),
    ],
    1,
  );
}

/** V8 heap in use per node when each step began and when its transfers were done. */
function heapTable(steps: readonly StepResult[]): string {
  const ids = [...new Set(steps.flatMap((s) => [...Object.keys(s.countersBefore), ...Object.keys(s.countersAfter)]))].sort();
  const cell = (c: Record<string, { heapUsedBytes: number }>, id: string) => (c[id] === undefined ? '-' : mib(c[id].heapUsedBytes));
  return table([['node', ...steps.flatMap((s) => [`${s.name}: start`, `${s.name}: transfers done`])], ...ids.map((id) => [id, ...steps.flatMap((s) => [cell(s.countersBefore, id), cell(s.countersAfter, id)])])], 1);
}

/** One row per `seconds` of the steady load: which window, 2xx/s, non-2xx, p99 and the worst of the seconds. */
function timeline(records: LoadRecords, windows: readonly Window[], startMs: number, endMs: number, seconds: number): string {
  const secs = perSecond(records, startMs, endMs);
  const rows: string[][] = [];
  for (let s = 0; s < secs.length; s += seconds) {
    const chunk = secs.slice(s, s + seconds);
    const at = startMs + s * 1000;
    const overlapping = windows.filter((w) => w.fromMs < at + chunk.length * 1000 && w.toMs > at).map((w) => w.name);
    const name = overlapping.length === 0 ? '-' : overlapping.join(' > ');
    const ok = chunk.reduce((a, x) => a + x.ok, 0);
    rows.push([`+${s}`, name, fmt(ok / chunk.length, 0), int(chunk.reduce((a, x) => a + x.nonOk, 0)), fmt(Math.max(...chunk.map((x) => (Number.isFinite(x.p99) ? x.p99 : 0))), 0), int(Math.min(...chunk.map((x) => x.ok)))]);
  }
  return table([['t s', 'window', '2xx/s', 'non-2xx', 'max 1s p99 ms', 'min 1s 2xx'], ...rows], 2);
}

export function printReport(r: BenchResult, records: LoadRecords, sampler: ProcSampler, out: string): void {
  const loadWindow: Window = { name: 'load', fromMs: r.load.fromMs, toMs: r.load.toMs };
  const stats = r.windows.map((w) => windowStats(records, w));
  const figs = r.steps.map(transferFigures);
  console.log(`\n== steps: time, transfers (kvorum_transfer_* counters summed over the receiving nodes) ==\n${stepTables(figs, r.steps)}`);
  console.log(
    '  keys received: kvorum_transfer_keys_total summed over every node, delta over the step (each key a receiver pulled in a page; a page\n' +
      '  retried after an error counts again). plan keysMoving: GET /admin/plan before the commit, the sum over its (partition, receiver)\n' +
      '  pairs of the partition\'s key count: every key copy that must be streamed for that plan. min pairs: the sum over members of\n' +
      '  max(0, after - before), the fewest (partition, receiver) pairs any ring with those shares needs. ownersMoved / ownersMovedMin:\n' +
      '  partitions whose claimed owner changes, and the fewest any balanced claim needs. AE keys repaired includes the Merkle check\n' +
      '  after each transfer and the push before an old replica drops its copy, besides routine anti-entropy. keys/s and MB/s are over\n' +
      '  "commit -> nothing moving".',
  );
  console.log(`\n== client load (open loop, ${r.opts.rate} req/s; latency from when each request was due; 2xx only) ==\n${loadTable(stats, r.opts.rate)}`);
  console.log(`  load (bulk PUT before the steady load): ${int(r.opts.keys)} keys in ${fmt(r.load.ms / 1000, 1)} s = ${int(r.opts.keys / (r.load.ms / 1000))} keys/s, failed attempts ${JSON.stringify(r.load.failures)}`);
  console.log(
    '  svc p99: from when the request was handed to the HTTP client (a wait for one of its 256 connections per node included; only a late\n' +
      '  client event loop is left out). worst 1s: the full second of the window with the fewest 2xx answers / the highest p99.\n' +
      '  statuses: err = connection error or no answer within the client\'s 10 s; a 503 in under 1.9 s is not the coordinator\'s 2 s quorum timeout\n' +
      '  (replicas refused or failed fast, e.g. 421 not_replica from a node whose ring is newer than the coordinator\'s).',
  );
  if (r.opts.timelineSeconds > 0) console.log(`\n== timeline (${r.opts.timelineSeconds} s rows, from the start of the steady load) ==\n${timeline(records, r.windows, r.done.startMs, r.done.stopMs, r.opts.timelineSeconds)}`);
  const resWindows = [loadWindow, ...r.windows];
  console.log(`\n== processes: peak RSS (VmHWM from /proc, sampled every 0.5 s), and per window: max VmRSS sampled / CPU cores used / seconds per second
   the main thread (event loop) was runnable but waiting for a CPU (/proc/PID/schedstat); machine: cores busy, and not by this bench ==\n${resourceTable(sampler, resWindows)}`);
  console.log(`\n== V8 heap in use (nodejs_heap_size_used_bytes) ==\n${heapTable(r.steps)}`);
  console.log('\n== checks ==');
  for (const [k, v] of Object.entries(r.checks)) console.log(`  ${k}: ${v}`);
  console.log(`  client: ${int(r.done.issued)} steady requests issued, ${int(r.done.unanswered)} unanswered when it stopped`);
  if (r.logs.length > 0) console.log(`  nodes logged (warn and above, last lines):\n    ${r.logs.slice(-12).join('\n    ')}`);
  const perSec = perSecond(records, r.done.startMs, r.done.stopMs);
  const peaks = Object.fromEntries([...sampler.samples.keys()].map((l) => [l, sampler.peakBytes(l)]));
  writeFileSync(out, JSON.stringify({ ...r, stats, transfers: figs, peakRssBytes: peaks, perSecond: perSec, samples: Object.fromEntries(sampler.samples), machineCpu: sampler.machine }, null, 1));
  console.log(`\nresult written to ${out}`);
}
