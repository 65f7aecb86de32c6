// Waiting, always bounded: polling a condition with a deadline (the only way tests wait for a
// condition; no sleeps as synchronisation), a promise with a deadline, and a plain pause for pacing
// (a bench's or the jepsen runner's rhythm), never for synchronisation.

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** What is being waited for, for the error message. */
  readonly what: string;
}

/** A pause of `ms`: for pacing a loop that also checks a deadline, never to wait for a condition. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `promise` at most `ms` (true if it settled), leaving no timer behind. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}
