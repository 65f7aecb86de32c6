// Floor bench: the irreducible CPU a quorum PUT (N=3, w=2, 1 KiB value) pays on this machine, in one
// run, against issue 13's target (<= 4x the server CPU of a no-op fastify request): a no-op HTTP
// request, one replica's SQLite row (kvorum's schema, and a minimal one), one peer request/answer
// over loopback TCP (ping-pong, pipelined, idle). Every figure is CPU time of child processes
// (user + system), not wall time. See test/bench/README.md.
//   npm run bench:floor -- [--seconds 5] [--warmup 1] [--connections 64] [--preload 50000] [--rows 20000]
import os from 'node:os';
import { benchCli } from './cli.js';
import { benchTmpDir, cleanup, installCleanupHandlers, wasInterrupted } from './bench-procs.js';
import { noopPhase, peerModes, peerPhase, sqlitePhase, type FloorOptions, type PeerResult } from './floor-phases.js';
import { loadedBatch, printReport } from './floor-report.js';

const valueBytes = 1024;
const sqliteBatches = [1, 4, loadedBatch, 64];
const usage = 'usage: npm run bench:floor -- [--seconds S] [--warmup S] [--connections C] [--preload N] [--rows N]';

const { flags, integer } = benchCli(
  {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
    preload: { type: 'string', default: '50000' },
    rows: { type: 'string', default: '20000' },
    help: { type: 'boolean', short: 'h' },
  },
  usage,
);
const settings: Omit<FloorOptions, 'dir'> = {
  seconds: integer('seconds', flags.seconds, 1),
  warmup: integer('warmup', flags.warmup, 0),
  connections: integer('connections', flags.connections, 3),
  valueBytes,
  preload: integer('preload', flags.preload, 0),
  rows: integer('rows', flags.rows, 64),
};

function printHeader(): void {
  const cpus = os.cpus();
  console.log('kvorum floor bench: the irreducible CPU of a quorum PUT (N=3, w=2, 1 KiB value)');
  console.log(`  node ${process.version}, ${os.platform()}/${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    `  ${settings.seconds}s per HTTP and peer phase after ${settings.warmup}s of warm-up; no-op: ${settings.connections} connections, ${valueBytes}-byte PUTs; ` +
      `SQLite: ${settings.preload} rows preloaded, ${settings.rows} timed per case, under ${os.tmpdir()}`,
  );
}

async function main(): Promise<void> {
  printHeader();
  const o: FloorOptions = { ...settings, dir: benchTmpDir() };
  const noopStart = await noopPhase(o, 'start');
  const sqlite = await sqlitePhase(o, sqliteBatches);
  const peer: PeerResult[] = [];
  for (const mode of peerModes) peer.push(await peerPhase(o, mode));
  // Again at the end: if the machine's load changed meanwhile, the two differ (and the report says so).
  const noopEnd = await noopPhase(o, 'end');
  printReport({ noop: [noopStart, noopEnd], sqlite, peer });
  // CPU time per operation grows too on a busy machine (every wake-up finds cold caches): say how busy it was.
  console.log(`(load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
}

installCleanupHandlers();
try {
  await main();
} catch (err) {
  if (!wasInterrupted()) console.error(`\nfloor bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
