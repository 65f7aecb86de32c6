// Runs the fuzzer against a real 3-node cluster: canaries first, then a few workers sending
// generated cases until the time budget is spent (or, for a replay, exactly the cases named),
// a crash monitor restarting nodes that die, and the final checks. Returns what it saw.
import { startCluster, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { makeCanaries, writeCanaries } from './canaries.js';
import { CrashMonitor } from './crash-monitor.js';
import { finalChecks } from './final-checks.js';
import { Findings, Stats, type Finding } from './findings.js';
import { generate, type GeneratorConfig } from './generator.js';
import { Journal } from './journal.js';
import { sendCase, type SendContext } from './send-case.js';
import { ownRequestOptions, type FuzzSecurity } from './secure.js';
import type { CaseId } from './types.js';

export const fuzzSecret = 'fuzz-secret';
export const fuzzNodes = 3;
export const valueBytesMax = 1024 * 1024;
export const workersDefault = 4;
export const requestDeadlineMsDefault = 10_000;
/** Time kept at the end of the budget for the final checks (stop, restart, canaries). */
const finalReserveMs = 7000;
/** The fuzzing itself gets at least this long, whatever the budget. */
const fuzzPhaseMinMs = 3000;
/** How long the crash monitor keeps watching after the last answer. */
const crashObservationMs = 1000;
/** Node crashes the run restarts from before it stops fuzzing (the time budget bounds it too). */
const maxRestarts = 20;

/** Small grace and anti-entropy intervals, so that reaping and repair also run under fuzzing. */
export const fuzzNodeArgs = ['--tombstone-grace-ms', '2000', '--anti-entropy-interval-ms', '500'] as const;

/** The fuzzed cluster; `nodeExecArgs` are Node's own flags for each node (the planted-bug test uses them). */
export function startFuzzCluster(nodeExecArgs: readonly string[] = [], security?: FuzzSecurity): Promise<TestCluster> {
  const extraArgs = [...fuzzNodeArgs, ...(security?.args ?? [])];
  return startCluster({ nodes: fuzzNodes, secret: fuzzSecret, extraArgs, nodeExecArgs, ...(security ? { https: { ca: security.ca } } : {}) });
}

export interface FuzzOptions {
  readonly seed: number;
  /** The whole run's budget (cluster start included when `startedAt` is given). */
  readonly seconds: number;
  /** When the budget started (default: now). */
  readonly startedAt?: number;
  readonly workers?: number;
  readonly requestDeadlineMs?: number;
  /** Send exactly these cases, one after the other, instead of fuzzing for a time. */
  readonly replay?: readonly { readonly worker: number; readonly index: number }[];
  readonly log?: (line: string) => void;
  /** The cluster was started with these TLS files and tokens (startFuzzCluster). */
  readonly security?: FuzzSecurity;
}

export interface FuzzReport {
  readonly seed: number;
  readonly elapsedMs: number;
  readonly workers: number;
  readonly stats: Stats;
  readonly findings: readonly Finding[];
  readonly findingsTotal: number;
  readonly restarts: number;
  readonly stoppedEarly: boolean;
}

export async function runFuzz(cluster: TestCluster, opts: FuzzOptions): Promise<FuzzReport> {
  const startedAt = opts.startedAt ?? Date.now();
  const log = opts.log ?? (() => undefined);
  const workers = opts.workers ?? workersDefault;
  const security = opts.security;
  const config: GeneratorConfig = { nodes: cluster.nodes.length, valueBytesMax, secret: fuzzSecret, ...(security ? { tokens: security.tokens } : {}) };
  const own = ownRequestOptions(security);
  const findings = new Findings();
  const stats = new Stats();
  const journal = new Journal();

  const canaries = makeCanaries(opts.seed);
  await writeCanaries(cluster.nodes, canaries, own);
  log(`${canaries.length} canaries written`);

  const monitor = new CrashMonitor(cluster.nodes, findings, journal, maxRestarts);
  const ctx: SendContext = {
    nodes: cluster.nodes.map((node, i) => ({ id: node.id, port: node.port, running: () => monitor.available(i), deaths: () => monitor.deaths(i) })),
    deadlineMs: opts.requestDeadlineMs ?? requestDeadlineMsDefault,
    findings,
    stats,
    journal,
    ...(security ? { tls: security.tls, authorization: security.authorization } : {}),
  };
  const fuzzEnd = Math.max(startedAt + opts.seconds * 1000 - finalReserveMs, Date.now() + fuzzPhaseMinMs);
  let stoppedEarly = false;
  const goOn = () => {
    if (monitor.exhausted && cluster.nodes.some((n) => !n.running())) stoppedEarly = true;
    return !stoppedEarly && Date.now() < fuzzEnd;
  };
  const send = (id: CaseId) => sendCase(ctx, generate(id.seed, id.worker, id.index, config), id);

  monitor.start();
  try {
    if (opts.replay) {
      for (const { worker, index } of opts.replay) await send({ seed: opts.seed, worker, index });
    } else {
      log(`fuzzing with ${workers} workers for ${((fuzzEnd - Date.now()) / 1000).toFixed(1)} s`);
      const someNodeRuns = () => cluster.nodes.some((_, i) => monitor.available(i));
      await Promise.all(
        Array.from({ length: workers }, async (_, worker) => {
          for (let index = 0; goOn(); index++) {
            // Every node down at once (crashes being restarted): wait rather than spin through cases.
            if (!someNodeRuns()) {
              await waitFor(() => someNodeRuns() || !goOn(), { timeoutMs: Math.max(1, fuzzEnd - Date.now()), intervalMs: 100, what: 'a node to run' }).catch(() => undefined);
              if (!someNodeRuns()) break;
            }
            await send({ seed: opts.seed, worker, index });
          }
        }),
      );
    }
  } finally {
    await monitor.stop(crashObservationMs);
  }
  log(`sent ${stats.totalCases()} cases (${stats.totalRequests()} requests)`);
  await finalChecks(cluster, canaries, findings, log, own);
  return {
    seed: opts.seed,
    elapsedMs: Date.now() - startedAt,
    workers: opts.replay ? 1 : workers,
    stats,
    findings: findings.list(),
    findingsTotal: findings.total,
    restarts: monitor.restarts,
    stoppedEarly,
  };
}
