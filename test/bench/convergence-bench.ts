// Convergence bench: what anti-entropy costs on the wire, how fast a wiped node is refilled, and
// how fast hints are handed off. Prints figures; checks only that the runs did what they claim.
//   npm run bench:convergence -- [--parts 1,2,3] [--wire-keys 100000] [--keys 10000]
//     [--storage sqlite|memory] [--intervals 2000,200] [--concurrency 64] [--value-bytes 100]
// Parts 2 and 3 run the built CLI (dist/): `npm run bench:convergence` builds first.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { TestCluster } from '../kit/test-cluster.js';
import { repoRoot } from '../kit/paths.js';
import { runHandoffBench, runRefillBench } from './convergence-cluster.js';
import { fmt } from './convergence-common.js';
import { runWireBench } from './convergence-wire.js';

const { values: flags } = parseArgs({
  options: {
    parts: { type: 'string', default: '1,2,3' },
    'wire-keys': { type: 'string', default: '100000' },
    keys: { type: 'string', default: '10000' },
    storage: { type: 'string', default: 'sqlite' },
    intervals: { type: 'string', default: '2000,200' },
    concurrency: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '100' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('usage: node --import tsx test/bench/convergence-bench.ts [--parts 1,2,3] [--wire-keys N] [--keys N] [--storage sqlite|memory] [--intervals MS,MS] [--concurrency C] [--value-bytes B]');
  process.exit(0);
}
const positiveInt = (name: string, raw: string, min = 1): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
  return n;
};
const parts = new Set(flags.parts.split(',').map((p) => p.trim()));
const wireKeys = positiveInt('wire-keys', flags['wire-keys'], 2000);
const keys = positiveInt('keys', flags.keys);
const intervals = flags.intervals.split(',').map((s) => positiveInt('intervals', s.trim(), 10));
const concurrency = positiveInt('concurrency', flags.concurrency);
const valueBytes = positiveInt('value-bytes', flags['value-bytes'], 16);
const storage = flags.storage;
if (storage !== 'sqlite' && storage !== 'memory') throw new Error(`--storage must be sqlite or memory, got ${storage}`);

// ---- cleanup: the running cluster (its stop() SIGKILLs only the processes it started) and temp dirs

let active: TestCluster | undefined;
const tempDirs = new Set<string>();
const trackTempDir = (dir: string) => {
  tempDirs.add(dir);
  return () => void tempDirs.delete(dir);
};
const removeTempDirs = () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
};
process.on('exit', removeTempDirs); // the cluster harness SIGKILLs its own live children on exit
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the bench cluster and removing temp dirs`);
    void (active?.stop() ?? Promise.resolve()).finally(() => {
      removeTempDirs();
      process.exit(130);
    });
  });
}

function gitHead(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log('kvorum convergence bench');
  console.log(
    `  node ${process.version}, ${os.platform()}/${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
      `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, tmpdir ${os.tmpdir()}, commit ${gitHead()}`,
  );
  const t0 = performance.now();
  if (parts.has('1')) await runWireBench({ keys: wireKeys, valueBytes, storage: storage as 'sqlite' | 'memory', differing: [0, 10, 1000], trackTempDir });
  const clusterOpts = { keys, valueBytes, concurrency, setActive: (c: TestCluster | undefined) => void (active = c) };
  if (parts.has('2')) await runRefillBench(clusterOpts, intervals);
  if (parts.has('3')) await runHandoffBench(clusterOpts);
  console.log(`\nbench took ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

try {
  await main();
} catch (err) {
  console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await active?.stop();
  removeTempDirs();
}
