// The end of a run: the HTML report (report.ts) and a one-paragraph verdict.
import type { Results } from './checkers/index.js';
import type { FaultWindow, Op, RunInfo } from './history.js';
import { writeReport, type ReportInput } from './report.js';

/** Writes report.html; a failure there is logged, not fatal: the verdict does not depend on it. */
export async function writeReportSafely(dir: string, input: ReportInput, log: (line: string) => void): Promise<void> {
  try {
    await writeReport(dir, input);
  } catch (err) {
    log(`report.html not written: ${(err as Error).stack ?? (err as Error).message}`);
  }
}

export function verdict(info: RunInfo, history: readonly Op[], faults: readonly FaultWindow[], results: Results): string {
  const count = (f: Op['f'], type: Op['type']) => history.filter((op) => op.f === f && op.type === type).length;
  const writeF: Op['f'] = info.workload === 'set' ? 'add' : 'write';
  const ops = `${count(writeF, 'ok')} ${writeF}s acknowledged, ${count(writeF, 'info')} indeterminate, ${count(writeF, 'fail')} failed; ` +
    `${count('read', 'ok')} reads ok, ${count('read', 'fail')} failed`;
  const conv = results.convergence.convergenceMs === null ? 'the replicas did NOT converge' : `the replicas converged ${results.convergence.convergenceMs} ms after healing`;
  let specific = '';
  if (results.set) specific = ` ${results.set.lost.count} acknowledged add(s) lost.`;
  if (results.register) specific = ` ${results.register.violations.count} quorum read(s) went backwards outside faults.`;
  if (results.supersession) specific += ` ${results.supersession.resurrected.count} superseded version(s) of churn keys survived.`;
  const m = results.membership;
  if (m) {
    const committed = Object.entries(m.committed).map(([kind, count]) => `${count} ${kind}`).join(', ');
    specific += ` Membership: ${committed} committed (ring version ${m.ringVersionStart} -> ${m.ringVersionEnd ?? '?'}), ` +
      (m.settled ? `ring settled ${m.settleMs} ms after healing.` : `ring did NOT settle (${m.settleProblem ?? 'deadline'}).`);
  }
  const head = results.valid ? 'VALID' : 'INVALID';
  const why = results.valid ? '' : ` Reasons: ${results.reasons.join('; ')}.`;
  return `${head}: ${info.workload} workload, ${info.client} client, ${info.nodes} nodes (N=${info.n}), seed ${info.seed}, ` +
    `${info.timeSec}s with ${faults.length} fault(s) (${[...new Set(faults.map((f) => f.kind))].join(', ') || 'none'}): ${ops}; ${conv}.${specific}${why}`;
}
