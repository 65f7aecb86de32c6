// The floor bench's three measured phases, each in child processes of its own: the no-op HTTP
// request (noop-server.ts driven by load.ts, as `npm run bench` does), one replica's SQLite row
// (floor-sqlite.ts) and one peer request/answer exchange over loopback TCP (floor-socket.ts, a
// server and a client process per mode).
import { join } from 'node:path';
import { freePorts } from '../kit/ports.js';
import { repoRoot } from '../kit/paths.js';
import { cpuSecondsExact, failed, measured, runLoad, startChild, startNoop, startServer, stopChild, type Measured } from './bench-procs.js';
import type { LoadSpec } from './common.js';
import { floorResultMarker, floorStartMarker, type SocketResult, type SqliteResult } from './floor-common.js';

const sqliteScript = join(repoRoot, 'test/bench/floor-sqlite.ts');
const socketScript = join(repoRoot, 'test/bench/floor-socket.ts');
/** The SQLite child is given up (and killed at cleanup) after this long. */
const sqliteDeadlineMs = 300_000;
/** A socket client is given up this long after its planned end. */
const clientOverrunMs = 60_000;

export interface FloorOptions {
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly valueBytes: number;
  readonly preload: number;
  readonly rows: number;
  /** The bench's temp dir (under os.tmpdir()). */
  readonly dir: string;
}

const progress = (text: string) => process.stdout.write(text);

/** Phase 1 (run at the start and at the end: `when`): PUTs of `valueBytes` values to a new no-op fastify server, closed loop; server CPU while the load runs. */
export async function noopPhase(o: FloorOptions, when: string): Promise<Measured> {
  const noop = await startNoop(o.valueBytes);
  try {
    // Three URLs of the one server, as `npm run bench` drives it (the generator's setup as for a 3-node cluster).
    const spec: LoadSpec = { urls: [noop.url, noop.url, noop.url], connections: o.connections, seconds: o.seconds, method: 'PUT', query: 'w=2', keyPrefix: `${when}-`, valueBytes: o.valueBytes };
    if (o.warmup > 0) {
      progress(`  no-op HTTP (${when}): warm-up ${o.warmup}s ... `);
      await runLoad({ ...spec, seconds: o.warmup, keyPrefix: `${when}-warm-` });
      progress('done\n');
    }
    progress(`  no-op HTTP (${when}): PUT ${o.seconds}s ... `);
    const m = await measured(spec, [noop.pid]);
    progress(`${Math.round(m.r.ok / m.r.seconds)} req/s\n`);
    return m;
  } finally {
    await stopChild(noop.pid);
  }
}

/** Phase 2: floor-sqlite.ts in its own process, every schema and batch size. */
export async function sqlitePhase(o: FloorOptions, batches: readonly number[]): Promise<SqliteResult[]> {
  const results: SqliteResult[] = [];
  progress(`  SQLite: ${o.preload} rows preloaded, then ${o.rows} rows timed, per schema and batch size:`);
  const args = ['--import', 'tsx', sqliteScript, '--dir', join(o.dir, 'sqlite'), '--preload', String(o.preload), '--rows', String(o.rows)];
  const child = startChild('floor-sqlite', [...args, '--batches', batches.join(','), '--value-bytes', String(o.valueBytes)], (line) => {
    if (!line.startsWith(floorResultMarker)) return;
    const r = JSON.parse(line.slice(floorResultMarker.length)) as SqliteResult;
    results.push(r);
    progress(` ${r.schema}/${r.batch}`);
  });
  await child.waitExit(sqliteDeadlineMs).catch((err: Error) => {
    throw failed(child.label, child.logs(), err.message);
  });
  const { code } = await child.closed;
  progress('\n');
  if (code !== 0 || results.length !== batches.length * 2) throw failed(child.label, child.logs(), `exited with code ${code} after ${results.length} of ${batches.length * 2} cases`);
  return results;
}

/** How the socket client drives its one connection. */
export interface PeerMode {
  readonly name: 'ping-pong' | 'pipelined-16' | 'pipelined-64' | 'idle-gap';
  readonly label: string;
  readonly outstanding: number;
  readonly gapMs: number;
}

/** Idle time before each request of the idle-gap mode: every message wakes an idle process. */
export const idleGapMs = 2;
export const peerModes: readonly PeerMode[] = [
  { name: 'ping-pong', label: '1 outstanding (ping-pong)', outstanding: 1, gapMs: 0 },
  { name: 'pipelined-16', label: '16 outstanding', outstanding: 16, gapMs: 0 },
  { name: 'pipelined-64', label: '64 outstanding', outstanding: 64, gapMs: 0 },
  { name: 'idle-gap', label: `ping-pong, ${idleGapMs} ms idle gap`, outstanding: 1, gapMs: idleGapMs },
];

export interface PeerResult {
  readonly mode: PeerMode;
  readonly client: SocketResult;
  /** CPU microseconds of the server process over the client's measured part; undefined without /proc. */
  readonly serverCpuUs: number | undefined;
}

/** Phase 3, one mode: a floor-socket.ts server and client, the client's result and the server's CPU meanwhile. */
export async function peerPhase(o: FloorOptions, mode: PeerMode): Promise<PeerResult> {
  const [port] = await freePorts(1);
  const server = await startServer('floor-socket server', ['--import', 'tsx', socketScript, '--role', 'server', '--port', String(port)]);
  try {
    progress(`  peer exchange, ${mode.label}: ${o.seconds}s ... `);
    let before: number | undefined;
    let after: number | undefined;
    let result: SocketResult | undefined;
    const modeArgs = ['--outstanding', String(mode.outstanding), '--gap-ms', String(mode.gapMs), '--seconds', String(o.seconds), '--warmup', String(o.warmup)];
    const client = startChild(`floor-socket client (${mode.label})`, ['--import', 'tsx', socketScript, '--role', 'client', '--port', String(server.port), ...modeArgs], (line) => {
      // Both lines come while the server is idle (see floor-common.ts's floorStartMarker).
      if (line === floorStartMarker) before = cpuSecondsExact([server.pid]);
      if (!line.startsWith(floorResultMarker)) return;
      after = cpuSecondsExact([server.pid]);
      result = JSON.parse(line.slice(floorResultMarker.length)) as SocketResult;
    });
    await client.waitExit((o.warmup + o.seconds) * 1000 + clientOverrunMs).catch((err: Error) => {
      throw failed(client.label, client.logs(), err.message);
    });
    const { code } = await client.closed;
    if (code !== 0 || result === undefined) throw failed(client.label, client.logs(), `exited with code ${code} without a result`);
    progress(`${Math.round(result.exchanges / (result.wallMs / 1000))} exchanges/s\n`);
    const serverCpuUs = before === undefined || after === undefined ? undefined : (after - before) * 1e6;
    return { mode, client: result, serverCpuUs };
  } finally {
    await stopChild(server.pid);
  }
}
