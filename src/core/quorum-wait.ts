// Waits for replies from replicas until a quorum is met, becomes impossible, or time runs out.
// The caller answers its client as soon as `decided` settles; `all` settles when every call has
// (or the deadline passes), which is when read repair can look at every reply.
import { invariant } from './assert.js';
import type { Runtime } from './runtime.js';
import type { NodeId } from './types.js';

export interface Reply<T> {
  readonly node: NodeId;
  /** False when a fallback answered in place of a primary (sloppy quorum). */
  readonly primary: boolean;
  readonly value: T;
}

export interface QuorumOutcome<T> {
  readonly met: boolean;
  /** Replies received when the outcome was decided, in arrival order. */
  readonly replies: readonly Reply<T>[];
}

export interface QuorumNeed {
  readonly total: number;
  readonly primary: number;
}

/** Each call stands for one distinct replica slot; it rejects if no node answered for it. */
export function awaitQuorum<T>(
  runtime: Runtime,
  calls: readonly Promise<Reply<T>>[],
  need: QuorumNeed,
  timeoutMs: number,
): { decided: Promise<QuorumOutcome<T>>; all: Promise<readonly Reply<T>[]> } {
  invariant(need.primary >= 0 && need.primary <= need.total, () => `quorum wait: ${need.primary} primaries of ${need.total} replies`);
  const replies: Reply<T>[] = [];
  let pending = calls.length;
  let decide!: (o: QuorumOutcome<T>) => void;
  let finish!: (r: readonly Reply<T>[]) => void;
  let breakDecided!: (err: unknown) => void;
  let breakAll!: (err: unknown) => void;
  const decided = new Promise<QuorumOutcome<T>>((resolve, reject) => ((decide = resolve), (breakDecided = reject)));
  const all = new Promise<readonly Reply<T>[]>((resolve, reject) => ((finish = resolve), (breakAll = reject)));
  all.catch(() => undefined); // a caller that never looks at `all` must not crash the process on a bug
  let isDecided = false;
  let isFinished = false;

  const primaries = () => replies.filter((r) => r.primary).length;
  const settle = (met: boolean) => {
    if (isDecided) return;
    isDecided = true;
    decide({ met, replies: [...replies] });
  };
  const end = () => {
    if (isFinished) return;
    isFinished = true;
    timer.cancel();
    settle(false);
    finish([...replies]);
  };
  const check = () => {
    invariant(pending >= 0 && replies.length <= calls.length, () => `quorum wait: ${replies.length} replies and ${pending} pending of ${calls.length} calls`);
    if (replies.length >= need.total && primaries() >= need.primary) settle(true);
    // Not met and cannot be met any more (any pending slot may still answer as a primary):
    // answer now rather than at the deadline.
    else if (replies.length + pending < need.total || primaries() + pending < need.primary) settle(false);
    if (pending === 0) end();
  };
  const timer = runtime.setTimer(timeoutMs, end);

  // A broken invariant rejects whatever is still open (the request fails as a bug, read repair
  // logs it) instead of escaping from a promise callback as an unhandled rejection.
  const guarded = (step: () => void) => () => {
    try {
      step();
    } catch (err) {
      isDecided = isFinished = true;
      timer.cancel();
      breakDecided(err);
      breakAll(err);
    }
  };
  for (const call of calls) {
    call.then(
      (reply) =>
        guarded(() => {
          if (isFinished) return;
          // Two replies from one node would count one replica twice toward the quorum.
          invariant(!replies.some((r) => r.node === reply.node), () => `quorum wait: ${reply.node} answered for two replica slots`);
          replies.push(reply);
          pending--;
          check();
        })(),
      () =>
        guarded(() => {
          if (isFinished) return;
          pending--;
          check();
        })(),
    );
  }
  check();
  return { decided, all };
}
