// The simulator's sweep: 200 seeds, each up to 3000 client operations over 90 simulated seconds
// of faults, then healing, must all pass every check. About 30% of them change membership (joins,
// leaves, replacements, removals of dead nodes) under those faults. It uses every core (one child
// process per core), so scripts/run-tests.mjs runs it after the other tests, alone.
// Run: node --import tsx --test jepsen-like/sim/sweep.solo.test.ts
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { runSim } from './run.js';
import { sweep, type SweepOptions } from './sweep.js';

const seedCount = 200;
const options: SweepOptions = { opsMax: 3000, safetyMs: 90_000 };
/** Some seeds end at safetyMs before opsMax (faults slow the clients); the average stays above this. */
const opsPerSeedMin = 2000;
/** Seeds that change membership: 30% are drawn, so about 60 of 200. */
const membershipSeedsMin = 40;

test(`${seedCount} seeds with faults: no safety or liveness failure, and replays match`, async () => {
  const started = performance.now();
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
  const results = await sweep(seeds, availableParallelism(), options);
  const wallS = (performance.now() - started) / 1000;
  const ops = results.reduce((sum, r) => sum + r.ops.invoked, 0);
  const membership = results.filter((r) => r.membership.length > 0).map((r) => r.seed);
  console.log(`# ${results.length} seeds, ${ops} operations in ${wallS.toFixed(1)} s (${Math.round(ops / wallS)} simulated ops/s on ${availableParallelism()} cores)`);
  console.log(`# ${membership.length} seeds changed membership: ${membership.join(' ')}`);

  assert.equal(results.length, seedCount);
  const failures = results.filter((r) => r.verdict !== 'ok').map((r) => `seed ${r.seed}: ${r.verdict} ${r.failure?.check}: ${r.failure?.message}`);
  assert.deepEqual(failures, [], 'reproduce one with: npm run sim -- --seed S --ops 3000 --time 90');
  assert.ok(ops / seedCount >= opsPerSeedMin, `only ${ops / seedCount} operations per seed`);
  assert.ok(membership.length >= membershipSeedsMin, `only ${membership.length} seeds changed membership`);

  // A seed replayed in this process gives the history its sweep child gave.
  for (const seed of [1, 100, 200]) {
    const again = await runSim({ seed, ...options });
    assert.equal(again.hash, results.find((r) => r.seed === seed)?.hash, `seed ${seed} replays to the same history`);
  }
});
