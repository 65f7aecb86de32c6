// One simulated run: build the world from the seed, run the safety phase (workload + faults),
// heal and stop the workload, wait (bounded) for every replica to converge, read everything back
// with r=all through every node, then judge the run with the jepsen-like checkers and the
// simulator's own invariants. Deterministic: the same seed and options give the same history.
import { createHash } from 'node:crypto';
import { sameVersion } from '../../src/core/dvv.js';
import { objectDigest } from '../../src/core/merkle.js';
import { resolveQuorum } from '../../src/core/quorum.js';
import { preferenceListForKey } from '../../src/core/ring.js';
import { formatDot } from '../../src/api/views.js';
import type { VersionedObject } from '../../src/core/types.js';
import { checkRun, type ChurnCopy, type Results } from '../checkers/index.js';
import type { FaultWindow, FinalRead, Op, ReplicaVersion, RunInfo } from '../history.js';
import { SimCluster } from './cluster.js';
import { SimNemesis } from './faults.js';
import { Invariants } from './invariants.js';
import type { Mutation } from './mutations.js';
import { chooseScenario, describeScenario, type ScenarioOptions } from './scenario.js';
import { SetWorkload } from './workload.js';
import { SimFailure, simEpochMs, World } from './world.js';

export interface SimOptions extends Partial<ScenarioOptions> {
  readonly seed: number;
  readonly mutation?: Mutation | undefined;
  /** How long after healing the replicas may take to converge, simulated ms. */
  readonly livenessBoundMs?: number;
  /** Invariants to count instead of failing on (exploring past a known bug); never by default. */
  readonly ignoreChecks?: readonly string[];
}

export type SimVerdict = 'ok' | 'safety' | 'liveness' | 'crash';

export interface SimReport {
  readonly seed: number;
  readonly verdict: SimVerdict;
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
}

const invariantIntervalMs = 1000;
const convergencePollMs = 100;

export async function runSim(opts: SimOptions): Promise<SimReport> {
  const started = performance.now();
  const world = new World(opts.seed);
  const scenario = chooseScenario(world.prng, { opsMax: opts.opsMax ?? 3000, safetyMs: opts.safetyMs ?? 120_000 });
  const cluster = new SimCluster(world, scenario.cluster, opts.mutation);
  const keys = [...scenario.workload.keys, ...scenario.workload.churnKeys];
  const invariants = new Invariants(cluster, keys, scenario.cluster.settings.hintsPerPeerMax, () => world.now, new Set(opts.ignoreChecks ?? []));
  const w = resolveQuorum('quorum', scenario.cluster.n, scenario.cluster.nodes);
  const workload = new SetWorkload(world, cluster, scenario.workload, (key, dot, sinceMs) => invariants.durability.acknowledged(key, dot, w, sinceMs));
  const nemesis = new SimNemesis(world, cluster, scenario.faults);
  let finalReads: FinalRead[] = [];
  let replicaVersions: ReplicaVersion[] = [];
  let convergenceMs: number | null = null;
  let results: Results | undefined;
  let verdict: SimVerdict = 'ok';
  let failure: SimReport['failure'];
  let focusMs: number | undefined;
  let focusKey: string | undefined;

  // Observers, not actors: they read disks and never draw from the PRNG.
  const every = (ms: number, body: () => Promise<void>) => {
    const tick = () => void body().then(() => world.schedule(ms, tick), (err: Error) => world.fail(err));
    world.schedule(ms, tick);
  };
  /** Runs the world until `promise` settles (or `limitMs` more simulated ms pass). */
  const await_ = async <T>(promise: Promise<T>, limitMs: number): Promise<T | undefined> => {
    let value: T | undefined;
    let settled = false;
    promise.then((v) => ((value = v), (settled = true)), (err: Error) => world.fail(err));
    await world.run(world.now + limitMs, () => settled);
    return value;
  };

  // A rejection nobody handles would make a real node exit: a finding, not noise.
  const onUnhandled = (reason: unknown) =>
    world.fail(new SimFailure('safety', 'unhandled-rejection', `unhandled rejection (a real node would exit): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const node of cluster.nodes.values()) cluster.start(node);
    every(invariantIntervalMs, () => invariants.check());
    workload.start();
    nemesis.start();
    await world.run(scenario.safetyMs, () => workload.done);

    // Liveness: heal everything, let the clients finish, then wait for agreement.
    workload.stop();
    nemesis.healAll();
    const healedAt = world.now;
    await world.run(healedAt + scenario.workload.clientTimeoutMs * 3, () => workload.running === 0);
    // The versions are taken at the instant agreement is seen: background work goes on afterwards
    // (a tombstone being reaped is briefly gone on some replicas and not yet on others).
    every(convergencePollMs, async () => {
      if (convergenceMs !== null || !(await converged(cluster, keys))) return;
      convergenceMs = world.now - healedAt;
      replicaVersions = await versions(cluster, keys);
    });
    await world.run(healedAt + (opts.livenessBoundMs ?? 60_000), () => convergenceMs !== null);
    finalReads = (await await_(workload.finalReads(), 20_000)) ?? [];
    if (convergenceMs === null) replicaVersions = await versions(cluster, keys);
    await invariants.check();
    // Only once converged: before that a lagging replica may rightly still hold a superseded version.
    const churnCopies = convergenceMs === null ? [] : await copiesOf(cluster, scenario.workload.churnKeys);

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
    results = checkRun({
      info, history: workload.history, faults: nemesis.windows, finalReads, replicaVersions, convergenceMs, churnCopies,
      tombstonesReaped: cluster.counters.get('tombstones_reaped') ?? 0,
    });
    const set = results.set;
    const resurrected = results.supersession?.resurrected;
    if (set && (set.lost.count > 0 || set.unexpected.count > 0 || set.failedPresent.count > 0)) {
      verdict = 'safety';
      failure = { check: 'set', message: results.reasons.join('; ') + lostDetail(results) };
      focusMs = set.lost.examples[0]?.ackMs;
      focusKey = set.lost.examples[0]?.key;
    } else if (resurrected && resurrected.count > 0) {
      const r = resurrected.examples[0]!;
      verdict = 'safety';
      failure = { check: 'superseded-stays-gone', message: `${results.reasons.join('; ')}; e.g. ${r.key}: ${r.node} holds ${r.dot}${r.deleted ? ' (tombstone)' : ''}, superseded by the ${r.by.f} acknowledged at ${r.by.ackMs} ms` };
      focusMs = r.by.ackMs;
      focusKey = r.key;
    } else if (!results.valid || finalReads.length === 0) {
      verdict = 'liveness';
      failure = { check: convergenceMs === null ? 'convergence' : 'final-reads', message: results.reasons.join('; ') || 'final reads did not complete' };
    }
  } catch (err) {
    focusMs = world.now;
    if (err instanceof SimFailure) {
      focusMs = err.focus?.atMs ?? focusMs;
      focusKey = err.focus?.key;
      verdict = err.kind;
      failure = { check: err.check, message: err.message };
    } else {
      verdict = 'crash';
      failure = { check: 'simulator', message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }

  const history = workload.history;
  const lines = [...history, ...nemesis.windows, ...finalReads, ...replicaVersions].map((x) => JSON.stringify(x));
  const hash = createHash('sha256').update(lines.join('\n')).digest('hex');
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
    wallMs: performance.now() - started,
    convergenceMs,
    hash,
    historyTail: shortHistory(history, focusKey, focusMs).map((o) => JSON.stringify(o)),
    faults: nemesis.windows,
    counters: Object.fromEntries(cluster.counters),
    reasons: results?.reasons ?? [],
    focusMs,
    ignored: Object.fromEntries(invariants.ignored),
  };
}

/** Every node's copy of each key as the jepsen-like checker reads it (GET /replica/kv names dots `actor:counter`). */
async function copiesOf(cluster: SimCluster, keys: readonly string[]): Promise<ChurnCopy[]> {
  const out: ChurnCopy[] = [];
  for (const key of keys) {
    for (const node of cluster.nodes.values()) {
      const object = await node.disk.get(key);
      const siblings = (object?.siblings ?? []).map((s) => ({ dot: formatDot(s.dot), deleted: s.value.kind === 'tombstone' }));
      out.push({ key, node: node.id, siblings });
    }
  }
  return out;
}

/** Every primary (and any other node holding a copy) has the same version, every node is up, no hints wait. */
async function converged(cluster: SimCluster, keys: readonly string[]): Promise<boolean> {
  for (const node of cluster.nodes.values()) {
    if (node.state !== 'up' || node.disk.hintCounts().size > 0) return false;
  }
  for (const key of keys) {
    const { primaries } = preferenceListForKey(cluster.ring, key);
    const copies: (VersionedObject | undefined)[] = [];
    for (const node of cluster.nodes.values()) {
      const object = await node.disk.get(key);
      if (object !== undefined || primaries.includes(node.id)) copies.push(object);
    }
    if (!copies.every((c) => sameVersion(c, copies[0]))) return false;
  }
  return true;
}

async function versions(cluster: SimCluster, keys: readonly string[]): Promise<ReplicaVersion[]> {
  const out: ReplicaVersion[] = [];
  for (const key of keys) {
    for (const node of cluster.nodes.values()) {
      const object = await node.disk.get(key);
      out.push({ key, node: node.id, version: object === undefined ? null : objectDigest(object).slice(0, 16) });
    }
  }
  return out;
}

/** The end of the history; for a failure about one key, the operations on it around that time. */
function shortHistory(history: readonly Op[], key: string | undefined, atMs: number | undefined): readonly Op[] {
  if (key === undefined || atMs === undefined) return history.slice(-20);
  const around = history.filter((o) => o.key === key && Math.abs(o.timeMs - atMs) <= 3000);
  const i = Math.max(0, around.findIndex((o) => o.timeMs >= atMs));
  return around.slice(Math.max(0, i - 16), i + 8);
}

function lostDetail(results: Results): string {
  const lost = results.set?.lost.examples.slice(0, 5) ?? [];
  return lost.length === 0 ? '' : `; lost e.g. ${lost.map((l) => `${l.key}:${l.element} (acked ${l.ackMs}ms via ${l.node})`).join(', ')}`;
}
