// Waits for replies from replicas until a quorum is met, becomes impossible, or time runs out.
// The caller answers its client as soon as `decided` settles; `all` settles when every call has
// (or the deadline passes), which is when read repair can look at every reply.
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
  const replies: Reply<T>[] = [];
  let pending = calls.length;
  let decide!: (o: QuorumOutcome<T>) => void;
  let finish!: (r: readonly Reply<T>[]) => void;
  const decided = new Promise<QuorumOutcome<T>>((resolve) => (decide = resolve));
  const all = new Promise<readonly Reply<T>[]>((resolve) => (finish = resolve));
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
    if (replies.length >= need.total && primaries() >= need.primary) settle(true);
    // Not met and cannot be met any more (any pending slot may still answer as a primary):
    // answer now rather than at the deadline.
    else if (replies.length + pending < need.total || primaries() + pending < need.primary) settle(false);
    if (pending === 0) end();
  };
  const timer = runtime.setTimer(timeoutMs, end);

  for (const call of calls) {
    call.then(
      (reply) => {
        if (isFinished) return;
        replies.push(reply);
        pending--;
        check();
      },
      () => {
        if (isFinished) return;
        pending--;
        check();
      },
    );
  }
  check();
  return { decided, all };
}
