// The run's closing figures in one line: operations, acknowledged and lost writes, faults applied
// by kind, and (--netns) which fault kinds were real and which this kernel could not do.
import type { Results } from './checkers/index.js';
import type { FaultWindow, Op } from './history.js';
import type { Network } from './network.js';

export function faultsByKind(faults: readonly FaultWindow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of faults) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return counts;
}

export function summary(ops: readonly Op[], faults: readonly FaultWindow[], results: Results, network: Network | undefined): string {
  const completions = ops.filter((op) => op.type !== 'invoke');
  // Set workload: the adds (churn keys' writes are judged by their own checker); register: the writes.
  const acked = results.set?.acknowledged ?? completions.filter((op) => op.type === 'ok' && op.f === 'write').length;
  const lost = results.set ? String(results.set.lost.count) : 'n/a (register workload)';
  const byKind = Object.entries(faultsByKind(faults)).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const unavailable = network ? `; fault kinds unavailable here: ${[...network.unavailable.keys()].join(', ') || 'none'}` : '';
  return `summary: ${completions.length} ops, ${acked} ${results.set ? 'adds' : 'writes'} acknowledged, ${lost} lost; faults applied: ${byKind}${unavailable}`;
}
