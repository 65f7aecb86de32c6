// Cassandra's speculative retry: a read asks only as many replicas as its quorum needs, and one
// more when one of them fails or is slow, instead of every replica on every read. Each call still
// stands for one replica slot of awaitQuorum; a spare that was never needed rejects with NotAsked.
import type { Runtime } from './ports.js';

/** Why a spare slot settled without a call: the quorum was decided before it was needed. */
export class NotAsked extends Error {
  constructor() {
    super('not asked: the quorum was decided without this replica');
  }
}

// One instance for every spare: most reads have one, and an Error's stack trace is costly to take.
const notAsked = new NotAsked();

export interface StaggeredCalls<T> {
  /** One promise per entry of `starts`, in the same order. */
  readonly calls: readonly Promise<T>[];
  /** The quorum is decided: spares not started yet reject with NotAsked; nothing more starts. */
  stop(): void;
}

/**
 * Starts the first `firstCount` of `starts` now. Each of the others (spares, in order) starts when
 * a started call rejects, and one of them also when `speculateAfterMs` pass before `stop`.
 */
export function staggeredCalls<T>(runtime: Runtime, starts: readonly (() => Promise<T>)[], firstCount: number, speculateAfterMs: number): StaggeredCalls<T> {
  const spares: Array<{ start: () => Promise<T>; resolve(value: Promise<T>): void; reject(err: unknown): void }> = [];
  let stopped = false;
  const track = (call: Promise<T>): Promise<T> => {
    call.catch(() => startSpare());
    return call;
  };
  const startSpare = () => {
    const spare = stopped ? undefined : spares.shift();
    if (spare) spare.resolve(track(spare.start()));
  };
  const calls = starts.map((start, i) => {
    if (i < firstCount) return track(start());
    return new Promise<T>((resolve, reject) => spares.push({ start, resolve, reject }));
  });
  const timer = spares.length > 0 ? runtime.setTimer(speculateAfterMs, startSpare) : undefined;
  return {
    calls,
    stop() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      for (const spare of spares.splice(0)) spare.reject(notAsked);
    },
  };
}
