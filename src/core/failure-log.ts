// Logs internal failures by their catalogued class (core/errors.ts): a bug always, at error with
// its stack; a condition or damage at most once per code and operation every
// failureRepeatIntervalMs, with a count of the lines held back, so a failure that repeats per
// request cannot flood the log (the keys are the catalog's codes and fixed messages: bounded).
import { failureCatalog, failureCodeOf, type FailureCode } from './errors.js';
import { failureRepeatIntervalMs } from './limits.js';
import type { Logger } from './ports.js';

export interface FailureLogDeps {
  readonly log: Logger;
  /** A monotonic clock in milliseconds (Runtime.now, or performance.now outside the core). */
  readonly now: () => number;
}

export class FailureLog {
  private readonly lastLogged = new Map<string, { atMs: number; heldBack: number }>();

  constructor(private readonly deps: FailureLogDeps) {}

  /** `what` failed with `err`: logged at the level of the error's failure class. */
  failed(what: string, err: unknown, fields: object = {}): void {
    const code = failureCodeOf(err);
    if (failureCatalog[code].class === 'bug') {
      this.deps.log.error({ ...fields, failure: code, err }, `${what} failed (a bug)`);
      return;
    }
    this.report(code, `${what} failed`, { ...fields, err: (err as Error).message });
  }

  /** A known failure that is not an exception (a full hint queue, a quarantined row). */
  report(code: FailureCode, message: string, fields: object = {}): void {
    const key = `${code}\u0000${message}`;
    const now = this.deps.now();
    const last = this.lastLogged.get(key);
    if (last && now - last.atMs < failureRepeatIntervalMs) {
      last.heldBack++;
      return;
    }
    this.lastLogged.set(key, { atMs: now, heldBack: 0 });
    const heldBack = last?.heldBack ? { heldBack: last.heldBack } : {};
    const level = failureCatalog[code].class === 'condition' ? 'warn' : 'error';
    this.deps.log[level]({ ...fields, failure: code, ...heldBack }, message);
  }
}
