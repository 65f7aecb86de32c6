// Replayable DVV histories for property tests: writes at three replicas (with a context some
// client read earlier, or none), syncs between them, and reads.
import fc from 'fast-check';
import { emptyObject, sync, update } from '../../src/core/dvv.js';
import type { ActorId, CausalContext, VersionedObject } from '../../src/core/types.js';

export const actors = ['n1.a', 'n2.b', 'n3.c'] as ActorId[];
export const value = (s: string) => ({ kind: 'value' as const, data: new TextEncoder().encode(s), contentType: 'text/plain' });

/** A replayable history: writes at replicas (with a context some client read earlier) and syncs. */
export type HistoryStep =
  | { kind: 'write'; replica: number; contextFrom: number | null; deleted: boolean }
  | { kind: 'sync'; from: number; to: number }
  | { kind: 'read'; replica: number };

export const arbStep: fc.Arbitrary<HistoryStep> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), replica: fc.nat(2), contextFrom: fc.option(fc.nat(20)), deleted: fc.boolean() }),
  fc.record({ kind: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
  fc.record({ kind: fc.constant('read' as const), replica: fc.nat(2) }),
);

export function replay(steps: readonly HistoryStep[]): { replicas: VersionedObject[]; contexts: CausalContext[] } {
  const replicas: VersionedObject[] = [emptyObject, emptyObject, emptyObject];
  const contexts: CausalContext[] = [];
  steps.forEach((step, i) => {
    if (step.kind === 'read') contexts.push(replicas[step.replica]!.context);
    else if (step.kind === 'sync') replicas[step.to] = sync(replicas[step.to]!, replicas[step.from]!);
    else {
      const ctx = step.contextFrom === null ? undefined : contexts[step.contextFrom % Math.max(1, contexts.length)];
      // The counter floor grows with the step, as the coordinator's grows with the wall clock.
      const floor = i * 1000;
      const w = update(replicas[step.replica], ctx, actors[step.replica]!, step.deleted ? { kind: 'tombstone', deletedAtMs: 0 } : value(`v${i}`), floor);
      replicas[step.replica] = w.object;
      contexts.push(w.writerContext);
    }
  });
  return { replicas, contexts };
}

