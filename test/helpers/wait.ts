// Polling with a deadline: the only way tests wait for a condition (no sleeps as synchronisation).

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** What is being waited for, for the error message. */
  readonly what: string;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown by a waitFor condition to stop waiting at once (the awaited thing can no longer happen). */
export class GiveUp extends Error {
  override readonly name = 'GiveUp';
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or the deadline passes,
 * then throws an error naming `what` (and the last error the condition threw, if any). A condition
 * that throws counts as "not yet", except for GiveUp, which ends the wait with that error.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      if (err instanceof GiveUp) throw new Error(`gave up waiting for ${opts.what}: ${err.message}`);
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await pause(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}
