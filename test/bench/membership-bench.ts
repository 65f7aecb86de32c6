// Membership bench (issue 12): a 3-node cluster holding `--keys` keys grows to 5 and shrinks back
// to 3 under a steady open-loop client load. Reports the time of each step, keys moved against
// the plan's minimum, client throughput and latency before / during / after each step, transfer
// rates, and peak RSS per node. See test/bench/README.md.
//   npm run bench:membership -- [--keys 100000] [--value-bytes 1024] [--rate 300] [--seconds-per-phase 30] ...
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../kit/paths.js';
import { Proc } from '../kit/proc.js';
import { startCluster, type TestCluster } from '../kit/test-cluster.js';
import { sleep } from '../kit/wait.js';
import { waitAllUp } from '../helpers/convergence.js';
import { fmt, int } from './convergence-common.js';
import { loadMarkers, type DoneLine, type LoadedLine, type LoadRecords, type MembershipLoadSpec } from './membership-common.js';
import { checkCopies, checkSample, printReport, type BenchResult } from './membership-output.js';
import { ProcSampler } from './membership-sampler.js';
import { grow, nowMs, shrink, type StepResult } from './membership-steps.js';

const clientScript = join(repoRoot, 'test/bench/membership-load.ts');

const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    'value-bytes': { type: 'string', default: '1024' },
    rate: { type: 'string', default: '300' },
    'put-fraction': { type: 'string', default: '0.5' },
    'seconds-per-phase': { type: 'string', default: '30' },
    'load-concurrency': { type: 'string', default: '64' },
    'transfer-concurrency': { type: 'string' },
    'step-timeout': { type: 'string', default: '900' },
    timeline: { type: 'string', default: '5' },
    'cpu-prof': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(
    'usage: npm run bench:membership -- [--keys N] [--value-bytes B] [--rate REQ_PER_S] [--put-fraction F] [--seconds-per-phase S]\n' +
      '         [--load-concurrency C] [--transfer-concurrency N] [--step-timeout S] [--timeline S (0: none)] [--out FILE.json] [--cpu-prof DIR]',
  );
  process.exit(0);
}
const num = (name: string, raw: string, min: number, max = Infinity, integer = true): number => {
  const n = Number(raw);
  if ((integer && !Number.isInteger(n)) || !(n >= min && n <= max)) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${raw}`);
  return n;
};
const opts = {
  keys: num('keys', flags.keys, 1),
  valueBytes: num('value-bytes', flags['value-bytes'], 16),
  rate: num('rate', flags.rate, 1, 100_000, false),
  putFraction: num('put-fraction', flags['put-fraction'], 0, 1, false),
  secondsPerPhase: num('seconds-per-phase', flags['seconds-per-phase'], 1),
  loadConcurrency: num('load-concurrency', flags['load-concurrency'], 1),
  transferConcurrency: flags['transfer-concurrency'] === undefined ? undefined : num('transfer-concurrency', flags['transfer-concurrency'], 1, 64),
  stepTimeoutMs: num('step-timeout', flags['step-timeout'], 10) * 1000,
  timelineSeconds: num('timeline', flags.timeline, 0),
  /** Every node runs with --cpu-prof and writes its profile here when it exits. */
  cpuProfDir: flags['cpu-prof'],
  out: flags.out ?? join(os.tmpdir(), `kvorum-membership-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
};

// ---- children and cleanup -------------------------------------------------------------------

let cluster: TestCluster | undefined;
let client: Proc | undefined;
let tmpDir: string | undefined;

/** SIGTERM the client and every node by pid, SIGKILL what still runs after 5 s; remove the temp dirs. */
async function stopAll(): Promise<void> {
  client?.kill('SIGTERM');
  for (const node of cluster?.nodes ?? []) node.kill('SIGTERM');
  await client?.waitExit(5000).catch(() => client?.kill('SIGKILL'));
  await Promise.all((cluster?.nodes ?? []).map((n) => n.waitExit(5000).catch(() => undefined)));
  await cluster?.stop(); // SIGKILLs what is left of the nodes it started, removes their data dirs
  removeTmp();
}

function removeTmp(): void {
  if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

let cleaningUp: Promise<void> | undefined;
const cleanup = () => (cleaningUp ??= stopAll());
process.on('exit', removeTmp); // the kit's Proc SIGKILLs its live children on exit
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every child and removing the temp dirs`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---- the client -----------------------------------------------------------------------------

/** `promise`, or a rejection with `error()` if it has not settled after `ms` (the timer is cleared either way). */
async function bounded<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the client. `loaded` resolves once it has loaded every key; `stop()` ends the steady load (both bounded). */
function startClient(spec: MembershipLoadSpec, loadTimeoutMs: number): { proc: Proc; loaded: Promise<LoadedLine>; stop: () => Promise<DoneLine> } {
  let onLoaded: (l: LoadedLine) => void = () => undefined;
  let done: DoneLine | undefined;
  const loaded = new Promise<LoadedLine>((resolve) => (onLoaded = resolve));
  const proc = new Proc('client', ['--import', 'tsx', clientScript, JSON.stringify(spec)], {
    onLine: (line) => {
      if (line.startsWith(loadMarkers.loaded)) onLoaded(JSON.parse(line.slice(loadMarkers.loaded.length)) as LoadedLine);
      if (line.startsWith(loadMarkers.done)) done = JSON.parse(line.slice(loadMarkers.done.length)) as DoneLine;
    },
  });
  const failure = (why: string) => new Error(`client ${why}; its last output:\n  ${proc.logs().split('\n').slice(-20).join('\n  ') || '(none)'}`);
  const exitedEarly = proc.closed.then(({ code }) => Promise.reject(failure(`exited (code ${code}) before loading every key`)));
  const stop = async () => {
    proc.kill('SIGTERM');
    // It stops within the request timeout (10 s) plus writing the records.
    await bounded(proc.closed, 60_000, () => failure('did not stop within 60 s of SIGTERM'));
    if (done === undefined) throw failure('stopped without its result line');
    return done;
  };
  return { proc, loaded: bounded(Promise.race([loaded, exitedEarly]), loadTimeoutMs, () => failure(`did not load the keys within ${loadTimeoutMs / 1000} s`)), stop };
}

// ---- the run --------------------------------------------------------------------------------

/** Lets the steady load run for one window, and says what it is doing. */
async function window(name: string, seconds: number): Promise<{ name: string; fromMs: number; toMs: number }> {
  console.log(`  window "${name}": ${seconds} s`);
  const fromMs = nowMs();
  await sleep(seconds * 1000);
  return { name, fromMs, toMs: nowMs() };
}

function describeStep(s: StepResult): void {
  console.log(`    ${s.name} took ${fmt((s.endMs - s.startMs) / 1000, 1)} s:`);
  for (const m of s.marks) console.log(`      +${fmt((m.t - s.startMs) / 1000, 1).padStart(6)} s  ${m.label}`);
  const failures = Object.entries(s.transferFailures);
  // Logged at most once per partition and message every few seconds (the nodes' failure log), and from the last lines kept only.
  if (failures.length > 0) console.log(`    transfer failures logged (retried from the last page kept): ${failures.map(([m, n]) => `${n} x "${m}"`).join('; ')}`);
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log('kvorum membership bench');
  console.log(
    `  node ${process.version}, ${os.platform()}/${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `tmpdir ${os.tmpdir()}; load average now ${loadavg()}`,
  );
  console.log(
    `  ${int(opts.keys)} keys x ${opts.valueBytes} B; steady load ${opts.rate} req/s open loop (${Math.round(opts.putFraction * 100)}% PUT with the key's context, ` +
      `the rest GET; default r/w = quorum) over n1..n3; ${opts.secondsPerPhase} s windows; transfer limits: ` +
      `${opts.transferConcurrency === undefined ? 'node defaults (2 partitions at once, 32 MiB/s per receiving node)' : `--transfer-concurrency ${opts.transferConcurrency}, 32 MiB/s`}`,
  );
  tmpDir = mkdtempSync(join(os.tmpdir(), 'kvorum-mbench-'));
  const nodeArgs = ['--log-level', 'warn', ...(opts.transferConcurrency === undefined ? [] : ['--transfer-concurrency', String(opts.transferConcurrency)])];
  const nodeExecArgs = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir];
  // A generous health deadline: on a busy machine a node joining under load may need its join's retries.
  cluster = await startCluster({ nodes: 3, secret: randomBytes(16).toString('hex'), extraArgs: nodeArgs, nodeExecArgs, healthDeadlineMs: 120_000 });
  const c = cluster;
  await waitAllUp(c);
  console.log(`  cluster: ${c.nodes.map((n) => `${n.id}=${n.url}`).join(' ')} (data under ${join(c.nodes[0]!.dataDir, '..')})`);

  const pids = () => new Map([...c.nodes.flatMap((n) => (n.pid() === undefined ? [] : [[n.id, n.pid()!] as const])), ...(client?.pid === undefined ? [] : [['client', client.pid] as const])]);
  const sampler = new ProcSampler(pids, 500);
  try {
    return await run(c, sampler);
  } finally {
    sampler.stop();
  }
}

async function run(c: TestCluster, sampler: ProcSampler): Promise<void> {
  const recordsOut = join(tmpDir!, 'records.json');
  const spec: MembershipLoadSpec = {
    urls: c.nodes.map((n) => n.url), keys: opts.keys, valueBytes: opts.valueBytes, loadConcurrency: opts.loadConcurrency,
    rate: opts.rate, putFraction: opts.putFraction, seed: 0x5eed, maxSeconds: 7200, recordsOut,
  };
  const loadStartMs = nowMs();
  console.log(`  loading ${int(opts.keys)} keys (PUT, ${opts.loadConcurrency} in flight) ...`);
  const started = startClient(spec, 60_000 + opts.keys * 20);
  client = started.proc;
  const loaded = await started.loaded;
  const loadEndMs = nowMs();
  console.log(`    loaded in ${fmt(loaded.ms / 1000, 1)} s (${int(opts.keys / (loaded.ms / 1000))} keys/s); failed attempts: ${JSON.stringify(loaded.failures)}; steady load started`);
  const copiesLoaded = await checkCopies(c, opts.keys);
  console.log(`    replica copies: ${copiesLoaded}`);

  await sleep(2000); // the steady load's first requests open connections: leave them out
  const windows = [await window('before', opts.secondsPerPhase)];
  const stepOpts = { cluster: c, timeoutMs: opts.stepTimeoutMs, joinArgs: [] };
  console.log('  grow: start n4 and n5 with --join, plan, commit, wait until settled');
  const grown = await grow(stepOpts, ['n4', 'n5']);
  describeStep(grown);
  windows.push({ name: 'during grow', fromMs: grown.startMs, toMs: grown.endMs });
  const copiesGrown = await checkCopies(c, opts.keys);
  console.log(`    replica copies: ${copiesGrown}`);
  windows.push(await window('after grow', opts.secondsPerPhase));
  console.log('  shrink: leave n4 and n5, plan, commit, wait until they stopped and the ring settled');
  const shrunk = await shrink(stepOpts, ['n4', 'n5']);
  describeStep(shrunk);
  windows.push({ name: 'during shrink', fromMs: shrunk.startMs, toMs: shrunk.endMs });
  windows.push(await window('after shrink', opts.secondsPerPhase));

  const done = await started.stop();
  const records = JSON.parse(readFileSync(recordsOut, 'utf8')) as LoadRecords;
  const copiesShrunk = await checkCopies(c, opts.keys);
  const sample = await checkSample(c, opts.keys, opts.valueBytes, 300);
  const result: BenchResult = {
    opts, cpus: cpus(), load: { ...loaded, fromMs: loadStartMs, toMs: loadEndMs }, done, windows, steps: [grown, shrunk],
    checks: { copiesLoaded, copiesGrown, copiesShrunk, sample, loadAverageAtEnd: loadavg() }, logs: c.logs().split('\n').filter(Boolean).slice(-20),
  };
  printReport(result, records, sampler, opts.out);
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const cpus = () => `${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? 'unknown'}`;

try {
  await main();
} catch (err) {
  if (!interrupted) {
    console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    console.error(`--- recent node output ---\n${cluster?.logs().split('\n').slice(-60).join('\n') ?? '(none)'}\n---`);
  }
  process.exitCode = 1;
} finally {
  await cleanup();
}
