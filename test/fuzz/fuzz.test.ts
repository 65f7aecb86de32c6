// The seeded fuzzer against a real 3-node cluster, for about 30 s (KVORUM_FUZZ_SECONDS to change
// it; test/fuzz/README.md). The seed comes from KVORUM_FUZZ_SEED, or else from the clock; it is
// printed first, and the counts and findings at the end, so any run can be replayed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withLogs } from '../kit/test-cluster.js';
import { formatReport } from './report.js';
import { runFuzz, startFuzzCluster } from './runner.js';
import { secondsFromEnv, seedFromEnv } from './seed.js';

const budgetSeconds = secondsFromEnv(30);
/** A bound on the whole test, far above its budget: a hang fails instead of blocking the suite. */
const testTimeoutMs = budgetSeconds * 1000 + 150_000;

test(`fuzz a 3-node cluster with hostile requests for ~${budgetSeconds} s`, { timeout: testTimeoutMs }, async () => {
  const startedAt = Date.now();
  const seed = seedFromEnv();
  console.log(`kvorum fuzz: seed ${seed} (replay: KVORUM_FUZZ_SEED=${seed} node --import tsx --test test/fuzz/fuzz.test.ts)`);
  const cluster = await startFuzzCluster();
  try {
    await withLogs(
      () => cluster.logs(),
      async () => {
        const report = await runFuzz(cluster, { seed, seconds: budgetSeconds, startedAt, log: (line) => console.log(`kvorum fuzz: ${line}`) });
        console.log(formatReport(report));
        assert.equal(
          report.findings.length,
          0,
          `the fuzzer found ${report.findings.length} distinct problem(s) with seed ${seed}: ${report.findings.map((f) => f.summary).join('; ')}`,
        );
      },
    );
  } finally {
    await cluster.stop();
  }
});
