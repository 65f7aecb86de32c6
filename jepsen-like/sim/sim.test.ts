// The simulator's own tests: a seed must replay to the same history, and a deliberately broken
// kvorum (a mutation) must be caught within a few seeds.
// Run: node --import tsx --test jepsen-like/sim/sim.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mutation } from './mutations.js';
import { runSim, type SimOptions } from './run.js';

/** Per seed: up to 2000 operations over one simulated minute of faults, then healing. */
const sweepOptions = { opsMax: 2000, safetyMs: 60_000 } as const;
const mutationSeedsMax = 20;
const durabilityChecks = ['acked-write-durable', 'acked-write-stays-durable', 'set', 'dot-names-one-write'];

// The 200-seed sweep is in sweep.solo.test.ts: it uses every core, so it runs after the other tests.

test('the same seed gives a byte-identical history; different seeds differ', async () => {
  const options: Omit<SimOptions, 'seed'> = { opsMax: 600, safetyMs: 20_000 };
  const a = await runSim({ seed: 4242, ...options });
  const b = await runSim({ seed: 4242, ...options });
  const c = await runSim({ seed: 4243, ...options });
  assert.equal(a.verdict, 'ok', a.failure?.message);
  assert.ok(a.ops.invoked > 0 && a.faults.length > 0);
  assert.equal(a.hash, b.hash);
  assert.deepEqual(a.faults, b.faults);
  assert.equal(a.events, b.events);
  assert.notEqual(a.hash, c.hash);
});

const durabilityMutations: Mutation[] = ['ack-before-commit', 'lying-replica'];

for (const mutation of durabilityMutations) {
  test(`mutation ${mutation} is caught within ${mutationSeedsMax} seeds`, async () => {
    for (let seed = 1; seed <= mutationSeedsMax; seed++) {
      const report = await runSim({ seed, mutation, ...sweepOptions });
      if (report.verdict === 'ok') continue;
      assert.equal(report.verdict, 'safety', `seed ${seed}: ${report.failure?.message}`);
      // Caught for what it breaks (durability of acknowledged writes), not for something else.
      assert.ok(durabilityChecks.includes(report.failure?.check ?? ''), `seed ${seed}: ${report.failure?.check}: ${report.failure?.message}`);
      console.log(`# ${mutation}: caught by seed ${seed}, check ${report.failure?.check}`);
      return;
    }
    assert.fail(`${mutation} went unnoticed by seeds 1..${mutationSeedsMax}`);
  });
}

test('the checkers alone (no durability invariant) see lying replicas lose acknowledged writes', async () => {
  for (let seed = 1; seed <= mutationSeedsMax; seed++) {
    const ignoreChecks = ['acked-write-durable', 'acked-write-stays-durable'];
    // Half a sweep seed's length: the same seeds lose writes (10, 15, 19 of 1..20), in half the time.
    const report = await runSim({ seed, mutation: 'lying-replica', ignoreChecks, opsMax: 1000, safetyMs: 30_000 });
    if (report.verdict === 'ok') continue;
    assert.equal(report.failure?.check, 'set', `seed ${seed}: ${report.failure?.message}`);
    assert.match(report.failure?.message ?? '', /acknowledged add\(s\) lost/);
    console.log(`# lying-replica: lost writes found by the set checker at seed ${seed}`);
    return;
  }
  assert.fail(`no lost write in seeds 1..${mutationSeedsMax}`);
});

test('a broken core invariant is reported as a bug, with the seed to replay it', async () => {
  const report = await runSim({ seed: 1, mutation: 'uncovered-sibling', ...sweepOptions });
  assert.equal(report.verdict, 'safety');
  assert.equal(report.failure?.check, 'bug', report.failure?.message);
  assert.match(report.failure?.message ?? '', /InvariantError: dvv: (sync|update) produced an object not in normal form/);
  assert.equal(report.seed, 1);
});
