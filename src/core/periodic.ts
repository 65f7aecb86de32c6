// A background task that runs, waits `intervalMs` after it finished, and runs again, until stopped.
// Until `start()` nothing is scheduled, but the task may be run directly (tests, first rounds).
// A round that fails is logged here, in one place, at the level its failure class calls for
// (core/errors.ts), a repeating condition at most every failureRepeatIntervalMs.
import { FailureLog } from './failure-log.js';
import type { Logger, Runtime, Timer } from './ports.js';

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
  private readonly failures: FailureLog;

  constructor(private readonly deps: PeriodicDeps) {
    this.failures = new FailureLog({ log: deps.log, now: () => deps.runtime.now() });
  }

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
      this.failures.failed(this.deps.name, err);
    }
  }

  private schedule(): void {
    if (this.stoppedFlag) return;
    this.timer = this.deps.runtime.setTimer(this.deps.intervalMs, () => void this.run().finally(() => this.schedule()));
  }
}
