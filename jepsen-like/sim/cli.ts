// npm run sim -- --seed S            one seed: prints the run, and on failure the check, the seed
//                                     and the end of the history
// npm run sim -- --seeds N [--from F] sweeps seeds F..F+N-1 on every core, reports failures
// Exit codes: 0 ok, 1 safety failure, 2 liveness failure, 3 simulator crash.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { mutationFromEnv, mutationNames, parseMutation } from './mutations.js';
import type { SimVerdict } from './judge.js';
import { runSim, type SimReport } from './run.js';
import { membershipModes, membershipShare, type MembershipMode } from './scenario.js';
import { sweep, type SeedSummary } from './sweep.js';

const help = `kvorum deterministic simulator (jepsen-like/sim)

  npm run sim -- --seed S              run one seed
  npm run sim -- --seeds N [--from F]  sweep N seeds starting at F (default 1)

  --ops N        operations per run at most (default 3000)
  --time SEC     simulated length of the safety phase (default 120)
  --jobs J       child processes for a sweep (default: cores)
  --mutation M   break kvorum on purpose: ${mutationNames.join(', ')} (or KVORUM_SIM_MUTATION)
  --membership auto|always|never  which seeds change membership (default auto: ${membershipShare * 100}% of them)
  --ignore-check C[,C]  count these invariant violations instead of failing (to explore past a
                 known bug; never use it to make a sweep pass)
  --json         print the report(s) as JSON

Exit codes: 0 ok, 1 safety failure, 2 liveness failure, 3 simulator crash.`;

const exitCodes: Record<SimVerdict, number> = { ok: 0, safety: 1, liveness: 2, crash: 3 };

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function printRun(r: SimReport | SeedSummary): void {
  const opsPerSec = Math.round(r.ops.invoked / (r.wallMs / 1000));
  console.log(`seed ${r.seed}${r.mutation ? ` (mutation ${r.mutation})` : ''}: ${r.verdict.toUpperCase()}`);
  console.log(`  scenario: ${r.scenario}`);
  console.log(
    `  ${r.ops.invoked} ops (${r.ops.ok} ok, ${r.ops.fail} fail, ${r.ops.info} info), ${r.events} events, ` +
      `${secs(r.simMs)} simulated in ${secs(r.wallMs)} wall: ${opsPerSec} simulated ops/s`,
  );
  for (const e of r.membership) console.log(`  membership ${secs(e.atMs)}: ${e.what}`);
  if (r.finalMembers !== undefined && r.membership.length > 0) console.log(`  final ring: ${r.finalMembers}`);
  console.log(`  converged ${r.convergenceMs === null ? 'never' : `${r.convergenceMs} ms after healing`}`);
  console.log(`  history sha256 ${r.hash}`);
  const ignored = Object.entries(r.ignored);
  if (ignored.length > 0) console.log(`  IGNORED invariant violations: ${ignored.map(([c, n]) => `${c} x${n}`).join(', ')}`);
  if (r.failure) {
    console.log(`\nFAILED check "${r.failure.check}" (seed ${r.seed}):\n  ${r.failure.message.split('\n').join('\n  ')}`);
    if ('faults' in r) {
      const at = r.focusMs ?? r.simMs;
      const near = r.faults.filter((f) => f.startMs <= at + 2000 && (f.endMs ?? Infinity) >= at - 10_000);
      console.log(`\nfault windows near ${at} ms:${near.length === 0 ? ' none' : ''}`);
      for (const f of near) console.log(`  ${f.startMs}..${f.endMs ?? 'end'} ms  ${f.description}`);
    }
    console.log('\nhistory tail:');
    for (const line of r.historyTail) console.log(`  ${line}`);
    console.log(`\nreproduce: npm run sim -- --seed ${r.seed}${r.mutation ? ` --mutation ${r.mutation}` : ''}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      seeds: { type: 'string' },
      from: { type: 'string', default: '1' },
      jobs: { type: 'string' },
      ops: { type: 'string', default: '3000' },
      time: { type: 'string', default: '120' },
      mutation: { type: 'string' },
      membership: { type: 'string', default: 'auto' },
      'ignore-check': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || (values.seed === undefined && values.seeds === undefined)) {
    console.log(help);
    return values.help ? 0 : 3;
  }
  const int = (raw: string, name: string) => {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
    return n;
  };
  const options = {
    opsMax: int(values.ops, 'ops'),
    safetyMs: int(values.time, 'time') * 1000,
    mutation: values.mutation !== undefined ? parseMutation(values.mutation) : mutationFromEnv(),
    ignoreChecks: values['ignore-check']?.split(',').filter((c) => c !== '') ?? [],
    membership: parseMembershipMode(values.membership),
  };

  if (values.seed !== undefined) {
    const report = await runSim({ ...options, seed: int(values.seed, 'seed') });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else printRun(report);
    return exitCodes[report.verdict];
  }

  const from = int(values.from, 'from');
  const count = int(values.seeds!, 'seeds');
  const jobs = values.jobs !== undefined ? int(values.jobs, 'jobs') : availableParallelism();
  const seeds = Array.from({ length: count }, (_, i) => from + i);
  console.log(`sweeping seeds ${from}..${from + count - 1} with ${jobs} jobs${options.mutation ? `, mutation ${options.mutation}` : ''}`);
  const started = performance.now();
  let done = 0;
  const results = await sweep(seeds, jobs, options, (s) => {
    done++;
    if (s.verdict !== 'ok') console.log(`  seed ${s.seed}: ${s.verdict.toUpperCase()} ${s.failure?.check}: ${s.failure?.message.split('\n')[0]?.slice(0, 200)}`);
    else if (done % 50 === 0) console.log(`  ${done}/${count} seeds`);
  });
  const wallMs = performance.now() - started;
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return summarize(results, wallMs, jobs);
}

/** The sweep's totals and failures by verdict; the exit code of the worst. */
function summarize(results: readonly SeedSummary[], wallMs: number, jobs: number): number {
  const ops = results.reduce((n, r) => n + r.ops.invoked, 0);
  const failed = results.filter((r) => r.verdict !== 'ok');
  const conv = results.filter((r) => r.convergenceMs !== null).map((r) => r.convergenceMs!);
  console.log(
    `\n${results.length} seeds in ${secs(wallMs)}: ${ops} operations, ${Math.round(ops / (wallMs / 1000))} simulated ops/s ` +
      `(${jobs} jobs); convergence median ${median(conv)} ms, max ${Math.max(0, ...conv)} ms`,
  );
  for (const verdict of ['safety', 'liveness', 'crash'] as const) {
    const seedsFailed = failed.filter((r) => r.verdict === verdict);
    if (seedsFailed.length > 0) console.log(`${verdict} failures (${seedsFailed.length}): seeds ${seedsFailed.map((r) => r.seed).join(' ')}`);
  }
  const changed = results.filter((r) => r.membership.length > 0);
  if (changed.length > 0) console.log(`membership changed in ${changed.length} seeds: ${changed.map((r) => r.seed).join(' ')}`);
  if (failed.length === 0) console.log('no failures');
  const ignoredSeeds = results.filter((r) => Object.keys(r.ignored).length > 0);
  if (ignoredSeeds.length > 0) console.log(`ignored invariant violations in ${ignoredSeeds.length} seeds: ${ignoredSeeds.map((r) => r.seed).join(' ')}`);
  for (const verdict of ['safety', 'liveness', 'crash'] as const) if (failed.some((r) => r.verdict === verdict)) return exitCodes[verdict];
  return 0;
}

function parseMembershipMode(raw: string): MembershipMode {
  if ((membershipModes as readonly string[]).includes(raw)) return raw as MembershipMode;
  throw new Error(`--membership must be one of ${membershipModes.join(', ')}, got "${raw}"`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

// `npm run sim ... | head` closes stdout early: that is not a simulator crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 3;
  },
);
