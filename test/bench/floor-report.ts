// The floor bench's output: one table of CPU microseconds per operation (every phase), then the
// floor of a quorum PUT (N=3, w=2) built from them, as a multiple of the no-op request, next to
// issue 13's target, and a one-line conclusion.
import type { Measured } from './bench-procs.js';
import type { SqliteResult } from './floor-common.js';
import { idleGapMs, type PeerMode, type PeerResult } from './floor-phases.js';

/** Issue 13: a quorum PUT costs at most this many times the server CPU of a no-op fastify request. */
export const putTargetRatio = 4;
/** The rows per transaction of the loaded floor (the lightly loaded one uses 1). */
export const loadedBatch = 16;

/** The no-op request's cost at the end and at the start differing by more than this factor: the machine's load changed. */
export const noopDriftMax = 1.25;

export interface FloorResults {
  /** The no-op phase at the start and again at the end of the run (the floor uses both together). */
  readonly noop: readonly [start: Measured, end: Measured];
  readonly sqlite: readonly SqliteResult[];
  readonly peer: readonly PeerResult[];
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const count = (n: number): string => fmt(n, 0);
const pad = (cells: readonly string[], widths: readonly number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

interface TableRow {
  readonly phase: string;
  readonly ops: number;
  /** CPU microseconds of the phase's measured part; undefined if it could not be read. */
  readonly cpuUs: number | undefined;
  readonly note: string;
}

const usPerOp = (r: TableRow): number | undefined => (r.cpuUs === undefined || r.ops === 0 ? undefined : r.cpuUs / r.ops);

function noopRow(m: Measured, when: string): TableRow {
  const r = m.r;
  const bad = r.non2xx + r.errors > 0 ? `; ${r.non2xx} non-2xx, ${r.errors} errors` : '';
  const note = `${count(r.ok / r.seconds)} req/s; generator ${fmt(r.generatorCpuSeconds / r.seconds, 2)} cores${bad}`;
  return { phase: `no-op HTTP PUT, server (${when})`, ops: r.ok, cpuUs: m.serverCpu === undefined ? undefined : m.serverCpu * 1e6, note };
}

/** Both no-op phases as one: their CPU over their requests. */
function pooled(start: TableRow, end: TableRow): TableRow {
  const cpuUs = start.cpuUs === undefined || end.cpuUs === undefined ? undefined : start.cpuUs + end.cpuUs;
  return { phase: 'no-op HTTP PUT, server (both)', ops: start.ops + end.ops, cpuUs, note: 'the figure the floors use' };
}

function sqliteRow(r: SqliteResult): TableRow {
  const note = `${count(r.rows / (r.wallMs / 1000))} rows/s wall; ${r.objectBytes}-byte objects`;
  return { phase: `SQLite row, ${r.schema} schema, ${r.batch}/tx`, ops: r.rows, cpuUs: r.cpuUs, note };
}

function peerRow(p: PeerResult): TableRow {
  const c = p.client;
  const split = p.serverCpuUs === undefined ? 'server n/a' : `client ${fmt(c.cpuUs / c.exchanges, 2)} + server ${fmt(p.serverCpuUs / c.exchanges, 2)}`;
  const note = `${split}; ${count(c.exchanges / (c.wallMs / 1000))}/s; ${fmt(c.exchanges / Math.max(1, c.writes), 1)} requests/write`;
  return { phase: `peer exchange, ${p.mode.label}`, ops: c.exchanges, cpuUs: p.serverCpuUs === undefined ? undefined : c.cpuUs + p.serverCpuUs, note };
}

function printTable(rows: readonly TableRow[]): void {
  const widths = [Math.max(...rows.map((r) => r.phase.length)), 9, 9, 10];
  console.log(pad(['phase', 'ops', 'CPU s', 'CPU us/op', 'notes'], [...widths, 0]));
  for (const r of rows) {
    const per = usPerOp(r);
    const cpu = r.cpuUs === undefined ? 'n/a' : fmt(r.cpuUs / 1e6, 3);
    console.log(pad([r.phase, count(r.ops), cpu, per === undefined ? 'n/a' : fmt(per, 2), r.note], [...widths, 0]));
  }
}

/** One floor: 1 no-op request + 3 rows + 2 exchanges, printed as the sum and as a multiple of the no-op request. */
function floorLine(label: string, noopUs: number, rowUs: number | undefined, exchangeUs: number | undefined): number | undefined {
  if (rowUs === undefined || exchangeUs === undefined) {
    console.log(`  ${label}: not measured`);
    return undefined;
  }
  const total = noopUs + 3 * rowUs + 2 * exchangeUs;
  const ratio = total / noopUs;
  console.log(`  ${label}: ${fmt(noopUs)} + 3 x ${fmt(rowUs)} + 2 x ${fmt(exchangeUs)} = ${fmt(total)} us = ${fmt(ratio, 2)}x the no-op request (target <= ${putTargetRatio}x)`);
  return ratio;
}

const rowUsOf = (res: FloorResults, batch: number): number | undefined => {
  const r = res.sqlite.find((s) => s.schema === 'kvorum' && s.batch === batch);
  return r && r.cpuUs / r.rows;
};

const exchangeUsOf = (res: FloorResults, mode: PeerMode['name']): number | undefined => {
  const p = res.peer.find((x) => x.mode.name === mode);
  return p && usPerOp(peerRow(p));
};

/** The table, the floors and the conclusion. */
export function printReport(res: FloorResults): void {
  const [start, end] = [noopRow(res.noop[0], 'start'), noopRow(res.noop[1], 'end')];
  const noop = pooled(start, end);
  console.log('\nCPU per operation (user + system of the processes named, not wall time)\n');
  printTable([start, end, noop, ...res.sqlite.map(sqliteRow), ...res.peer.map(peerRow)]);
  const noopUs = usPerOp(noop);
  if (noopUs === undefined) {
    console.log("\nNo floor: the no-op server's CPU could not be read (/proc).");
    return;
  }
  console.log('\nFloor of a quorum PUT (N=3, w=2, 1 KiB) = 1 no-op HTTP request + 3 SQLite rows (kvorum schema) + 2 peer request/answer exchanges:');
  const loaded = floorLine(`under load (rows ${loadedBatch}/tx, 16 outstanding)`, noopUs, rowUsOf(res, loadedBatch), exchangeUsOf(res, 'pipelined-16'));
  const light = floorLine('lightly loaded (rows 1/tx, ping-pong)', noopUs, rowUsOf(res, 1), exchangeUsOf(res, 'ping-pong'));
  floorLine(`lightly loaded, idle wake-ups (rows 1/tx, ping-pong, ${idleGapMs} ms gap)`, noopUs, rowUsOf(res, 1), exchangeUsOf(res, 'idle-gap'));
  console.log(
    "This floor excludes all of kvorum's own work: HTTP routing beyond fastify's no-op, validation, version vectors, encoding, " +
      'Merkle hashes, metrics, and any protocol above raw length-prefixed frames for the peer messages. The no-op request is the loaded figure in every line.',
  );
  const drift = driftWarning(usPerOp(start)!, usPerOp(end)!);
  if (drift !== undefined) console.log(drift);
  console.log(conclusion(noopUs, loaded, light));
}

function driftWarning(startUs: number, endUs: number): string | undefined {
  if (Math.max(startUs, endUs) / Math.min(startUs, endUs) <= noopDriftMax) return undefined;
  return (
    `WARNING: the no-op request cost ${fmt(startUs)} us at the start and ${fmt(endUs)} us at the end: the machine's load changed ` +
    'during the run (CPU per operation grows on a busy machine), so the phases are not comparable and the ratios are unreliable. Run again when it is quieter.'
  );
}

function conclusion(noopUs: number, loaded: number | undefined, light: number | undefined): string {
  if (loaded === undefined) return 'Conclusion: not enough figures for a floor.';
  const lightText = light === undefined ? '' : `; lightly loaded the floor alone is ${fmt(light, 2)}x`;
  if (loaded > putTargetRatio) return `Conclusion: the ${putTargetRatio}x target is NOT reachable on this machine: under load the floor alone is ${fmt(loaded, 2)}x the no-op request${lightText}.`;
  const leftUs = (putTargetRatio - loaded) * noopUs;
  return (
    `Conclusion: the ${putTargetRatio}x target is reachable under load only if all of kvorum's own work per PUT (3 nodes together) fits in ` +
    `${fmt(leftUs)} us (${fmt(putTargetRatio - loaded, 2)}x the no-op request): the floor alone is ${fmt(loaded, 2)}x${lightText}.`
  );
}
