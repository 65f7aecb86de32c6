// Scale bench (issue 13 point 5): is a node's cost flat as its data grows? For a small and a large
// key count it starts a cluster (N = node count, every node holds every key), stops it, loads the
// keys offline through the storage engine (scale-load.ts), then measures for each node the time
// from process spawn to /health 200, its RSS, its anti-entropy state, its database size, and the
// cluster's PUT (w=2) and GET (r=2) throughput with the same load generator as `npm run bench`.
//   npm run bench:scale -- [--keys 1000000] [--base-keys 10000] [--nodes 3] [--seconds 10] [--connections 64] [--warmup 3]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { merkleBranches, merkleLeaves } from '../../src/core/merkle.js';
import { Proc } from '../kit/proc.js';
import { startCluster, type TestCluster } from '../kit/test-cluster.js';
import { benchCli } from './cli.js';
import { resultMarker, type LoadResult, type LoadSpec } from './common.js';
import { loadedKey, loadKeys } from './scale-load.js';

const { flags, integer } = benchCli(
  {
    keys: { type: 'string', default: '1000000' },
    'base-keys': { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '1024' },
    'read-keys': { type: 'string', default: '200000' },
    warmup: { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h' },
  },
  'usage: npm run bench:scale -- [--keys N] [--base-keys N] [--nodes K] [--seconds S] [--connections C] [--value-bytes B] [--read-keys N] [--warmup S]',
);
const keys = integer('keys', flags.keys, 1);
const baseKeys = integer('base-keys', flags['base-keys'], 1);
const nodeCount = integer('nodes', flags.nodes, 1);
const seconds = integer('seconds', flags.seconds, 1);
const connections = integer('connections', flags.connections, 1);
const valueBytes = integer('value-bytes', flags['value-bytes'], 1);
const readKeys = integer('read-keys', flags['read-keys'], 1);
const warmup = integer('warmup', flags.warmup, 0);
const loadScript = fileURLToPath(new URL('./load.ts', import.meta.url));
const quorum = Math.floor(nodeCount / 2) + 1;

/** Bytes of one partition's anti-entropy state in memory (core/merkle.ts LeafTree): leaf hashes and counts, branches, root. */
const treeBytes = merkleLeaves * (8 + 4) + merkleBranches * 8 + 16;

interface Figures {
  readonly keys: number;
  readonly startMs: number[];
  readonly rssMiB: number[];
  readonly dbMiB: number;
  readonly leafIndexMiB: number | undefined;
  readonly aeStateKiB: number;
  readonly put: LoadResult;
  readonly get: LoadResult;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rate = (r: LoadResult) => r.ok / r.seconds;

function rssMiB(pid: number | undefined): number {
  const m = pid === undefined ? null : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Size of the database files of a node, and of the (partition, leaf, key, vhash) index if dbstat is compiled in. */
function diskUse(dataDir: string): { dbMiB: number; leafIndexMiB: number | undefined } {
  const files = ['kvorum.db', 'kvorum.db-wal'].map((f) => join(dataDir, f));
  const dbMiB = files.reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0) / 2 ** 20;
  const db = new Database(files[0]!, { readonly: true });
  try {
    const bytes = db.prepare<[], number>(`SELECT sum(pgsize) FROM dbstat WHERE name = 'objects_by_leaf'`).pluck().get();
    return { dbMiB, leafIndexMiB: bytes === undefined || bytes === null ? undefined : bytes / 2 ** 20 };
  } catch {
    return { dbMiB, leafIndexMiB: undefined };
  } finally {
    db.close();
  }
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let line: string | undefined;
  const child = new Proc(`load ${spec.method}`, ['--import', 'tsx', loadScript, JSON.stringify(spec)], {
    onLine: (l) => void (l.startsWith(resultMarker) && (line = l)),
  });
  const { code } = await child.closed;
  if (code !== 0 || line === undefined) throw new Error(`load ${spec.method} exited with code ${code}:\n${child.logs()}`);
  return JSON.parse(line.slice(resultMarker.length)) as LoadResult;
}

/** Keys the GET phase reads: a random sample of the loaded keys (not insertion order, which reads adjacent pages). */
function sampleKeys(count: number, file: string): void {
  const n = Math.min(count, readKeys);
  const picked = new Set<number>();
  while (picked.size < n) picked.add(Math.floor(Math.random() * count));
  writeFileSync(file, [...picked].map(loadedKey).join('\n') + '\n');
}

async function measure(count: number, tmp: string): Promise<Figures> {
  const cluster: TestCluster = await startCluster({ nodes: nodeCount, n: nodeCount, secret: randomBytes(16).toString('hex'), extraArgs: ['--log-level', 'warn'], healthDeadlineMs: 600_000 });
  try {
    for (const n of cluster.nodes) n.kill('SIGTERM');
    for (const n of cluster.nodes) await n.waitExit(30_000);
    const loadStart = performance.now();
    await loadKeys(cluster.nodes, count, valueBytes, (done) => process.stdout.write(`\r    loaded ${fmt(done)} keys into ${nodeCount} data dirs`));
    console.log(`\r    loaded ${fmt(count)} keys into ${nodeCount} data dirs in ${fmt((performance.now() - loadStart) / 1000, 1)} s`);
    const { dbMiB, leafIndexMiB } = diskUse(cluster.nodes[0]!.dataDir);
    const startMs: number[] = [];
    for (const n of cluster.nodes) {
      const t0 = performance.now();
      await n.restart(); // spawn, then GET /health every 100 ms until 200
      startMs.push(performance.now() - t0);
    }
    const rss = cluster.nodes.map((n) => rssMiB(n.pid()));
    const urls = cluster.nodes.map((n) => n.url);
    const base = { urls, connections, valueBytes };
    const readFile = join(tmp, `read-${count}.keys`);
    sampleKeys(count, readFile);
    // Unmeasured warm-up: JIT, connections and the failure detector's view after the restarts.
    if (warmup > 0) await runLoad({ ...base, seconds: warmup, method: 'PUT', query: `w=${quorum}`, keyPrefix: 'warm-' });
    const put = await runLoad({ ...base, seconds, method: 'PUT', query: `w=${quorum}`, keyPrefix: 'put-', keysOut: join(tmp, `put-${count}.keys`) });
    const get = await runLoad({ ...base, seconds, method: 'GET', query: `r=${quorum}`, keyPrefix: '', keysIn: readFile });
    for (const n of cluster.nodes) if (!n.running()) throw new Error(`${n.id} died:\n${n.logs()}`);
    return { keys: count, startMs, rssMiB: rss, dbMiB, leafIndexMiB, aeStateKiB: (64 * treeBytes) / 1024, put, get };
  } finally {
    await cluster.stop();
  }
}

function report(small: Figures, large: Figures): void {
  const row = (f: Figures) => [
    fmt(f.keys),
    f.startMs.map((ms) => fmt(ms)).join(' / '),
    f.rssMiB.map((m) => fmt(m)).join(' / '),
    fmt(f.aeStateKiB),
    fmt(f.dbMiB),
    f.leafIndexMiB === undefined ? '-' : fmt(f.leafIndexMiB, 1),
    fmt(rate(f.put)),
    fmt(rate(f.get)),
    `${fmt(f.put.p99, 1)} / ${fmt(f.get.p99, 1)}`,
  ];
  const rows = [['keys/node', 'start ms (per node)', 'RSS MiB after start', 'AE state KiB', 'db MiB/node', 'leaf index MiB', 'PUT/s', 'GET/s', 'p99 ms PUT/GET'], row(small), row(large)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log('  ' + r.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
  const startMax = Math.max(...large.startMs);
  const putRatio = rate(large.put) / rate(small.put);
  const getRatio = rate(large.get) / rate(small.get);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log(`\n  targets (issue 13 point 5):`);
  console.log(`    start-up at ${fmt(large.keys)} keys <= 3000 ms: ${fmt(startMax)} ms  ${verdict(startMax <= 3000)}`);
  console.log(`    AE state independent of keys: ${fmt(small.aeStateKiB)} KiB at ${fmt(small.keys)}, ${fmt(large.aeStateKiB)} KiB at ${fmt(large.keys)}  ${verdict(small.aeStateKiB === large.aeStateKiB)}`);
  console.log(`    PUT ${fmt(large.keys)}/${fmt(small.keys)} >= 0.8: ${fmt(putRatio, 2)}  ${verdict(putRatio >= 0.8)}`);
  console.log(`    GET ${fmt(large.keys)}/${fmt(small.keys)} >= 0.8: ${fmt(getRatio, 2)}  ${verdict(getRatio >= 0.8)}`);
}

async function main(): Promise<void> {
  console.log('kvorum scale bench');
  console.log(`  node ${process.version}, ${os.cpus().length} CPUs, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM`);
  console.log(`  ${nodeCount} nodes, N=${nodeCount} (every node holds every key), ${valueBytes}-byte values; PUT w=${quorum}, GET r=${quorum}, ${connections} connections, ${seconds}s per phase`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'kvorum-scale-'));
  try {
    console.log(`\n  ${fmt(baseKeys)} keys:`);
    const small = await measure(baseKeys, tmp);
    console.log(`  ${fmt(keys)} keys:`);
    const large = await measure(keys, tmp);
    console.log(`\n  AE state: ${merkleLeaves} leaf hashes + counts per partition, ${treeBytes} bytes each, 64 partitions (the default ring)\n`);
    report(small, large);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
