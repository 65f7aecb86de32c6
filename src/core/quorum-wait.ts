// Waits for replies from replicas until a quorum is met, becomes impossible, or time runs out.
// The caller answers its client as soon as `decided` settles; `all` settles when every call has
// (or the deadline passes), which is when read repair can look at every reply.
import { invariant } from './assert.js';
import type { Runtime } from './ports.js';
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

/** The pure count behind a wait: replies in, a verdict out. Each slot answers once, from a distinct node. */
export class QuorumTally<T> {
  readonly replies: Reply<T>[] = [];
  private pending: number;

  constructor(
    private readonly slots: number,
    private readonly need: QuorumNeed,
  ) {
    invariant(need.primary >= 0 && need.primary <= need.total, () => `quorum wait: ${need.primary} primaries of ${need.total} replies`);
    this.pending = slots;
  }

  answered(reply: Reply<T>): void {
    // Two replies from one node would count one replica twice toward the quorum.
    invariant(!this.replies.some((r) => r.node === reply.node), () => `quorum wait: ${reply.node} answered for two replica slots`);
    this.replies.push(reply);
    this.settleSlot();
  }

  failed(): void {
    this.settleSlot();
  }

  /** Met; impossible now (any pending slot may still answer as a primary); or still open. */
  verdict(): 'met' | 'impossible' | 'open' {
    const primaries = this.replies.filter((r) => r.primary).length;
    if (this.replies.length >= this.need.total && primaries >= this.need.primary) return 'met';
    if (this.replies.length + this.pending < this.need.total || primaries + this.pending < this.need.primary) return 'impossible';
    return 'open';
  }

  get done(): boolean {
    return this.pending === 0;
  }

  private settleSlot(): void {
    this.pending--;
    invariant(this.pending >= 0, () => `quorum wait: more answers than the ${this.slots} slots`);
  }
}

/** Each call stands for one distinct replica slot; it rejects if no node answered for it. */
export function awaitQuorum<T>(
  runtime: Runtime,
  calls: readonly Promise<Reply<T>>[],
  need: QuorumNeed,
  timeoutMs: number,
): { decided: Promise<QuorumOutcome<T>>; all: Promise<readonly Reply<T>[]> } {
  const tally = new QuorumTally<T>(calls.length, need);
  const decided = settleable<QuorumOutcome<T>>();
  const all = settleable<readonly Reply<T>[]>();
  all.promise.catch(() => undefined); // a caller that never looks at `all` must not crash the process on a bug
  const end = () => {
    timer.cancel();
    decided.resolve({ met: false, replies: [...tally.replies] });
    all.resolve([...tally.replies]);
  };
  const check = () => {
    const verdict = tally.verdict();
    if (verdict !== 'open') decided.resolve({ met: verdict === 'met', replies: [...tally.replies] });
    if (tally.done) end();
  };
  // A broken invariant rejects whatever is still open (the request fails as a bug, read repair
  // logs it) instead of escaping from a promise callback as an unhandled rejection.
  const step = (body: () => void) => {
    if (all.settled) return;
    try {
      body();
      check();
    } catch (err) {
      timer.cancel();
      decided.reject(err);
      all.reject(err);
    }
  };
  const timer = runtime.setTimer(timeoutMs, end);
  for (const call of calls) call.then((reply) => step(() => tally.answered(reply)), () => step(() => tally.failed()));
  check();
  return { decided: decided.promise, all: all.promise };
}

/** A promise with its settle functions; only the first settle counts. */
function settleable<T>(): { promise: Promise<T>; settled: boolean; resolve(value: T): void; reject(err: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  const s = {
    promise,
    settled: false,
    resolve: (value: T) => void (s.settled || ((s.settled = true), resolve(value))),
    reject: (err: unknown) => void (s.settled || ((s.settled = true), reject(err))),
  };
  return s;
}
