// The phi-accrual model worked out by hand, for tests: where phi crosses a threshold, computed from
// the intervals' mean and deviation (src/core/phi-accrual.ts is checked against it, not against itself).
import { phiAcceptablePauseMs, phiStdDevMsMin, phiThresholdDefault } from '../../src/core/limits.js';

export function meanOf(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function stdDevOf(xs: readonly number[]): number {
  const m = meanOf(xs);
  return Math.sqrt(meanOf(xs.map((x) => (x - m) ** 2)));
}

/**
 * y where the logistic tail gives phi `threshold`: z = y (1.5976 + 0.070566 y^2) = threshold x ln 10
 * (log1p(e^-z), about 1e-8 at phi 8, neglected), by bisection. About 5.23 for 8; the exact normal
 * tail would give 5.61, so the approximation suspects about 0.4 deviations earlier than the true
 * distribution would.
 */
export function yAtPhi(threshold: number = phiThresholdDefault): number {
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (mid * (1.5976 + 0.070566 * mid * mid) < threshold * Math.LN10) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface ModelOptions {
  readonly pauseMs?: number;
  readonly stdDevMsMin?: number;
  readonly threshold?: number;
}

/** Silence after the last heartbeat (ms) where phi reaches the threshold, from the intervals in the window. */
export function expectedCrossingMs(intervals: readonly number[], opts: ModelOptions = {}): number {
  const { pauseMs = phiAcceptablePauseMs, stdDevMsMin = phiStdDevMsMin, threshold = phiThresholdDefault } = opts;
  return meanOf(intervals) + pauseMs + yAtPhi(threshold) * Math.max(stdDevOf(intervals), stdDevMsMin);
}

/** The two intervals a first heartbeat seeds the window with, for a first-interval estimate. */
export const seedsFor = (estimateMs: number): number[] => [estimateMs - estimateMs / 4, estimateMs + estimateMs / 4];
