// The verdict of a run, from the checkers' results or from what stopped it, and the short history
// around what it is about. Pure: no world, no cluster.
import type { Results } from '../checkers/index.js';
import type { Op } from '../history.js';
import { SimFailure } from './world.js';

export type SimVerdict = 'ok' | 'safety' | 'liveness' | 'crash';

export interface Judgement {
  readonly verdict: SimVerdict;
  readonly failure?: { readonly check: string; readonly message: string };
  /** Simulated time and key the failure is about, when known. */
  readonly focusMs?: number | undefined;
  readonly focusKey?: string | undefined;
}

/** A run that completed: safety if an acknowledged add or a superseded version went wrong, liveness if it did not settle. */
export function judgeResults(results: Results, finalReadCount: number, convergenceMs: number | null, disagreement?: string): Judgement {
  const set = results.set;
  const resurrected = results.supersession?.resurrected;
  if (set && (set.lost.count > 0 || set.unexpected.count > 0 || set.failedPresent.count > 0)) {
    const failure = { check: 'set', message: results.reasons.join('; ') + lostDetail(results) };
    return { verdict: 'safety', failure, focusMs: set.lost.examples[0]?.ackMs, focusKey: set.lost.examples[0]?.key };
  }
  if (resurrected && resurrected.count > 0) {
    const r = resurrected.examples[0]!;
    const message = `${results.reasons.join('; ')}; e.g. ${r.key}: ${r.node} holds ${r.dot}${r.deleted ? ' (tombstone)' : ''}, superseded by the ${r.by.f} acknowledged at ${r.by.ackMs} ms`;
    return { verdict: 'safety', failure: { check: 'superseded-stays-gone', message }, focusMs: r.by.ackMs, focusKey: r.key };
  }
  if (!results.valid || finalReadCount === 0) {
    const check = convergenceMs === null ? 'convergence' : 'final-reads';
    const message = (results.reasons.join('; ') || 'final reads did not complete') + (convergenceMs === null && disagreement ? `; still disagreeing: ${disagreement}` : '');
    return { verdict: 'liveness', failure: { check, message } };
  }
  return { verdict: 'ok' };
}

/** A run stopped by an exception at `nowMs`: a failed check (SimFailure) or a simulator crash. */
export function judgeError(err: unknown, nowMs: number): Judgement {
  if (err instanceof SimFailure) {
    return { verdict: err.kind, failure: { check: err.check, message: err.message }, focusMs: err.focus?.atMs ?? nowMs, focusKey: err.focus?.key };
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { verdict: 'crash', failure: { check: 'simulator', message }, focusMs: nowMs };
}

/** The end of the history; for a failure about one key, the operations on it around that time. */
export function shortHistory(history: readonly Op[], key: string | undefined, atMs: number | undefined): readonly Op[] {
  if (key === undefined || atMs === undefined) return history.slice(-20);
  const around = history.filter((o) => o.key === key && Math.abs(o.timeMs - atMs) <= 3000);
  const i = Math.max(0, around.findIndex((o) => o.timeMs >= atMs));
  return around.slice(Math.max(0, i - 16), i + 8);
}

function lostDetail(results: Results): string {
  const lost = results.set?.lost.examples.slice(0, 5) ?? [];
  return lost.length === 0 ? '' : `; lost e.g. ${lost.map((l) => `${l.key}:${l.element} (acked ${l.ackMs}ms via ${l.node})`).join(', ')}`;
}
