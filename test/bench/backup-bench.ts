// Backup under write load (docs/api.md section 3, Backups): fills a 3-node cluster (N=3) with
// KVORUM_BENCH_BACKUP_MB of values through POST /batch, then runs a closed write load (w=2) and
// takes `kvorum admin backup` of n3 in the middle of it. Prints the backup's size and time and the
// write latency and rate before and during the backup.
// Run: npm run build && node --import tsx test/bench/backup-bench.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '../kit/http.js';
import { cliPath } from '../kit/paths.js';
import { runNode } from '../kit/run-node.js';
import { startCluster, type TestNode } from '../kit/test-cluster.js';

const totalMb = Number(process.env['KVORUM_BENCH_BACKUP_MB'] ?? 100);
const valueBytes = 1024;
const batchOps = 100;

async function fill(node: TestNode): Promise<number> {
  const batches = Math.ceil((totalMb * 1024 * 1024) / (valueBytes * batchOps));
  const value = Buffer.alloc(valueBytes, 7).toString('base64');
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      const b = next++;
      const ops = Array.from({ length: batchOps }, (_, i) => ({ op: 'put', key: `fill-${b}-${i}`, value, w: 'all' }));
      const res = await http('POST', `${node.url}/batch`, { body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' }, timeoutMs: 60_000 });
      if (res.status !== 200) throw new Error(`batch ${b}: ${res.status} ${res.text().slice(0, 200)}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return batches * batchOps;
}

/** A closed write load of 8 workers; latencies recorded per phase (the phase is read at each write's end). */
function load(nodes: readonly TestNode[], phase: () => string) {
  const latencies = new Map<string, number[]>();
  let stopped = false;
  let n = 0;
  const worker = async () => {
    while (!stopped) {
      const key = `load-${n++}`;
      const started = performance.now();
      const res = await http('PUT', `${nodes[n % nodes.length]!.url}/kv/${key}?w=2`, { body: Buffer.alloc(valueBytes, 1), timeoutMs: 10_000 }).catch(() => undefined);
      if (!res || res.status >= 300) continue;
      const list = latencies.get(phase()) ?? [];
      list.push(performance.now() - started);
      latencies.set(phase(), list);
    }
  };
  const done = Promise.all(Array.from({ length: 8 }, worker));
  return { latencies, stop: async () => ((stopped = true), await done) };
}

function summary(samples: number[] | undefined, seconds: number): string {
  if (!samples || samples.length === 0) return 'no writes';
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `${samples.length} writes, ${(samples.length / seconds).toFixed(0)}/s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
}

const cluster = await startCluster({ nodes: 3, extraArgs: ['--log-level', 'warn'] });
const dir = await mkdtemp(join(tmpdir(), 'kvorum-backup-bench-'));
try {
  const [n1, n2, n3] = cluster.nodes as [TestNode, TestNode, TestNode];
  const fillStarted = performance.now();
  const keys = await fill(n1);
  console.log(`filled ${keys} keys of ${valueBytes} bytes (${totalMb} MB) in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);
  let phase = 'before';
  const writes = load([n1, n2, n3], () => phase);
  await new Promise((resolve) => setTimeout(resolve, 5000)); // pacing: a baseline phase of 5 s
  phase = 'during';
  const started = performance.now();
  const run = await runNode([cliPath, 'admin', 'backup', '--url', n3.url, '--out', join(dir, 'n3.db')], { deadlineMs: 600_000 });
  const backupS = (performance.now() - started) / 1000;
  phase = 'after';
  await writes.stop();
  console.log(run.code === 0 ? run.stdout.toString().trim() : `backup failed: ${run.stderr}`);
  console.log(`backup (CLI run, download and checks included): ${backupS.toFixed(1)} s`);
  console.log(`writes before: ${summary(writes.latencies.get('before'), 5)}`);
  console.log(`writes during: ${summary(writes.latencies.get('during'), backupS)}`);
} finally {
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}
