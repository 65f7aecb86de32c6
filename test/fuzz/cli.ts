// npm run fuzz -- [--seed S] [--seconds T] [--workers W] [--replay W.I[,W.I...]]
// Starts a 3-node cluster, fuzzes it (or sends just the named cases of seed S), prints the
// summary and every finding. Exit codes: 0 no findings, 1 findings, 2 bad usage or harness error.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { withLogs } from '../kit/test-cluster.js';
import { formatReport } from './report.js';
import { requestDeadlineMsDefault, runFuzz, startFuzzCluster, workersDefault } from './runner.js';
import { parseSeed, seedFromEnv } from './seed.js';

const help = `kvorum fuzzer (test/fuzz/README.md)

  npm run fuzz -- [--seed S] [--seconds T] [--workers W]   fuzz for T seconds (default 30)
  npm run fuzz -- --seed S --replay W.I[,W.I...]           send only these cases of seed S

  --seed S        the run's seed (default: KVORUM_FUZZ_SEED, else the clock)
  --seconds T     the whole run's budget, cluster start and final checks included
  --workers W     concurrent workers (default ${workersDefault})
  --deadline-ms D each request's deadline (default ${requestDeadlineMsDefault})
  --replay LIST   cases W.I (worker W's I-th case) as printed with a finding
  --requests-log F write every request sent (case, family, method, path, node, answers) to F as JSON lines

Exit codes: 0 no findings, 1 findings, 2 bad usage or harness error.`;

function positive(raw: string, name: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function parseReplay(raw: string): { worker: number; index: number }[] {
  return raw.split(',').map((item) => {
    const m = /^([0-9]+)\.([0-9]+)$/.exec(item.trim());
    if (!m) throw new Error(`--replay takes W.I[,W.I...], got ${JSON.stringify(item)}`);
    return { worker: Number(m[1]), index: Number(m[2]) };
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      seconds: { type: 'string', default: '30' },
      workers: { type: 'string', default: String(workersDefault) },
      'deadline-ms': { type: 'string', default: String(requestDeadlineMsDefault) },
      replay: { type: 'string' },
      'requests-log': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const startedAt = Date.now();
  const seed = values.seed !== undefined ? parseSeed(values.seed) : seedFromEnv();
  const seconds = positive(values.seconds, 'seconds');
  const workers = positive(values.workers, 'workers');
  const requestDeadlineMs = positive(values['deadline-ms'], 'deadline-ms');
  const replay = values.replay !== undefined ? parseReplay(values.replay) : undefined;
  console.log(`kvorum fuzz: seed ${seed}${replay ? `, replaying ${values.replay}` : `, ${seconds} s, ${workers} workers`}`);
  const cluster = await startFuzzCluster();
  try {
    const report = await withLogs(
      () => cluster.logs(),
      () => runFuzz(cluster, { seed, seconds, startedAt, workers, requestDeadlineMs, ...(replay ? { replay } : {}), log: (line) => console.log(`kvorum fuzz: ${line}`) }),
    );
    console.log(formatReport(report, Infinity));
    const logFile = values['requests-log'];
    if (logFile !== undefined) {
      writeFileSync(logFile, report.stats.log.map((r) => JSON.stringify(r)).join('\n') + '\n');
      console.log(`${report.stats.log.length} requests written to ${logFile}`);
    }
    if (report.findings.length > 0) console.log(`\n--- recent node output ---\n${cluster.logs().split('\n').slice(-60).join('\n')}`);
    return report.findings.length > 0 ? 1 : 0;
  } finally {
    await cluster.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(2);
  },
);
