// The Jepsen-style runner: start a cluster behind link proxies, run a workload while the nemesis
// injects faults, heal, wait for convergence, read everything back, check, report.
//   npm run jepsen -- --nodes 5 --time 60 --workload set --nemesis kill,pause,partition --seed 7
// runJepsen() is the same run in-process (the tests call it).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkRun, type ChurnCopy, type Results } from './checkers/index.js';
import { ProcessCluster } from './cluster.js';
import { repoRoot } from '../test/kit/paths.js';
import { getJson } from '../test/kit/http.js';
import { sleep, within } from '../test/kit/wait.js';
import { clusterView } from './ring-watch.js';
import { finalReads, replicaCopies, tombstonesReaped, waitConvergence } from './converge.js';
import type { FaultWindow, FinalRead, MembershipEvent, MembershipSummary, Op, ReplicaVersion, RunInfo } from './history.js';
import { MembershipNemesis } from './membership.js';
import { openNetwork, type Network } from './network.js';
import { NetnsError } from './netns.js';
import { summary } from './summary.js';
import { describePlan, planFaults, ProcessNemesis, retarget, type PlannedFault } from './nemesis.js';
import { parseOptions, usage, UsageError, type RunOptions } from './options.js';
import type { NemesisKind } from './nemesis.js';
import { Prng } from './prng.js';
import { KvClient, Recorder, type NodeRef, type Workload } from './workloads/client.js';
import { registerWorkload } from './workloads/register.js';
import { setWorkload } from './workloads/set.js';
import { verdict, writeReportSafely } from './verdict.js';

export interface RunOutcome {
  readonly dir: string;
  readonly results: Results;
}

const convergenceDeadlineMs = 60_000;
/** A node's start (or restart) may take this long: on a loaded 2-core machine 20 s, and once 60 s, were seen to pass. */
const healthDeadlineMs = 120_000;
const finalReadDeadlineMs = 20_000;

/**
 * Node flags: fast background convergence so a short run settles in seconds; with membership
 * changes also fast ring gossip, which paces transfers (without them the ring never changes).
 */
function nodeArgs(o: RunOptions): string[] {
  const gossip = o.nemeses.includes('membership') ? ['--gossip-interval-ms', '200'] : [];
  return ['--partitions', String(o.partitions), '--anti-entropy-interval-ms', '200', '--handoff-interval-ms', '200', '--probe-interval-ms', '200', ...gossip,
    '--tombstone-grace-ms', String(o.tombstoneGraceMs), '--log-level', 'warn'];
}

export function defaultOptions(overrides: Partial<RunOptions> = {}): RunOptions {
  const base = parseOptions([]);
  if (base === 'help') throw new Error('unreachable');
  return { ...base, verbose: false, ...overrides };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

/** Waits (bounded, never failing) until every node's detector sees every node up. */
async function settle(nodes: readonly NodeRef[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      const views = await Promise.all(nodes.map((n) => getJson(`${n.url}/cluster`, 1000)));
      if (views.every((v) => (v.body as { members: { status: string }[] }).members.every((m) => m.status === 'up'))) return;
    } catch {
      // retry
    }
    await sleep(100);
  }
}

/** A run's directory, log and plan, decided before anything starts. */
interface Prepared {
  readonly dir: string;
  readonly log: (line: string) => void;
  readonly info: RunInfo;
  readonly prng: Prng;
  readonly plan: PlannedFault[];
}

export async function runJepsen(options: Partial<RunOptions> = {}): Promise<RunOutcome> {
  const o = defaultOptions(options);
  // --netns: the namespaces exist before the plan (which leaves out what the kernel cannot do), and outlive the nodes.
  const network = o.netns ? openNetwork(o.nodes, o.nemeses) : undefined;
  try {
    return await runPrepared(o, network);
  } finally {
    network?.netns.destroy();
  }
}

async function runPrepared(o: RunOptions, network: Network | undefined): Promise<RunOutcome> {
  const { dir, log, info, prng, plan } = prepare(o, network);
  const workload = workloadFor(o);
  const kv = new KvClient();
  let cluster: ProcessCluster | undefined;
  let recorded: Recorder | undefined; // for the post-mortem of a harness error
  try {
    cluster = await ProcessCluster.start({ nodes: o.nodes, n: o.n, logDir: join(dir, 'logs'), extraArgs: nodeArgs(o), healthDeadlineMs, ...(network ? { netns: network.netns } : {}) });
    const nodes: NodeRef[] = cluster.nodes.map((n) => ({ id: n.id, url: n.url }));
    await settle(nodes);
    log(`cluster up: ${nodes.map((n) => `${n.id}=${n.url}`).join(' ')}`);
    const history = new Recorder();
    recorded = history;
    const { faults, membership } = await runClients(o, { cluster, nodes, workload, kv, history, prng, plan, log });
    await cluster.healAll();
    const ring = membership ? await settleMembership(membership, log) : undefined;
    const finalNodes = ring ? await membersRunning(cluster) : nodes;
    const settled = await readBack(kv, finalNodes, workload, log);
    writeArtefacts(dir, history.ops, faults, settled, membership?.events);
    const results = checkRun({ info, history: history.ops, faults, ...settled, ...(ring ? { membership: ring } : {}) });
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
    await writeReportSafely(dir, { info, history: history.ops, faults, results, membershipEvents: membership?.events ?? [] }, log);
    log(verdict(info, history.ops, faults, results));
    log(summary(history.ops, faults, results, network));
    return { dir, results };
  } catch (err) {
    // A harness error: keep what was recorded, for the post-mortem.
    if (recorded) writeFileSync(join(dir, 'history.jsonl'), jsonLines(recorded.ops));
    log(`harness error: ${(err as Error).stack ?? String(err)}`);
    throw err;
  } finally {
    await kv.close().catch(() => undefined);
    await cluster?.stop();
  }
}

/** After healing: the membership nemesis finishes (a node killed for good is removed) and the ring settles, bounded. */
async function settleMembership(membership: MembershipNemesis, log: (line: string) => void): Promise<MembershipSummary> {
  const summary = await membership.finish();
  log(summary.settled
    ? `ring settled ${summary.settleMs} ms after healing: version ${summary.ringVersionEnd} (from ${summary.ringVersionStart}), members ${summary.finalMembers.join(' ')}`
    : `ring did NOT settle within ${summary.settleMs} ms after healing: ${summary.settleProblem}`);
  log(`membership: committed ${JSON.stringify(summary.committed)}, ${summary.gaveUp} given up, ${summary.refusals} refused calls retried; acknowledged writes that may be lost: ${summary.lossAllowed}`);
  return summary;
}

/** The running nodes that are members of the ring (any node's view; the ring has settled). */
async function membersRunning(cluster: ProcessCluster): Promise<NodeRef[]> {
  const running = cluster.running();
  for (const node of running) {
    const view = await clusterView(node);
    if (view) return running.filter((n) => view.members.some((m) => m.id === n.id)).map((n) => ({ id: n.id, url: n.url }));
  }
  return running.map((n) => ({ id: n.id, url: n.url }));
}

/** The fault plan a run of these options draws, over these kinds (its own fork of the seed). */
export function planOf(o: RunOptions, kinds: readonly NemesisKind[]): PlannedFault[] {
  const ids = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
  return planFaults(new Prng(o.seed).fork('nemesis'), { ids, kinds, maxDown: o.maxDown, faultMs: o.faultMs, quietMs: o.quietMs });
}

/** The run directory with run.json, the log, and the fault plan (drawn from its own fork of the seed). */
function prepare(o: RunOptions, network: Network | undefined): Prepared {
  const dir = resolve(o.out ?? join(repoRoot, 'jepsen-like', 'store', `${stamp()}-seed${o.seed}`));
  mkdirSync(dir, { recursive: true });
  const log = (line: string) => {
    appendFileSync(join(dir, 'runner.log'), `${new Date().toISOString()} ${line}\n`);
    if (o.verbose) process.stdout.write(`${line}\n`);
  };
  const info: RunInfo = {
    seed: o.seed, nodes: o.nodes, n: o.n, timeSec: o.timeSec, workload: o.workload, nemeses: o.nemeses,
    client: o.client, startedAt: new Date().toISOString(), ...(network ? { network: network.description } : {}),
  };
  const prng = new Prng(o.seed);
  const plan = planOf(o, network?.kinds ?? o.nemeses);
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ info, options: o, plannedFaults: describePlan(plan.slice(0, 30)) }, null, 2));
  if (network) log(network.description);
  log(`run ${dir}: ${o.nodes} nodes, ${o.workload} workload (${o.client} client), nemesis ${o.nemeses.join(',') || 'none'}, seed ${o.seed}`);
  return { dir, log, info, prng, plan };
}

function workloadFor(o: RunOptions): Workload {
  return o.workload === 'set'
    ? setWorkload({ keys: o.keys, client: o.client, churnKeys: o.churnKeys })
    : registerWorkload({ keys: o.keys, concurrency: o.concurrency });
}

interface Stage {
  readonly cluster: ProcessCluster;
  readonly nodes: readonly NodeRef[];
  readonly workload: Workload;
  readonly kv: KvClient;
  readonly history: Recorder;
  readonly prng: Prng;
  readonly plan: PlannedFault[];
  readonly log: (line: string) => void;
}

interface Nemeses {
  readonly faults: FaultWindow[];
  readonly membership: MembershipNemesis | undefined;
}

/** The clients and the nemeses for --time seconds (or until one breaks); returns the fault windows and the membership nemesis. */
async function runClients(o: RunOptions, s: Stage): Promise<Nemeses> {
  const { history } = s;
  const membership = o.nemeses.includes('membership')
    ? new MembershipNemesis({ cluster: s.cluster, prng: s.prng.fork('membership'), n: o.n, maxValid: o.nodes + 2, quietMs: o.membershipMs, now: () => history.now(), log: s.log })
    : undefined;
  const nemesis = new ProcessNemesis(s.cluster, s.plan, () => history.now(), s.log, membership ? retargeter(o, s) : undefined);
  let stopped = false;
  const clientErrors: Error[] = [];
  const nodes = () => membership?.clientNodes() ?? s.nodes;
  const clients = Array.from({ length: o.concurrency }, (_, p) =>
    s.workload.runProcess({ process: p, prng: s.prng.fork(`client-${p}`), nodes, kv: s.kv, history, stopped: () => stopped })
      .catch((err: unknown) => void clientErrors.push(err as Error)));
  await membership?.start();
  nemesis.start();
  const broken = () => nemesis.error !== undefined || membership?.error !== undefined || clientErrors.length > 0;
  await waitRunTime(o, history, broken, () => [nemesis.current(), membership ? `membership ${membership.current()}` : ''].filter(Boolean).join(' | '));
  stopped = true;
  // Each operation is bounded by the client deadline; this bound is only against a harness bug.
  await within(Promise.all(clients), 15_000);
  await nemesis.stop();
  await membership?.stop();
  if (clientErrors.length > 0) throw new Error(`client process failed: ${clientErrors[0]!.stack ?? clientErrors[0]!.message}`);
  s.log(`workload done at ${(history.now() / 1000).toFixed(1)}s: ${JSON.stringify(history.counts)}; healing`);
  return { faults: nemesis.windows, membership };
}

/** Waits --time seconds (or until `broken`), printing the progress line. */
async function waitRunTime(o: RunOptions, history: Recorder, broken: () => boolean, fault: () => string): Promise<void> {
  const totalMs = o.timeSec * 1000;
  const tty = o.verbose && process.stdout.isTTY;
  while (history.now() < totalMs && !broken()) {
    await sleep(Math.min(1000, Math.max(1, totalMs - history.now())));
    const line = progressLine(history, o.timeSec, fault());
    if (tty) process.stdout.write(`\r${line.padEnd(110)}`);
    else if (o.verbose) process.stdout.write(`${line}\n`);
  }
  if (tty) process.stdout.write('\n');
}

/**
 * With membership, each planned fault is drawn again over the nodes up (and done starting) when it
 * starts; a wipe only over first nodes: a joined one would join again.
 */
function retargeter(o: RunOptions, s: Stage): (fault: PlannedFault, index: number) => PlannedFault | undefined {
  return (fault, index) => {
    const up = s.cluster.ready();
    const ids = up.map((n) => n.id);
    const wipeable = up.filter((n) => n.joinUrl === undefined).map((n) => n.id);
    return retarget(fault, s.prng.fork(`retarget-${index}`), ids, wipeable, o.maxDown);
  };
}

function progressLine(history: Recorder, timeSec: number, fault: string): string {
  const c = history.counts;
  return `[${(history.now() / 1000).toFixed(0).padStart(4)}/${timeSec}s] ok ${c.ok} info ${c.info} fail ${c.fail} | fault: ${fault}`;
}

/** What is read back after healing, for the checkers. */
interface ReadBack {
  readonly finalReads: FinalRead[];
  readonly replicaVersions: ReplicaVersion[];
  readonly convergenceMs: number | null;
  readonly churnCopies: ChurnCopy[];
  readonly tombstonesReaped: number;
}

/** Waits (bounded) for convergence, then reads every key through every node and the churn keys' copies. */
async function readBack(kv: KvClient, nodes: readonly NodeRef[], workload: Workload, log: (line: string) => void): Promise<ReadBack> {
  const convergence = await waitConvergence(nodes, [...workload.keys, ...workload.churnKeys], convergenceDeadlineMs);
  log(convergence.convergenceMs === null
    ? `did NOT converge within ${convergenceDeadlineMs} ms: ${convergence.lastProblem}`
    : `converged in ${convergence.convergenceMs} ms after healing${convergence.lastProblem ? ` (the last poll before: ${convergence.lastProblem})` : ''}`);
  const reads = await finalReads(kv, nodes, workload, finalReadDeadlineMs);
  const churnCopies = await replicaCopies(nodes, workload.churnKeys);
  const reaped = workload.churnKeys.length > 0 ? await tombstonesReaped(nodes) : 0;
  return { finalReads: reads, replicaVersions: convergence.versions, convergenceMs: convergence.convergenceMs, churnCopies, tombstonesReaped: reaped };
}

/** What the checkers will judge, written first so that a checker crash leaves it for the post-mortem. */
function writeArtefacts(dir: string, ops: readonly Op[], faults: readonly FaultWindow[], b: ReadBack, membership: readonly MembershipEvent[] | undefined): void {
  if (membership) writeFileSync(join(dir, 'membership.jsonl'), membership.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(join(dir, 'history.jsonl'), jsonLines(ops));
  writeFileSync(join(dir, 'faults.json'), JSON.stringify(faults, null, 2));
  writeFileSync(join(dir, 'final-reads.json'), JSON.stringify(b.finalReads, null, 2));
  writeFileSync(join(dir, 'replica-versions.json'), JSON.stringify(b.replicaVersions, null, 2));
  writeFileSync(join(dir, 'churn-copies.json'), JSON.stringify(b.churnCopies, null, 2));
}

const jsonLines = (ops: readonly Op[]) => ops.map((op) => JSON.stringify(op)).join('\n') + '\n';

async function main(): Promise<number> {
  let options: RunOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${usage}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const { dir, results } = await runJepsen(options);
  process.stdout.write(`\nrun directory: ${dir}\n`);
  return results.valid ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // A harness error (or an uncaught one) is exit code 2; runJepsen's finally stopped the nodes, and
  // cluster.ts kills any left on exit.
  process.on('uncaughtException', (err) => {
    process.stderr.write(`harness error: ${err.stack ?? err.message}\n`);
    process.exit(2);
  });
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      // --netns that cannot run here (not root, no `ip`, names taken): the reason, no stack.
      process.stderr.write(err instanceof NetnsError ? `${err.message}\n` : `harness error: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(2);
    },
  );
}
