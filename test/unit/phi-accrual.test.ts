// The phi-accrual estimator (src/core/phi-accrual.ts) against simulated heartbeat times: where phi
// crosses 8 is computed here from the intervals' mean and deviation and checked against the detector.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvariantError } from '../../src/core/errors.js';
import { phiAcceptablePauseMs, phiStdDevMsMin, phiThresholdDefault, phiWindowSamplesMax } from '../../src/core/limits.js';
import { PhiAccrual, phiOfSilence } from '../../src/core/phi-accrual.js';
import { expectedCrossingMs as crossingOf, meanOf, seedsFor } from './phi-model.js';

/** The intervals the first heartbeat seeds (estimate 1000 ms, -/+ a quarter). */
const seeds = seedsFor(1000);

/** Silence after the last heartbeat (ms) where phi 8 is expected, from the intervals in the window. */
const expectedCrossingMs = (intervals: readonly number[], pauseMs = phiAcceptablePauseMs) => crossingOf(intervals, { pauseMs });

/** Heartbeats at `startMs` and then after each interval; returns the last heartbeat's time. */
function feed(detector: PhiAccrual, startMs: number, intervals: readonly number[]): number {
  let t = startMs;
  detector.heartbeat(t);
  for (const interval of intervals) detector.heartbeat((t += interval));
  return t;
}

/** Deterministic jitter: 1000 ms +/- up to 5 x `spreadMs` (a fixed pattern of 11 offsets). */
function jittered(count: number, spreadMs: number): number[] {
  return Array.from({ length: count }, (_, i) => 1000 + (((i * 7) % 11) - 5) * spreadMs);
}

/** First whole ms of silence at which the detector's phi reaches 8. */
function crossingMs(detector: PhiAccrual, lastMs: number): number {
  for (let s = 0; s < 100_000; s++) if (detector.phi(lastMs + s) >= phiThresholdDefault) return s;
  throw new Error('phi never reached 8');
}

describe('phiOfSilence', () => {
  it('is log10(2) at the mean, tiny well before it, and finite far beyond (where Akka reaches Infinity)', () => {
    assert.ok(Math.abs(phiOfSilence(2000, 2000, 100) - Math.log10(2)) < 1e-12);
    assert.ok(phiOfSilence(1000, 2000, 100) < 1e-30);
    const y = 30; // e^-z underflows here: Akka's -log10(e / (1 + e)) would be Infinity
    const far = phiOfSilence(2000 + y * 100, 2000, 100);
    assert.ok(Math.abs(far - (y * (1.5976 + 0.070566 * y * y)) / Math.LN10) < 1e-9, `phi ${far}`);
  });
});

describe('PhiAccrual', () => {
  it('is 0 before any heartbeat, and the first heartbeat seeds the window with 750 and 1250 ms', () => {
    const d = new PhiAccrual();
    assert.equal(d.phi(123_456), 0);
    assert.equal(d.isAvailable(123_456), true);
    d.heartbeat(10_000);
    assert.deepEqual([d.samples, d.meanMs(), d.stdDevMs()], [2, 1000, 250]);
  });

  it('regular heartbeats (1000 ms +/- 5 ms): phi stays near 0 after a heartbeat and crosses 8 about 2523 ms into a silence', () => {
    const intervals = jittered(60, 1);
    const d = new PhiAccrual();
    const last = feed(d, 5000, intervals);
    const window = [...seeds, ...intervals];
    assert.ok(d.phi(last) < 1e-30 && d.phi(last + 1000) < 1e-12, `phi ${d.phi(last + 1000)} 1 s after a heartbeat`);
    // At mean + acceptable pause the tail probability is 1/2.
    assert.ok(Math.abs(d.phi(last + meanOf(window) + phiAcceptablePauseMs) - Math.log10(2)) < 1e-9);
    let before = -1;
    for (let s = 0; s <= 6000; s += 10) {
      const phi = d.phi(last + s);
      assert.ok(phi >= before, `phi fell from ${before} to ${phi} at ${s} ms`);
      if (s > 2000) assert.ok(phi > before, `phi did not rise at ${s} ms`);
      before = phi;
    }
    const expected = expectedCrossingMs(window);
    const actual = crossingMs(d, last);
    assert.ok(Math.abs(actual - expected) <= 1, `crossed at ${actual} ms, expected ${expected}`);
    assert.ok(actual >= 2500 && actual <= 2560, `crossed at ${actual} ms`);
    assert.equal(d.isAvailable(last + actual - 1), true);
    assert.equal(d.isAvailable(last + actual), false);
  });

  it('a peer with irregular heartbeats (1000 ms +/- 400 ms) is suspected later than a regular one', () => {
    const regular = new PhiAccrual();
    const irregular = new PhiAccrual();
    const lastRegular = feed(regular, 0, jittered(60, 1));
    const lastIrregular = feed(irregular, 0, jittered(60, 80));
    const expected = expectedCrossingMs([...seeds, ...jittered(60, 80)]);
    const actual = crossingMs(irregular, lastIrregular);
    assert.ok(Math.abs(actual - expected) <= 1, `crossed at ${actual} ms, expected ${expected}`);
    const regularCrossing = crossingMs(regular, lastRegular);
    assert.ok(actual - regularCrossing > 700, `irregular ${actual} ms, regular ${regularCrossing} ms`);
    assert.ok(actual >= 3300 && actual <= 3360, `crossed at ${actual} ms`); // deviation 255 ms, about 2000 + 5.23 x 255
    // The same 2600 ms silence: phi about 10.8 for the regular peer (convicted), 2.0 for the irregular one.
    const [p1, p2] = [regular.phi(lastRegular + 2600), irregular.phi(lastIrregular + 2600)];
    assert.ok(p1 > 10 && p1 < 11.5 && p2 > 1.5 && p2 < 2.5, `regular ${p1}, irregular ${p2}`);
  });

  it('keeps a bounded window and adapts when heartbeats go from 1000 ms to 200 ms', () => {
    for (const pauseMs of [phiAcceptablePauseMs, 0]) {
      const d = new PhiAccrual({ acceptablePauseMs: pauseMs });
      let last = feed(d, 0, Array<number>(3 * phiWindowSamplesMax).fill(1000));
      assert.equal(d.samples, phiWindowSamplesMax);
      assert.equal(d.meanMs(), 1000); // the seeds have left the window
      // A silence of 1000 ms plus the pause is only as long as usual: phi log10(2).
      assert.ok(Math.abs(d.phi(last + 1000 + pauseMs) - Math.log10(2)) < 1e-9);
      for (let i = 0; i < phiWindowSamplesMax; i++) d.heartbeat((last += 200));
      assert.deepEqual([d.samples, d.meanMs(), d.stdDevMs()], [phiWindowSamplesMax, 200, phiStdDevMsMin]);
      // The same silence is now 8 deviations past the mean: suspicious.
      assert.ok(d.phi(last + 1000 + pauseMs) > 20, `phi ${d.phi(last + 1000 + pauseMs)} (pause ${pauseMs} ms)`);
      assert.equal(crossingMs(d, last), Math.ceil(expectedCrossingMs([200], pauseMs)));
    }
  });

  it('keeps its sums exact: a gap of 10^9 ms leaves no rounding behind once it has left the window', () => {
    const d = new PhiAccrual({ windowSamplesMax: 10, stdDevMsMin: 1e-3 });
    let t = feed(d, 0, [1e9]);
    for (let i = 0; i < 100; i++) d.heartbeat((t += i % 2 === 0 ? 999.7 : 1000.3));
    // Without recomputing, adding and removing 10^18 in the sum of squares (a unit in the last
    // place is 128) leaves a variance of about 2.4 ms^2 where the true one is 0.09.
    assert.ok(Math.abs(d.meanMs() - 1000) < 1e-9, `mean ${d.meanMs()}`);
    assert.ok(Math.abs(d.stdDevMs() - 0.3) < 1e-6, `deviation ${d.stdDevMs()}`);
  });

  it('refuses heartbeat times that go backwards or are not numbers; a phi asked for before the last heartbeat is 0-ish', () => {
    const d = new PhiAccrual();
    d.heartbeat(1000);
    d.heartbeat(1000); // two replies in the same ms: an interval of 0
    assert.throws(() => d.heartbeat(999), InvariantError);
    assert.throws(() => d.heartbeat(Number.NaN), InvariantError);
    assert.equal(d.samples, 3);
    assert.equal(d.phi(500), d.phi(1000));
    assert.throws(() => new PhiAccrual({ windowSamplesMax: 1 }), InvariantError);
  });

  it('phi never decreases as time passes between heartbeats (random interval sequences)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 2, max: 16 }),
        (intervals, offsets, windowSamplesMax) => {
          const d = new PhiAccrual({ windowSamplesMax });
          const last = feed(d, 1_000_000, intervals);
          let before = 0;
          for (const offset of [...offsets].sort((a, b) => a - b)) {
            const phi = d.phi(last + offset);
            if (!(phi >= before && Number.isFinite(phi))) return false;
            before = phi;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});
