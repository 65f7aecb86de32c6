// A background task that runs, waits `intervalMs` after it finished, and runs again, until stopped.
// Until `start()` nothing is scheduled, but the task may be run directly (tests, first rounds).
// A round that fails is logged here, in one place, at the level its failure class calls for.
import { TransportError, type Logger, type Runtime, type Timer } from './runtime.js';

/**
 * What a failure says about the node: a peer that is down, slow or refusing is an operating
 * condition (warn: the cluster copes, the operator may act); anything else is a bug (error).
 */
export type FailureClass = 'condition' | 'bug';

export function failureClassOf(err: unknown): FailureClass {
  return err instanceof TransportError ? 'condition' : 'bug';
}

/** Logs a failed round of `what` at the level its class calls for. */
function logFailure(log: Logger, what: string, err: unknown, fields: object = {}): void {
  if (failureClassOf(err) === 'condition') log.warn({ ...fields, err: (err as Error).message }, `${what} failed`);
  else log.error({ ...fields, err }, `${what} failed (a bug)`);
}

export interface PeriodicDeps {
  /** What the task does, for the log: "hinted handoff round". */
  readonly name: string;
  readonly runtime: Runtime;
  readonly log: Logger;
  readonly intervalMs: number;
  readonly task: () => Promise<unknown>;
}

export class Periodic {
  private timer: Timer | undefined;
  private stoppedFlag = false;

  constructor(private readonly deps: PeriodicDeps) {}

  /** True once `stop()` was called: long rounds check it to end early. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  start(): void {
    this.stoppedFlag = false;
    this.timer?.cancel();
    this.schedule();
  }

  stop(): void {
    this.stoppedFlag = true;
    this.timer?.cancel();
  }

  /** One round now; a failure is logged, never thrown. */
  async run(): Promise<void> {
    try {
      await this.deps.task();
    } catch (err) {
      logFailure(this.deps.log, this.deps.name, err);
    }
  }

  private schedule(): void {
    if (this.stoppedFlag) return;
    this.timer = this.deps.runtime.setTimer(this.deps.intervalMs, () => void this.run().finally(() => this.schedule()));
  }
}
