// The simulated world: one seeded PRNG, simulated time and one queue of events. The driver pops
// the earliest event, advances time to it, fires it, then lets every promise chain it started run
// to completion before the next event, so the core's async code sees time stand still between
// events. Nothing in a run reads a real clock or arms a real timer; setImmediate below is only
// the way to wait until the microtask queue is empty.
import type { Runtime, Timer } from '../../src/core/ports.js';
import { SimPrng } from './prng.js';
import { anyGeneration, EventQueue, type EventOwner, type SimEvent } from './queue.js';

/** Wall clock of simulated time 0: fixed, so tombstone and hint ages are reproducible. */
export const simEpochMs = 1_750_000_000_000;

/** A violated invariant or check: the run is a safety (or liveness) failure, not a simulator crash. */
export class SimFailure extends Error {
  constructor(
    readonly kind: 'safety' | 'liveness',
    readonly check: string,
    message: string,
    /** The key and simulated time the failure is about, for a short history around it. */
    readonly focus?: { readonly key: string; readonly atMs: number },
  ) {
    super(message);
    this.name = 'SimFailure';
  }
}

// A nextTick callback queued from a microtask runs only once the microtask queue is empty, so
// awaiting one is a full drain without a trip through the event loop. That holds only when the
// driver itself runs as a microtask, so run() starts with a real event-loop turn (setImmediate):
// called from inside a nextTick callback, a tick queued by the first event would run before the
// microtasks it should wait for (this made a seed's history depend on how runSim was called).
// Every few hundred events we take the trip anyway, so Node reports unhandled rejections.
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class World {
  readonly prng: SimPrng;
  private readonly queue = new EventQueue();
  private seq = 0;
  private timeMs = 0;
  /** Events fired (cancelled and discarded ones not counted). */
  fired = 0;
  /** Set by any code that noticed a failure while an event ran; the driver throws it after the event. */
  private failure: Error | undefined;

  constructor(readonly seed: number) {
    this.prng = new SimPrng(seed);
  }

  get now(): number {
    return this.timeMs;
  }

  /** The nodes' wall clock: whole milliseconds, as Date.now() gives (the core's dots are integers); timers may make time fractional. */
  get wallClockMs(): number {
    return simEpochMs + Math.floor(this.timeMs);
  }

  /** Schedules `fire` after `delayMs`; with an owner it dies with (and waits for) that node. */
  schedule(delayMs: number, fire: () => void, owner?: EventOwner, gen = owner?.gen ?? anyGeneration): SimEvent {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const ev: SimEvent = { at: this.timeMs + delay, seq: this.seq++, fire, owner, gen, cancelled: false };
    this.queue.push(ev);
    return ev;
  }

  /** Re-enqueues events a paused node missed, now, in their original order. */
  replay(events: readonly SimEvent[]): void {
    for (const ev of events) {
      ev.at = this.timeMs;
      ev.seq = this.seq++;
      this.queue.push(ev);
    }
  }

  /** A node's Runtime: timers are events owned by the node's current incarnation. */
  runtimeFor(owner: EventOwner): Runtime {
    const gen = owner.gen;
    return {
      now: () => this.timeMs,
      wallClockMs: () => this.wallClockMs,
      setTimer: (delayMs: number, fire: () => void): Timer => {
        const ev = this.schedule(delayMs, fire, owner, gen);
        return { cancel: () => void (ev.cancelled = true) };
      },
      random: () => this.prng.next(),
    };
  }

  /** Records a failure found inside a callback (where throwing would only reject some promise). */
  fail(err: Error): void {
    this.failure ??= err;
  }

  /**
   * Runs events until simulated time `untilMs`, or until `stop()` says so (asked after each event).
   * Time is then `untilMs` (or the stopping event's time).
   */
  async run(untilMs: number, stop?: () => boolean): Promise<void> {
    await yieldToEventLoop();
    for (;;) {
      const next = this.queue.peek();
      if (next === undefined || next.at > untilMs) break;
      this.queue.pop();
      if (next.cancelled) continue;
      const owner = next.owner;
      if (owner !== undefined) {
        if (next.gen !== anyGeneration && next.gen !== owner.gen) continue; // a crashed incarnation's
        if (owner.state === 'paused') {
          owner.deferred.push(next);
          continue;
        }
      }
      if (next.at < this.timeMs) throw new SimFailure('safety', 'time-monotonic', `event at ${next.at} fired at ${this.timeMs}`);
      this.timeMs = next.at;
      this.fired++;
      next.fire();
      await (this.fired % 256 === 0 ? yieldToEventLoop() : drainMicrotasks());
      if (this.failure) throw this.failure;
      if (stop?.()) return;
    }
    if (untilMs > this.timeMs && Number.isFinite(untilMs)) this.timeMs = untilMs;
  }
}
