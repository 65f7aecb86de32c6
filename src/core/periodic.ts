// A background task that runs, waits `intervalMs` after it finished, and runs again, until stopped.
// Until `start()` nothing is scheduled, but the task may be run directly (tests, first rounds).
import type { Runtime, Timer } from './runtime.js';

export class Periodic {
  private timer: Timer | undefined;
  private stoppedFlag = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly intervalMs: number,
    /** Must not reject: a task handles (and logs) its own failures. */
    private readonly task: () => Promise<unknown>,
  ) {}

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

  private schedule(): void {
    if (this.stoppedFlag) return;
    this.timer = this.runtime.setTimer(this.intervalMs, () => void this.task().finally(() => this.schedule()));
  }
}
