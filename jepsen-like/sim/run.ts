// One simulated run: build the world from the seed, run the safety phase (workload + faults),
// heal and stop the workload, wait (bounded) for every replica to converge, read everything back
// with r=all through every node, then judge the run with the jepsen-like checkers and the
// simulator's own invariants. Deterministic: the same seed and options give the same history.
import { createHash } from 'node:crypto';
import { resolveQuorum } from '../../src/core/quorum.js';
import { checkRun, type ChurnCopy, type Results } from '../checkers/index.js';
import type { FaultWindow, FinalRead, Op, ReplicaVersion, RunInfo } from '../history.js';
import { SimCluster } from './cluster.js';
import { SimNemesis } from './faults.js';
import { Invariants } from './invariants.js';
import { judgeError, judgeResults, shortHistory, type Judgement } from './judge.js';
import type { Mutation } from './mutations.js';
import { SimMembership, type MembershipEvent } from './membership.js';
import { SimPrng } from './prng.js';
import { churnCopiesOf, replicasDisagree, replicaVersionsOf } from './replicas.js';
import { membersText, settledRing } from './rings.js';
import { chooseScenario, describeScenario, withMembership, type MembershipMode, type Scenario, type ScenarioOptions } from './scenario.js';
import { SetWorkload } from './workload.js';
import { SimFailure, simEpochMs, World } from './world.js';

export interface SimOptions extends Partial<ScenarioOptions> {
  readonly seed: number;
  readonly mutation?: Mutation | undefined;
  /** How long after healing the replicas may take to converge, simulated ms. */
  readonly livenessBoundMs?: number;
  /** Invariants to count instead of failing on (exploring past a known bug); never by default. */
  readonly ignoreChecks?: readonly string[];
  /** Which seeds change membership (default auto: a share of them). */
  readonly membership?: MembershipMode;
}

export interface SimReport {
  readonly seed: number;
  readonly verdict: Judgement['verdict'];
  readonly failure?: { readonly check: string; readonly message: string };
  readonly scenario: string;
  readonly mutation: Mutation | undefined;
  readonly ops: { invoked: number; ok: number; fail: number; info: number };
  readonly events: number;
  readonly simMs: number;
  readonly wallMs: number;
  readonly convergenceMs: number | null;
  /** SHA-256 of the history, fault windows, final reads and replica versions as JSON lines. */
  readonly hash: string;
  readonly historyTail: readonly string[];
  readonly faults: readonly FaultWindow[];
  readonly counters: Readonly<Record<string, number>>;
  readonly reasons: readonly string[];
  /** Simulated time the failure is about (a lost add's ack, or when a check failed). */
  readonly focusMs: number | undefined;
  /** Violations of ignored invariants, by check. */
  readonly ignored: Readonly<Record<string, number>>;
  /** What the membership driver did, in order (empty without membership). */
  readonly membership: readonly MembershipEvent[];
  /** The final ring's members and their status, once it settled. */
  readonly finalMembers: string | undefined;
}

const invariantIntervalMs = 1000;
const convergencePollMs = 100;
/** How long after healing a seed that changed membership may take to settle and converge (transfers, a last commit). */
const membershipLivenessBoundMs = 120_000;

/** Everything a run is made of, built from the seed before it starts. */
interface SimRun {
  readonly opts: SimOptions;
  readonly world: World;
  readonly scenario: Scenario;
  readonly cluster: SimCluster;
  /** Set keys and churn keys: what convergence and the invariants look at. */
  readonly keys: readonly string[];
  readonly invariants: Invariants;
  readonly workload: SetWorkload;
  readonly nemesis: SimNemesis;
  readonly membership: SimMembership;
}

/** What the run found; filled in as it goes, so a run stopped half-way still reports what it had. */
interface Findings {
  finalReads: FinalRead[];
  replicaVersions: ReplicaVersion[];
  convergenceMs: number | null;
  /** What kept the replicas from agreeing at the last poll (the ring not settled, a key's copies). */
  disagreement: string | undefined;
  finalMembers: string | undefined;
  results: Results | undefined;
  judgement: Judgement;
}

export async function runSim(opts: SimOptions): Promise<SimReport> {
  const started = performance.now();
  const run = setUp(opts);
  const found: Findings = {
    finalReads: [], replicaVersions: [], convergenceMs: null, disagreement: undefined, finalMembers: undefined, results: undefined, judgement: { verdict: 'ok' },
  };
  const { world } = run;
  // A rejection nobody handles would make a real node exit: a finding, not noise.
  const onUnhandled = (reason: unknown) =>
    world.fail(new SimFailure('safety', 'unhandled-rejection', `unhandled rejection (a real node would exit): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  process.on('unhandledRejection', onUnhandled);
  try {
    await safetyPhase(run);
    await livenessPhase(run, found);
    // Only once converged: before that a lagging replica may rightly still hold a superseded version.
    const churnCopies = found.convergenceMs === null ? [] : await churnCopiesOf(run.cluster, run.scenario.workload.churnKeys);
    found.results = check(run, found, churnCopies);
    found.judgement = judgeResults(found.results, found.finalReads.length, found.convergenceMs, found.disagreement);
  } catch (err) {
    found.judgement = judgeError(err, world.now);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return reportOf(run, found, performance.now() - started);
}

function setUp(opts: SimOptions): SimRun {
  const world = new World(opts.seed);
  const membershipPrng = new SimPrng(world.prng.fork('membership').seed);
  const base = chooseScenario(world.prng, { opsMax: opts.opsMax ?? 3000, safetyMs: opts.safetyMs ?? 120_000 });
  const scenario = withMembership(base, membershipPrng, opts.membership ?? 'auto');
  const cluster = new SimCluster(world, scenario.cluster, opts.mutation);
  const keys = [...scenario.workload.keys, ...scenario.workload.churnKeys];
  const invariants = new Invariants(cluster, keys, scenario.cluster.settings.hintsPerPeerMax, () => world.now, new Set(opts.ignoreChecks ?? []), (err) => world.fail(err));
  const w = resolveQuorum('quorum', scenario.cluster.n, scenario.cluster.nodes);
  const workload = new SetWorkload(world, cluster, scenario.workload, async (a) => {
    invariants.expiryAcked(a.key, a.dot, a.expiresAtMs);
    await invariants.durability.acknowledged(a.key, a.dot, w, a.invokedAtMs, !a.churn);
  });
  const nemesis = new SimNemesis(world, cluster, scenario.faults);
  const membership = new SimMembership(world, cluster, scenario.membership, membershipPrng);
  return { opts, world, scenario, cluster, keys, invariants, workload, nemesis, membership };
}

/** Nodes up, invariants watched, clients and nemesis at work until the operations or the time run out. */
async function safetyPhase({ world, scenario, cluster, invariants, workload, nemesis, membership }: SimRun): Promise<void> {
  for (const node of cluster.activeNodes()) cluster.start(node);
  every(world, invariantIntervalMs, () => invariants.check());
  workload.start();
  nemesis.start();
  membership.start();
  await world.run(scenario.safetyMs, () => workload.done);
}

/** Heal everything, let the clients finish, wait (bounded) for one settled ring and agreement, read everything back. */
async function livenessPhase(run: SimRun, found: Findings): Promise<void> {
  const { world, cluster, keys, workload } = run;
  workload.stop();
  run.nemesis.healAll();
  run.membership.healed();
  const healedAt = world.now;
  await world.run(healedAt + run.scenario.workload.clientTimeoutMs * 3, () => workload.running === 0);
  // The versions are taken at the instant agreement is seen: background work goes on afterwards
  // (a tombstone being reaped is briefly gone on some replicas and not yet on others).
  every(world, convergencePollMs, async () => {
    if (found.convergenceMs !== null) return;
    const settled = run.membership.idle ? settledRing(cluster) : { problem: 'membership changes still under way' };
    found.disagreement = 'problem' in settled ? `ring not settled: ${settled.problem}` : await replicasDisagree(cluster, keys, settled.ring);
    if (found.disagreement !== undefined || 'problem' in settled) return;
    found.convergenceMs = world.now - healedAt;
    found.finalMembers = membersText(settled.state);
    found.replicaVersions = await replicaVersionsOf(cluster, keys);
  });
  const boundMs = run.opts.livenessBoundMs ?? (run.scenario.membership ? membershipLivenessBoundMs : 60_000);
  await world.run(healedAt + boundMs, () => found.convergenceMs !== null);
  if (found.convergenceMs === null && found.disagreement?.startsWith('ring not settled')) {
    throw new SimFailure('liveness', 'membership-settled', `${boundMs / 1000} s after healing, ${found.disagreement}`);
  }
  found.finalReads = (await runUntil(world, workload.finalReads(), 20_000)) ?? [];
  if (found.convergenceMs === null) found.replicaVersions = await replicaVersionsOf(cluster, keys);
  await run.invariants.check();
}

/** The jepsen-like checkers over what the run recorded. */
function check({ opts, scenario, cluster, workload, nemesis }: SimRun, found: Findings, churnCopies: ChurnCopy[]): Results {
  const info: RunInfo = {
    seed: opts.seed,
    nodes: scenario.cluster.nodes,
    n: scenario.cluster.n,
    timeSec: Math.round(scenario.safetyMs / 1000),
    workload: 'set',
    nemeses: scenario.faults.kinds,
    client: 'safe',
    startedAt: new Date(simEpochMs).toISOString(),
  };
  return checkRun({
    info, history: workload.history, faults: nemesis.windows, finalReads: found.finalReads, replicaVersions: found.replicaVersions,
    convergenceMs: found.convergenceMs, churnCopies, tombstonesReaped: cluster.counters.get('tombstones_reaped') ?? 0,
  });
}

/** Runs `body` every `ms` simulated ms. For observers, not actors: they read disks and never draw from the PRNG. */
function every(world: World, ms: number, body: () => Promise<void>): void {
  const tick = () => void body().then(() => world.schedule(ms, tick), (err: Error) => world.fail(err));
  world.schedule(ms, tick);
}

/** Runs the world until `promise` settles (or `limitMs` more simulated ms pass). */
async function runUntil<T>(world: World, promise: Promise<T>, limitMs: number): Promise<T | undefined> {
  let value: T | undefined;
  let settled = false;
  promise.then((v) => ((value = v), (settled = true)), (err: Error) => world.fail(err));
  await world.run(world.now + limitMs, () => settled);
  return value;
}

function reportOf({ opts, world, scenario, cluster, invariants, workload, nemesis, membership }: SimRun, found: Findings, wallMs: number): SimReport {
  const { verdict, failure, focusMs, focusKey } = found.judgement;
  const history = workload.history;
  const lines = [...history, ...nemesis.windows, ...found.finalReads, ...found.replicaVersions, ...membership.events].map((x) => JSON.stringify(x));
  const count = (t: Op['type']) => history.filter((o) => o.type === t).length;
  return {
    seed: opts.seed,
    verdict,
    ...(failure ? { failure } : {}),
    scenario: describeScenario(scenario),
    mutation: opts.mutation,
    ops: { invoked: count('invoke'), ok: count('ok'), fail: count('fail'), info: count('info') },
    events: world.fired,
    simMs: world.now,
    wallMs,
    convergenceMs: found.convergenceMs,
    hash: createHash('sha256').update(lines.join('\n')).digest('hex'),
    historyTail: shortHistory(history, focusKey, focusMs).map((o) => JSON.stringify(o)),
    faults: nemesis.windows,
    counters: Object.fromEntries([...cluster.counters, ...workload.counts]),
    reasons: found.results?.reasons ?? [],
    focusMs,
    ignored: Object.fromEntries(invariants.ignored),
    membership: membership.events,
    finalMembers: found.finalMembers,
  };
}
