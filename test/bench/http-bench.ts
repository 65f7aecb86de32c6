// HTTP bench: kvorum (3 nodes, N=3, PUT ?w=2 / GET ?r=2) against a no-op fastify server, itself
// with --sync full, and optionally a 3-member etcd, driven by the same load generator; latency at
// half the peak load; throughput by value size. Prints issue 13's targets with a verdict per line.
// See test/bench/README.md.
//   npm run bench -- [--seconds 10] [--warmup 2] [--connections 64] [--value-bytes 1024]
//                    [--vs etcd] [--value-sizes | --sizes 100,1024,65536,1048576] [--skip noop,latency,sync] [--profile DIR]
import os from 'node:os';
import { join } from 'node:path';
import { benchCli } from './cli.js';
import { benchTmpDir, cleanup, installCleanupHandlers, onCleanup, startNoop, wasInterrupted } from './bench-procs.js';
import { dataRoot, startKvorum, verifySample, type SyncMode } from './bench-kvorum.js';
import { latencyPhases, peakKeysFile, peakPhases, sizePhases, type PhaseOptions, type Row, type Target } from './bench-phases.js';
import { printReport, targetNames } from './bench-report.js';
import { latencyLoadFraction } from './bench-targets.js';
import { findEtcd, startEtcd } from './etcd.js';

/** Issue 13's value sizes: 100 B, 1 KiB, 64 KiB, 1 MiB (a node's default --value-bytes-max is 1 MiB). */
const issueSizes = [100, 1024, 65_536, 1_048_576];
const skippable = ['noop', 'latency', 'sync'] as const;
const readBackSample = 30;
const usage = `usage: npm run bench -- [--seconds S] [--warmup S] [--connections C] [--value-bytes B] [--vs etcd]
                    [--value-sizes | --sizes B,B,...] [--skip ${skippable.join(',')}] [--profile DIR]`;

const { flags, usageError, integer: positiveInt } = benchCli(
  {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '1024' },
    vs: { type: 'string' },
    'value-sizes': { type: 'boolean', default: false },
    sizes: { type: 'string' },
    skip: { type: 'string', default: '' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  usage,
);
const settings: Omit<PhaseOptions, 'dir'> = {
  seconds: positiveInt('seconds', flags.seconds, 1),
  warmup: positiveInt('warmup', flags.warmup, 0),
  connections: positiveInt('connections', flags.connections, 3),
  valueBytes: positiveInt('value-bytes', flags['value-bytes'], 16),
};
if (flags.vs !== undefined && flags.vs !== 'etcd') usageError(`--vs: only 'etcd' is supported, got ${flags.vs}`);
const skip = new Set(flags.skip.split(',').filter(Boolean));
for (const s of skip) if (!(skippable as readonly string[]).includes(s)) usageError(`--skip: one of ${skippable.join(', ')}, got ${s}`);
const sizes = flags.sizes !== undefined ? flags.sizes.split(',').map((s) => positiveInt('sizes', s.trim(), 16)) : flags['value-sizes'] ? issueSizes : [];

/** --profile DIR: every node writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
const nodeExecArgs = flags.profile === undefined ? undefined : ['--cpu-prof', '--cpu-prof-dir', flags.profile];

interface Results {
  peak: Row[];
  latency: Row[];
  sizes: Row[];
  skipped: Record<string, string>;
}

function printHeader(): void {
  const cpus = os.cpus();
  console.log('kvorum HTTP bench');
  console.log(`  node ${process.version}, ${os.platform()}/${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), available parallelism ${os.availableParallelism()}`);
  console.log(
    `  ${settings.connections} keep-alive connections, ${settings.valueBytes}-byte values (distinct per request), ${settings.seconds}s per phase, ${settings.warmup}s warm-up per op; ` +
      `kvorum: N=3, PUT ?w=2, GET ?r=2, connections split over the 3 nodes`,
  );
}

async function runNoop(res: Results, o: PhaseOptions): Promise<void> {
  if (skip.has('noop')) {
    res.skipped['noop'] = 'skipped (--skip noop)';
    return;
  }
  const noop = await startNoop(o.valueBytes);
  console.log(`  ${targetNames.noop}: ${noop.url}`);
  // Three URLs of the one server: the generator's setup as for kvorum; the queries as kvorum's (ignored).
  const target: Target = { name: targetNames.noop, api: 'kvorum', urls: [noop.url, noop.url, noop.url], serverPids: () => [noop.pid], putQuery: 'w=2', getQuery: 'r=2' };
  res.peak.push(...(await peakPhases(target, o)));
  if (!skip.has('latency')) res.latency.push(...(await latencyPhases(target, o, res.peak, latencyLoadFraction)));
}

/** One kvorum cluster: peak phases, the read-back check, then `more` (latency, sizes) on the same cluster. */
async function runKvorum(res: Results, o: PhaseOptions, sync: SyncMode, more: (t: Target) => Promise<void>): Promise<void> {
  const kv = await startKvorum(sync, nodeExecArgs);
  console.log(`  ${kv.name}: ${kv.urls.join(' ')} (data in ${dataRoot(kv)})`);
  res.peak.push(...(await peakPhases(kv, o)));
  console.log(`  ${kv.name}: read-back check: ${await verifySample(kv.urls, peakKeysFile(kv, o), readBackSample, o.valueBytes)}`);
  await more(kv);
  kv.checkAlive();
  const warnings = kv.cluster.logs().split('\n').filter(Boolean);
  if (warnings.length > 0) console.log(`  ${kv.name} logged (warn and above, last lines):\n    ${warnings.slice(-10).join('\n    ')}`);
  await kv.stop();
}

async function runEtcd(res: Results, o: PhaseOptions): Promise<void> {
  if (flags.vs !== 'etcd') {
    res.skipped['etcd'] = 'not requested (--vs etcd)';
    return;
  }
  const binary = findEtcd();
  if (binary === undefined) {
    res.skipped['etcd'] = 'skipped: etcd not on PATH';
    console.log('  etcd: not on PATH (Debian: apt-get install etcd-server): skipping the etcd comparison');
    return;
  }
  const etcd = await startEtcd(binary, join(o.dir, 'etcd'));
  const stop = onCleanup(() => etcd.stop());
  console.log(`  ${targetNames.etcd}: ${binary} ${etcd.version}, 3 members, client URLs ${etcd.urls.join(' ')}`);
  const target: Target = { name: targetNames.etcd, api: 'etcd', urls: etcd.urls, serverPids: () => etcd.pids(), putQuery: '', getQuery: '' };
  res.peak.push(...(await peakPhases(target, o)));
  if (etcd.pids().length < 3) throw new Error(`an etcd member died during the run; output:\n${etcd.logs()}`);
  await stop();
}

async function main(): Promise<void> {
  printHeader();
  const o: PhaseOptions = { ...settings, dir: benchTmpDir() };
  const res: Results = { peak: [], latency: [], sizes: [], skipped: {} };
  await runNoop(res, o);
  await runKvorum(res, o, 'normal', async (kv) => {
    if (skip.has('latency')) res.skipped['latency'] = 'skipped (--skip latency)';
    else res.latency.push(...(await latencyPhases(kv, o, res.peak, latencyLoadFraction)));
    if (sizes.length === 0) res.skipped['sizes'] = 'not requested (--value-sizes)';
    else res.sizes.push(...(await sizePhases(kv, o, sizes)));
  });
  // --vs etcd compares etcd with kvorum --sync full, so that cluster runs then even if --skip sync.
  if (!skip.has('sync') || flags.vs === 'etcd') await runKvorum(res, o, 'full', async () => undefined);
  else res.skipped['sync'] = 'skipped (--skip sync)';
  await runEtcd(res, o);
  printReport(res);
}

installCleanupHandlers();
try {
  await main();
} catch (err) {
  if (!wasInterrupted()) console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
