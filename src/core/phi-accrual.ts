// Phi-accrual failure detection for one peer (Hayashibara, Defago, Yared, Katayama, "The phi
// accrual failure detector", SRDS 2004). Instead of a yes/no verdict it gives a suspicion level phi
// = -log10(P(a heartbeat arrives later than now)), estimated from the peer's recent inter-arrival
// intervals: phi 8 means a one-in-10^8 chance that a live peer would be this late.
//
// The model follows Akka's PhiAccrualFailureDetector (akka-remote, after the paper): intervals are
// taken as normally distributed, with the mean shifted by an acceptable heartbeat pause and the
// deviation bounded below; the normal tail uses the logistic approximation Akka uses (Bowling et
// al., 2009). Cassandra's FailureDetector instead assumes exponential intervals, so its phi is
// elapsed / mean and ignores the variance. The normal model is chosen because kvorum's heartbeats
// are a regular probe (a 1 s ping): their variance is what tells a jittery link from a dead peer,
// and a peer with irregular heartbeats should take longer to be suspected.
//
// Before the first heartbeat phi is 0 (a peer not yet heard of deserves a try, as in
// failure-detector.ts). The first heartbeat seeds the window, as Akka does, with two intervals
// estimate -/+ estimate / 4 (mean: the estimate, deviation: a quarter of it); the seeds leave the
// window once it has turned over. Every interval is recorded, long ones too (as Akka, unlike
// Cassandra, which drops those above fd_max_interval): see the caveat in recordInterval.
//
// Times are monotonic ms passed in by the caller: the core has no clock of its own.
import { invariant } from './assert.js';
import { phiAcceptablePauseMs, phiFirstIntervalEstimateMs, phiStdDevMsMin, phiThresholdDefault, phiWindowSamplesMax } from './limits.js';

export interface PhiAccrualOptions {
  readonly windowSamplesMax: number;
  readonly stdDevMsMin: number;
  readonly acceptablePauseMs: number;
  readonly firstIntervalEstimateMs: number;
}

export const phiAccrualDefaults: PhiAccrualOptions = {
  windowSamplesMax: phiWindowSamplesMax,
  stdDevMsMin: phiStdDevMsMin,
  acceptablePauseMs: phiAcceptablePauseMs,
  firstIntervalEstimateMs: phiFirstIntervalEstimateMs,
};

/**
 * phi for a silence of `elapsedMs` when intervals are normal with this mean and deviation:
 * -log10(1 - cdf(y)), y = (elapsed - mean) / deviation, with Akka's logistic approximation
 * 1 - cdf(y) ~ 1 / (1 + e^z), z = y (1.5976 + 0.070566 y^2). So phi = log10(1 + e^z), computed as a
 * stable softplus: for large z, e^z would overflow (Akka's -log10(e / (1 + e)) reaches Infinity
 * once e^-z underflows, near y = 21); here phi stays finite and increasing in elapsed.
 */
export function phiOfSilence(elapsedMs: number, meanMs: number, stdDevMs: number): number {
  invariant(stdDevMs > 0, () => `phi: deviation ${stdDevMs} is not positive`);
  const y = (elapsedMs - meanMs) / stdDevMs;
  const z = y * (1.5976 + 0.070566 * y * y);
  const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return softplus / Math.LN10;
}

/** One peer's heartbeat history: a bounded ring of intervals, with their sum and sum of squares. */
export class PhiAccrual {
  private readonly options: PhiAccrualOptions;
  private readonly intervals: Float64Array;
  /** Where the next interval goes; the oldest one when the ring is full. */
  private head = 0;
  private count = 0;
  private sumMs = 0;
  private sumSquaresMs2 = 0;
  private lastHeartbeatMs: number | undefined;

  constructor(options: Partial<PhiAccrualOptions> = {}) {
    const o = { ...phiAccrualDefaults, ...options };
    // Two: the first heartbeat seeds two intervals.
    invariant(Number.isInteger(o.windowSamplesMax) && o.windowSamplesMax >= 2, () => `phi: window of ${o.windowSamplesMax} samples`);
    invariant(o.stdDevMsMin > 0 && o.acceptablePauseMs >= 0 && o.firstIntervalEstimateMs > 0, () => `phi: options ${JSON.stringify(o)}`);
    this.options = o;
    this.intervals = new Float64Array(o.windowSamplesMax);
  }

  /** A sign of life from the peer (a heartbeat, a reply) at monotonic time `nowMs`. */
  heartbeat(nowMs: number): void {
    invariant(Number.isFinite(nowMs), () => `phi: heartbeat at ${nowMs}`);
    const last = this.lastHeartbeatMs;
    invariant(last === undefined || nowMs >= last, () => `phi: heartbeat at ${nowMs} ms is before the previous one at ${last} ms`);
    if (last === undefined) {
      const estimate = this.options.firstIntervalEstimateMs;
      this.recordInterval(estimate - estimate / 4);
      this.recordInterval(estimate + estimate / 4);
    } else {
      this.recordInterval(nowMs - last);
    }
    this.lastHeartbeatMs = nowMs;
  }

  /**
   * Suspicion at `nowMs`: 0 before the first heartbeat. A `nowMs` read before the latest heartbeat
   * was recorded (a caller's earlier clock reading) counts as no silence, not as a bug.
   */
  phi(nowMs: number): number {
    if (this.lastHeartbeatMs === undefined) return 0;
    const elapsedMs = Math.max(0, nowMs - this.lastHeartbeatMs);
    return phiOfSilence(elapsedMs, this.meanMs() + this.options.acceptablePauseMs, this.stdDevMs());
  }

  /** Whether the peer is believed alive at `nowMs`: phi below the threshold (Cassandra's 8). */
  isAvailable(nowMs: number, threshold: number = phiThresholdDefault): boolean {
    return this.phi(nowMs) < threshold;
  }

  /** Intervals held (for tests and status): at most the window size. */
  get samples(): number {
    return this.count;
  }

  /** Mean of the intervals held (ms); the first-heartbeat estimate before any. */
  meanMs(): number {
    return this.count === 0 ? this.options.firstIntervalEstimateMs : this.sumMs / this.count;
  }

  /** Population deviation of the intervals held (ms), never below the minimum. */
  stdDevMs(): number {
    if (this.count === 0) return this.options.stdDevMsMin;
    const mean = this.sumMs / this.count;
    // Clamped at 0: the sums' rounding can leave a tiny negative variance.
    const variance = Math.max(0, this.sumSquaresMs2 / this.count - mean * mean);
    return Math.max(Math.sqrt(variance), this.options.stdDevMsMin);
  }

  /**
   * O(1) amortized: the newest interval replaces the oldest once the window is full. Each time the
   * ring wraps, the sums are recomputed from it (one pass per window), so rounding cannot drift.
   * Caveat: the gap spanning an outage is recorded like any other and inflates mean and deviation
   * (slower suspicion) until a window has passed; whoever feeds this may start a returning peer afresh.
   */
  private recordInterval(intervalMs: number): void {
    const max = this.intervals.length;
    if (this.count === max) {
      const oldest = this.intervals[this.head] ?? 0;
      this.sumMs -= oldest;
      this.sumSquaresMs2 -= oldest * oldest;
    } else {
      this.count++;
    }
    this.intervals[this.head] = intervalMs;
    this.sumMs += intervalMs;
    this.sumSquaresMs2 += intervalMs * intervalMs;
    this.head = (this.head + 1) % max;
    if (this.head === 0) this.recomputeSums();
    invariant(this.count <= max && this.count >= 1, () => `phi: ${this.count} samples in a window of ${max}`);
  }

  private recomputeSums(): void {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < this.count; i++) {
      const v = this.intervals[i] ?? 0;
      sum += v;
      squares += v * v;
    }
    this.sumMs = sum;
    this.sumSquaresMs2 = squares;
  }
}
