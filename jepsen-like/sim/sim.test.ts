// The simulator's own tests: a seed must replay to the same history, a seed that changes membership
// must settle on its new ring, and a deliberately broken kvorum (a mutation) must be caught within
// a few seeds.
// Run: node --import tsx --test jepsen-like/sim/sim.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mutation } from './mutations.js';
import { runSim, type SimOptions } from './run.js';

/** Per seed: up to 2000 operations over one simulated minute of faults, then healing. */
const sweepOptions = { opsMax: 2000, safetyMs: 60_000 } as const;
const mutationSeedsMax = 20;
const durabilityChecks = ['acked-write-durable', 'acked-write-stays-durable', 'set', 'dot-names-one-write'];
/** Membership seeds are 30% of seeds; only they move partitions, so only they can catch early-switch. */
const earlySwitchSeedsMax = 100;
/**
 * A 3-node seed whose membership changes cover join, the removal of the claimant once it died for
 * good (another node takes over), and replace, in two rounds, under kills, pauses and partitions.
 */
const membershipSeed = 39;
const membershipSeedFinal = /^n1:removed n2:removed n3:valid n4:valid n5:valid$/;

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
    // Half a sweep seed's length: the same seeds lose writes (3 is the first of 1..20), in half the time.
    const report = await runSim({ seed, mutation: 'lying-replica', ignoreChecks, opsMax: 1000, safetyMs: 30_000 });
    if (report.verdict === 'ok') continue;
    assert.equal(report.failure?.check, 'set', `seed ${seed}: ${report.failure?.message}`);
    assert.match(report.failure?.message ?? '', /acknowledged add\(s\) lost/);
    console.log(`# lying-replica: lost writes found by the set checker at seed ${seed}`);
    return;
  }
  assert.fail(`no lost write in seeds 1..${mutationSeedsMax}`);
});

test(`mutation ttl-dropped (replicas lose a value's expiry) is caught within ${mutationSeedsMax} seeds`, async () => {
  for (let seed = 1; seed <= mutationSeedsMax; seed++) {
    const report = await runSim({ seed, mutation: 'ttl-dropped', ...sweepOptions });
    if (report.verdict === 'ok') continue;
    assert.equal(report.verdict, 'safety', `seed ${seed}: ${report.failure?.message}`);
    // Before the ack the copies already differ (dot-names-one-write); after it, from the acknowledged expiry (expiry-kept).
    assert.ok(['expiry-kept', 'dot-names-one-write'].includes(report.failure?.check ?? ''), `seed ${seed}: ${report.failure?.check}: ${report.failure?.message}`);
    console.log(`# ttl-dropped: caught by seed ${seed}, check ${report.failure?.check}`);
    return;
  }
  assert.fail(`ttl-dropped went unnoticed by seeds 1..${mutationSeedsMax}`);
});

test('a broken core invariant is reported as a bug, with the seed to replay it', async () => {
  const report = await runSim({ seed: 1, mutation: 'uncovered-sibling', ...sweepOptions });
  assert.equal(report.verdict, 'safety');
  assert.equal(report.failure?.check, 'bug', report.failure?.message);
  assert.match(report.failure?.message ?? '', /InvariantError: dvv: (sync|update) produced an object not in normal form/);
  assert.equal(report.seed, 1);
});

test('a membership seed joins, removes a dead node for good and replaces another under faults, settles on the new ring, and replays', async () => {
  const options: SimOptions = { seed: membershipSeed, membership: 'always', ...sweepOptions };
  const a = await runSim(options);
  assert.equal(a.verdict, 'ok', a.failure?.message);
  const events = a.membership.map((e) => e.what);
  for (const step of ['register n4', 'n1 dies for good', 'stage remove n1', 'register n5', 'stage replace n2 by n5', 'commit']) {
    assert.ok(events.some((e) => e.includes(step)), `${step} in ${JSON.stringify(events)}`);
  }
  assert.ok(a.convergenceMs !== null && a.finalMembers !== undefined, 'settled and converged');
  assert.match(a.finalMembers!, membershipSeedFinal);
  const b = await runSim(options);
  assert.equal(a.hash, b.hash);
  assert.deepEqual(a.membership, b.membership);
});

test(`mutation early-switch (ownership moves before the data) is caught within ${earlySwitchSeedsMax} seeds`, async () => {
  for (let seed = 1; seed <= earlySwitchSeedsMax; seed++) {
    const report = await runSim({ seed, mutation: 'early-switch', ...sweepOptions });
    if (report.verdict === 'ok') continue;
    assert.equal(report.verdict, 'safety', `seed ${seed}: ${report.failure?.message}`);
    assert.ok(report.membership.length > 0, `seed ${seed} changes membership`);
    assert.equal(report.failure?.check, 'transfer-complete', `seed ${seed}: ${report.failure?.message}`);
    assert.match(report.failure?.message ?? '', /ownership moved before the data/);
    console.log(`# early-switch: caught by seed ${seed}`);
    return;
  }
  assert.fail(`early-switch went unnoticed by seeds 1..${earlySwitchSeedsMax}`);
});
