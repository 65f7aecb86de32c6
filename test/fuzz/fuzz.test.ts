// The seeded fuzzer against a real 3-node cluster, for about 30 s, then a TLS one with client tokens for about 20 s (KVORUM_FUZZ_SECONDS to change
// it; test/fuzz/README.md). The seed comes from KVORUM_FUZZ_SEED, or else from the clock; it is
// printed first, and the counts and findings at the end, so any run can be replayed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withLogs } from '../kit/test-cluster.js';
import { formatReport } from './report.js';
import { runFuzz, startFuzzCluster } from './runner.js';
import { makeFuzzSecurity, type FuzzSecurity } from './secure.js';
import { secondsFromEnv, seedFromEnv } from './seed.js';

const budgetSeconds = secondsFromEnv(30);
/** The secure cluster's run: shorter, since the plain run covers the same requests without tokens. */
const secureSeconds = Math.max(10, Math.round((budgetSeconds * 2) / 3));
/** A bound on the whole test, far above its budget: a hang fails instead of blocking the suite. */
const testTimeoutMs = budgetSeconds * 1000 + 150_000;

async function fuzzOnce(seconds: number, security: FuzzSecurity | undefined): Promise<void> {
  const startedAt = Date.now();
  const seed = seedFromEnv();
  const secure = security ? ' KVORUM_FUZZ_SECURE=1' : '';
  console.log(`kvorum fuzz: seed ${seed} (replay: KVORUM_FUZZ_SEED=${seed}${secure} node --import tsx --test test/fuzz/fuzz.test.ts)`);
  const cluster = await startFuzzCluster([], security);
  try {
    await withLogs(
      () => cluster.logs(),
      async () => {
        const report = await runFuzz(cluster, { seed, seconds, startedAt, log: (line) => console.log(`kvorum fuzz: ${line}`), ...(security ? { security } : {}) });
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
    await security?.dispose();
  }
}

// KVORUM_FUZZ_SECURE=1 runs only the secure cluster (to replay one of its seeds).
const secureOnly = process.env['KVORUM_FUZZ_SECURE'] === '1';

test(`fuzz a 3-node cluster with hostile requests for ~${budgetSeconds} s`, { timeout: testTimeoutMs, skip: secureOnly && 'KVORUM_FUZZ_SECURE=1' }, () =>
  fuzzOnce(budgetSeconds, undefined),
);

// The same over TLS (mutual between nodes) with an auth file: hostile tokens and TLS connections.
test(`fuzz a TLS cluster with client tokens for ~${secureSeconds} s`, { timeout: secureSeconds * 1000 + 150_000 }, () => fuzzOnce(secureSeconds, makeFuzzSecurity()));
