// Runs every checker over a finished run. Pure: the runner passes what it recorded, gets Results.
import type { FaultWindow, FinalRead, MembershipSummary, Op, ReplicaVersion, RunInfo } from '../history.js';
import { checkConvergence, type ConvergenceResults } from './convergence.js';
import { checkPerf, type PerfResults } from './perf.js';
import { checkRegister, type RegisterResults } from './register.js';
import { checkSet, type SetResults } from './set.js';
import { checkSupersession, type ChurnCopy, type SupersessionResults } from './supersession.js';

export type { ConvergenceResults } from './convergence.js';
export type { PerfResults, PerfGroup, OpStats, Percentiles } from './perf.js';
export type { RegisterResults, RegisterViolation } from './register.js';
export type { SetResults, StaleRead, LostElement } from './set.js';
export type { ChurnCopy, Resurrection, SupersessionResults } from './supersession.js';

export interface Results {
  /** set.valid (set workload) && register.valid (register workload) && convergence.valid. */
  valid: boolean;
  set?: SetResults;
  register?: RegisterResults;
  /** Churn keys (set workload with --churn-keys): no superseded version survives. */
  supersession?: SupersessionResults;
  convergence: ConvergenceResults;
  /** With the membership nemesis: what it changed and whether the ring settled (not settling makes the run invalid). */
  membership?: MembershipSummary;
  perf: PerfResults;
  /** One line per reason the run is invalid (empty when valid). */
  reasons: string[];
}

export interface CheckInput {
  info: RunInfo;
  history: readonly Op[];
  faults: readonly FaultWindow[];
  finalReads: readonly FinalRead[];
  replicaVersions: readonly ReplicaVersion[];
  convergenceMs: number | null;
  /** Every node's copy of every churn key after convergence (none without churn keys). */
  churnCopies?: readonly ChurnCopy[];
  /** Tombstones the nodes reaped during the run (at least): shows reaping raced with the workload. */
  tombstonesReaped?: number;
  /** The membership nemesis's summary (runs with it only). */
  membership?: MembershipSummary;
}

export function checkRun(input: CheckInput): Results {
  const { info, history, faults } = input;
  const reasons: string[] = [];
  let set: SetResults | undefined;
  let register: RegisterResults | undefined;
  if (info.workload === 'set') {
    set = checkSet(history, input.finalReads, faults);
    if (set.lost.count > 0) reasons.push(`set: ${set.lost.count} acknowledged add(s) lost`);
    if (set.unexpected.count > 0) reasons.push(`set: ${set.unexpected.count} unexpected element(s) in final reads`);
    if (set.failedPresent.count > 0) reasons.push(`set: ${set.failedPresent.count} failed add(s) present in final reads`);
    if (set.unreadKeys.length > 0) reasons.push(`set: ${set.unreadKeys.length} key(s) with acknowledged adds had no successful final read`);
  } else {
    register = checkRegister(history, faults);
    if (register.violations.count > 0) reasons.push(`register: ${register.violations.count} quorum read(s) went backwards outside faults`);
    if (register.unexpected.count > 0) reasons.push(`register: ${register.unexpected.count} read(s) returned a value never (successfully) written`);
  }
  const churn = input.churnCopies !== undefined && input.churnCopies.length > 0;
  const supersession = churn ? checkSupersession(history, input.churnCopies!, input.tombstonesReaped ?? 0) : undefined;
  if (supersession && supersession.resurrected.count > 0) {
    reasons.push(`churn: ${supersession.resurrected.count} superseded version(s) still on a replica after convergence`);
  }
  const convergence = checkConvergence(info, input.replicaVersions, input.convergenceMs);
  if (!convergence.converged) reasons.push('convergence: replicas did not converge after healing');
  if (convergence.keysDiverged.count > 0) reasons.push(`convergence: ${convergence.keysDiverged.count} key(s) with differing replica versions`);
  const membership = input.membership;
  if (membership && !membership.settled) reasons.push(`membership: the ring did not settle after healing (${membership.settleProblem ?? 'deadline passed'})`);
  const perf = checkPerf(info, history, faults);
  const valid = (set?.valid ?? true) && (register?.valid ?? true) && (supersession?.valid ?? true) && convergence.valid && (membership?.settled ?? true);
  return {
    valid, ...(set ? { set } : {}), ...(register ? { register } : {}), ...(supersession ? { supersession } : {}),
    convergence, ...(membership ? { membership } : {}), perf, reasons,
  };
}
