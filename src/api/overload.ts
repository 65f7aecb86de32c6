// Overload protection (docs/api.md, Overload): a node answers client requests it cannot take soon
// with `503 overloaded` and Retry-After at once, instead of queueing them until every answer is late.
// Two limits: client requests in flight, and event-loop delay. Only client routes (/kv/*, GET /kv,
// POST /batch) are shed; /health, admin, /metrics and internal RPC (the /internal/channel upgrade
// never reaches a route; POST /internal/rpc is not a client route) never are: a peer's replica write
// is what lets other nodes' quorums finish, and shedding it would spread the overload.
//
// Why not @fastify/under-pressure (v9): it measures the same way (the mean of a
// perf_hooks.monitorEventLoopDelay histogram per interval) with a cheap callback hook, but it sheds
// every route unless each one opts out (a per-route config.pressureHandler that lets it through:
// one forgotten admin or RPC route is shed), its answer is a FastifyError our catalog would have to
// translate, and it has no in-flight limit, which needs a hook of its own anyway. One hook with one
// allow-list of client routes does both, in about 70 lines, with no dependency.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { overloadRetryAfterSeconds, eventLoopSampleIntervalMs, eventLoopResolutionMs } from '../core/limits.js';
import { sendError } from './errors.js';

export interface OverloadSettings {
  /** Client requests one node works on at once; past it a new one is shed. */
  readonly clientRequestsInFlightMax: number;
  /** Mean event-loop delay over the last sample interval past which client requests are shed; 0: off. */
  readonly eventLoopDelayMaxMs: number;
}

export type ShedReason = 'in_flight' | 'event_loop';

/** The routes whose requests count and can be shed (fastify route patterns). */
const clientRoutes = new Set(['/kv/*', '/kv', '/batch']);

export class OverloadGuard {
  /** Client requests accepted and not yet answered (or their connection closed). */
  private inFlight = 0;
  private lagging = false;
  private lastDelayMs = 0;
  private histogram: IntervalHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: OverloadSettings,
    private readonly onShed: (reason: ShedReason) => void,
  ) {}

  /**
   * Starts measuring the event loop. Called once the port is open: the start-up's own long tasks
   * (opening storage, rebuilding trees) are not a reason to shed the first requests.
   */
  start(): void {
    const settings = this.settings;
    if (settings.eventLoopDelayMaxMs > 0 && this.histogram === undefined) {
      const histogram = monitorEventLoopDelay({ resolution: eventLoopResolutionMs });
      histogram.enable();
      // The mean, not the max, over each interval: one long GC pause or SQLite checkpoint is not
      // overload; a loop that stays late is. Sampling on a timer keeps the per-request cost a boolean.
      let lastTick = performance.now();
      this.timer = setInterval(() => {
        const now = performance.now();
        // No sample at all (the histogram's own timer did not fire in the interval): this timer's
        // own lateness is then the delay.
        const meanMs = histogram.count > 0 ? histogram.mean / 1e6 - eventLoopResolutionMs : now - lastTick - eventLoopSampleIntervalMs;
        lastTick = now;
        this.lastDelayMs = Math.max(0, meanMs);
        this.lagging = this.lastDelayMs > settings.eventLoopDelayMaxMs;
        histogram.reset();
      }, eventLoopSampleIntervalMs);
      this.timer.unref();
      this.histogram = histogram;
    }
  }

  /** Client requests in flight now (for the gauge). */
  inFlightNow(): number {
    return this.inFlight;
  }

  /** The mean event-loop delay of the last sample interval, ms (0 when not measured). */
  eventLoopDelayMs(): number {
    return this.lastDelayMs;
  }

  /**
   * onRequest: true when the request may go on. A shed one is answered here. Requests a batch
   * injects (each of its ops) are not counted again: the batch counted once.
   */
  admit(request: FastifyRequest, reply: FastifyReply): boolean {
    if (!clientRoutes.has(request.routeOptions.url ?? '') || (request.raw as { isLightMyRequest?: boolean }).isLightMyRequest === true) return true;
    const reason: ShedReason | undefined = this.lagging ? 'event_loop' : this.inFlight >= this.settings.clientRequestsInFlightMax ? 'in_flight' : undefined;
    if (reason !== undefined) {
      this.onShed(reason);
      reply.header('retry-after', String(overloadRetryAfterSeconds));
      sendError(reply, 'overloaded');
      return false;
    }
    this.inFlight++;
    // 'close' comes once per response, whether it was sent or its connection went away first.
    reply.raw.once('close', () => this.inFlight--);
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.histogram?.disable();
  }
}
