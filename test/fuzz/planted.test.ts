// The fuzzer can fail: with the bug issue 10 fixed planted back into the built node (internal RPC
// bodies used unchecked, see planted/skip-rpc-validation.mjs), a short run must report it, as a
// node crash or an internal error or a malformed message answered 200.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLogs } from '../kit/test-cluster.js';
import { formatReport } from './report.js';
import { runFuzz, startFuzzCluster } from './runner.js';
import { seedFromEnv } from './seed.js';

const budgetSeconds = 15;
const plant = fileURLToPath(new URL('./planted/skip-rpc-validation.mjs', import.meta.url));

test('the fuzzer catches a planted bug: internal RPC without schema validation', { timeout: budgetSeconds * 1000 + 150_000 }, async () => {
  const startedAt = Date.now();
  const seed = seedFromEnv();
  console.log(`kvorum fuzz (planted bug): seed ${seed} (replay: KVORUM_FUZZ_SEED=${seed} node --import tsx --test test/fuzz/planted.test.ts)`);
  const cluster = await startFuzzCluster(['--import', plant]);
  try {
    await withLogs(
      () => cluster.logs(),
      async () => {
        const report = await runFuzz(cluster, { seed, seconds: budgetSeconds, startedAt });
        console.log(formatReport(report));
        const rpcFindings = report.findings.filter((f) => f.family === 'rpc' || f.check === 'node-crash');
        assert.ok(rpcFindings.length > 0, `no finding about internal RPC with the planted bug (seed ${seed})`);
      },
    );
  } finally {
    await cluster.stop();
  }
});
