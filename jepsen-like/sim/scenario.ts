// Everything about a run that the seed decides before it starts: cluster shape, convergence
// knobs, workload and fault mix. Drawn first from the run's PRNG, so a seed names a scenario.
import { forwardMarginMs, phiThresholdDefault } from '../../src/core/limits.js';
import type { ConvergenceSettings } from '../../src/core/node-core.js';
import type { ClusterConfig } from './cluster.js';
import { delaySpikesMs, faultKinds, type FaultConfig } from './faults.js';
import { chooseMembership, describeChange, type MembershipConfig } from './membership.js';
import type { SimPrng } from './prng.js';
import type { WorkloadConfig } from './workload.js';

export interface ScenarioOptions {
  /** Operations per run at most (the safety phase ends when they are invoked, or at safetyMs). */
  readonly opsMax: number;
  /** Length of the safety phase, simulated ms. */
  readonly safetyMs: number;
}

export interface Scenario {
  readonly cluster: ClusterConfig;
  readonly workload: WorkloadConfig;
  readonly faults: FaultConfig;
  readonly safetyMs: number;
  /** Membership changes during the run (membership seeds only). */
  readonly membership?: MembershipConfig;
}

/** Which seeds change membership: a share of them (auto), every one, or none. */
export type MembershipMode = 'auto' | 'always' | 'never';
export const membershipModes: readonly MembershipMode[] = ['auto', 'always', 'never'];
/** The share of seeds that change membership in mode auto. */
export const membershipShare = 0.3;

/**
 * Adds membership changes to a seed's scenario, drawn from `p`, the membership stream (forked from
 * the run's PRNG, so a seed without membership draws exactly what it drew before membership
 * existed). Such a seed has no wipe: a node removed for good is its one lost disk, and with
 * w = quorum one lost copy never loses an acknowledged write.
 */
export function withMembership(base: Scenario, p: SimPrng, mode: MembershipMode): Scenario {
  const drawn = p.chance(membershipShare);
  if (mode === 'never' || (mode === 'auto' && !drawn)) return base;
  const membership = chooseMembership(p, base.cluster.nodes, base.cluster.n, base.safetyMs);
  return { ...base, cluster: { ...base.cluster, spares: membership.spares }, faults: { ...base.faults, wipesMax: 0 }, membership };
}

export function chooseScenario(p: SimPrng, opts: ScenarioOptions): Scenario {
  const nodes = p.pick([3, 4, 5, 5, 6]);
  const keyCount = p.int(2, 8);
  const clients = p.int(3, 10);
  const settings: ConvergenceSettings = {
    probeIntervalMs: p.pick([250, 1000, 2000]),
    handoffIntervalMs: p.pick([200, 1000, 3000]),
    antiEntropyIntervalMs: p.pick([500, 2000, 5000]),
    // Short graces let tombstones be reaped within a run, so reaping races with hints and repair.
    // Never shorter than a message can be held up on the wire: that is the grace's documented job
    // (a copy delayed past it may land after the reap), not a bug to find.
    tombstoneGraceMs: p.pick([Math.max(...delaySpikesMs) + 500, 5000, 10_000, 60_000]),
    // Sometimes tiny, so fallbacks refuse hints and the bound itself is exercised.
    hintsPerPeerMax: p.chance(0.3) ? p.int(1, keyCount) : 1000,
    gossipIntervalMs: 1000,
    transferLimits: { concurrency: 2, bytesPerSecond: 32 * 1024 * 1024 },
    // Not drawn: drawing would shift every later draw, so each seed would name another scenario.
    phiThreshold: phiThresholdDefault,
  };
  const requestTimeoutMs = p.pick([500, 1000, 2000]);
  const kinds = faultKinds.filter(() => p.chance(0.75));
  if (kinds.length === 0) kinds.push(p.pick(faultKinds));
  return {
    cluster: { nodes, n: 3, partitions: p.pick([8, 16, 32]), settings, commitDelayMs: [0, p.pick([1, 5, 20])] },
    workload: {
      clients,
      keys: Array.from({ length: keyCount }, (_, i) => `k${i}`),
      opsMax: opts.opsMax,
      // Spread the operations over most of the phase, so faults come and go while clients work;
      // faults slow clients down, and the phase ends at opsMax or safetyMs, whichever comes first.
      thinkMs: Math.max(1, Math.round((0.6 * clients * opts.safetyMs) / opts.opsMax)),
      readFraction: p.pick([0, 0.1, 0.3]),
      // Many churn keys, each touched seldom, so a deleted key often stays deleted past the grace.
      churnKeys: Array.from({ length: p.int(2, 10) }, (_, i) => `d${i}`),
      churnFraction: p.pick([0.05, 0.15, 0.3]),
      requestTimeoutMs,
      // The coordinator's deadline, plus the forwarding margin, plus a little for the hops.
      clientTimeoutMs: requestTimeoutMs + forwardMarginMs + 500,
    },
    faults: {
      kinds,
      maxDown: Math.floor((nodes - 1) / 2),
      wipesMax: p.chance(0.4) ? 1 : 0,
      meanGapMs: p.pick([500, 2000, 5000]),
      durationMs: [100, p.pick([2000, 5000, 15000])],
    },
    safetyMs: opts.safetyMs,
  };
}

export function describeScenario(s: Scenario): string {
  const c = s.cluster;
  const w = s.workload;
  const k = c.settings;
  return [
    `${c.nodes} nodes, N=${c.n}, Q=${c.partitions}, commit<=${c.commitDelayMs[1]}ms`,
    `${w.clients} clients, ${w.keys.length} keys, reads ${w.readFraction * 100}%, ${w.churnKeys.length} churn keys (${w.churnFraction * 100}% of ops), timeout ${w.requestTimeoutMs}ms`,
    `probe ${k.probeIntervalMs}ms, handoff ${k.handoffIntervalMs}ms, ae ${k.antiEntropyIntervalMs}ms, grace ${k.tombstoneGraceMs}ms, hints/peer<=${k.hintsPerPeerMax}`,
    `faults ${s.faults.kinds.join(',')} (max down ${s.faults.maxDown}, wipes<=${s.faults.wipesMax}, gap~${s.faults.meanGapMs}ms, <=${s.faults.durationMs[1]}ms)`,
    ...(s.membership ? [`membership ${s.membership.rounds.map((r, i) => `${i === 0 ? 'at' : '+'}${r.afterMs}ms: ${r.changes.map(describeChange).join(' + ')}`).join(', then ')}`] : []),
  ].join('; ');
}
