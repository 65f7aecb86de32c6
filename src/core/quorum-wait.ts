// Waits for replies from replicas until a quorum is met, becomes impossible, or time runs out.
// The caller answers its client as soon as `decided` settles; `all` settles when every call has
// (or the deadline passes), which is when read repair can look at every reply.
import type { Runtime } from './runtime.js';
import type { NodeId } from './types.js';

export interface ReplicaCall<T> {
  readonly node: NodeId;
  readonly primary: boolean;
  readonly reply: Promise<T>;
}

export interface Reply<T> {
  readonly node: NodeId;
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

export function awaitQuorum<T>(
  runtime: Runtime,
  calls: readonly ReplicaCall<T>[],
  need: QuorumNeed,
  timeoutMs: number,
): { decided: Promise<QuorumOutcome<T>>; all: Promise<readonly Reply<T>[]> } {
  const replies: Reply<T>[] = [];
  let pending = calls.length;
  let pendingPrimaries = calls.filter((c) => c.primary).length;
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
    // Not met and cannot be met any more: answer now rather than at the deadline.
    else if (replies.length + pending < need.total || primaries() + pendingPrimaries < need.primary) settle(false);
    if (pending === 0) end();
  };
  const timer = runtime.setTimer(timeoutMs, end);

  for (const call of calls) {
    call.reply.then(
      (value) => {
        if (isFinished) return;
        replies.push({ node: call.node, primary: call.primary, value });
        pending--;
        if (call.primary) pendingPrimaries--;
        check();
      },
      () => {
        if (isFinished) return;
        pending--;
        if (call.primary) pendingPrimaries--;
        check();
      },
    );
  }
  check();
  return { decided, all };
}
