// Listing bench (issue 14 point 3): does a node hold at most one page while a large key space is
// listed? Starts the HTTP bench's 3-node cluster (N=3), writes --keys keys (w=all, concurrently),
// then lists them all with --limit per page, twice: r=one through n1 (it reads its own copy) and
// r=all through n2 (every node scans its copy for every page). While each listing runs it samples
// every node's RSS (/proc/PID/status VmRSS) and V8 heap (/metrics nodejs_heap_size_used_bytes), and
// prints keys listed, pages, time and per node RSS and heap before / peak / after. It fails unless
// every key written was listed exactly once, and nothing else.
//   npm run bench:list -- [--keys 100000] [--limit 1000] [--value-bytes 1024] [--concurrency 64]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Agent, fetch } from 'undici';
import type { TestNode } from '../kit/test-cluster.js';
import { startKvorum } from './bench-kvorum.js';
import { cleanup, installCleanupHandlers } from './bench-procs.js';
import { benchCli } from './cli.js';

const { flags, integer } = benchCli(
  {
    keys: { type: 'string', default: '100000' },
    limit: { type: 'string', default: '1000' },
    'value-bytes': { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '64' },
    help: { type: 'boolean', short: 'h' },
  },
  'usage: npm run bench:list -- [--keys N] [--limit L (1..1000)] [--value-bytes B] [--concurrency C]',
);
const keyCount = integer('keys', flags.keys, 1);
const limit = integer('limit', flags.limit, 1);
const valueBytes = integer('value-bytes', flags['value-bytes'], 0);
const concurrency = integer('concurrency', flags.concurrency, 1);
const sampleEveryMs = 20;
const heapEveryMs = 250;

const dispatcher = new Agent({ connections: concurrency, pipelining: 1 });
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => bytes / 2 ** 20;
const keyOf = (i: number) => `list-bench/${String(i).padStart(7, '0')}`;

function rssBytes(pid: number | undefined): number {
  const m = pid === undefined ? null : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function heapBytes(node: TestNode): Promise<number> {
  const res = await fetch(`${node.url}/metrics`, { dispatcher, signal: AbortSignal.timeout(5000) });
  const m = /^nodejs_heap_size_used_bytes(?:{[^}]*})? (\S+)$/m.exec(await res.text());
  return m ? Number(m[1]) : NaN;
}

async function writeKeys(nodes: readonly TestNode[]): Promise<void> {
  const value = Buffer.alloc(valueBytes, 0x61);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keyCount; i = next++) {
      const url = `${nodes[i % nodes.length]!.url}/kv/${encodeURIComponent(keyOf(i))}?w=all`;
      const res = await fetch(url, { method: 'PUT', body: value, headers: { 'content-type': 'application/octet-stream' }, dispatcher, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`PUT ${keyOf(i)}: ${res.status}`);
      if (i % 5000 === 0) process.stdout.write(`\r  writing: ${fmt(i)} / ${fmt(keyCount)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  process.stdout.write(`\r  writing: ${fmt(keyCount)} / ${fmt(keyCount)}\n`);
}

interface MemorySeries {
  before: number;
  peak: number;
  after: number;
}

/** Samples each node's RSS (every sampleEveryMs) and heap (every heapEveryMs) while `work` runs. */
async function sampled<T>(nodes: readonly TestNode[], work: () => Promise<T>): Promise<{ result: T; rss: MemorySeries[]; heap: MemorySeries[] }> {
  const rss = nodes.map((n) => ({ before: rssBytes(n.pid()), peak: 0, after: 0 }));
  const heap = await Promise.all(nodes.map(async (n) => ({ before: await heapBytes(n), peak: 0, after: 0 })));
  for (const s of [...rss, ...heap]) s.peak = s.before;
  const rssTimer = setInterval(() => nodes.forEach((n, i) => (rss[i]!.peak = Math.max(rss[i]!.peak, rssBytes(n.pid())))), sampleEveryMs);
  const heapTimer = setInterval(() => {
    nodes.forEach((n, i) => void heapBytes(n).then((b) => (heap[i]!.peak = Math.max(heap[i]!.peak, b)), () => undefined));
  }, heapEveryMs);
  try {
    const result = await work();
    return { result, rss, heap };
  } finally {
    clearInterval(rssTimer);
    clearInterval(heapTimer);
    nodes.forEach((n, i) => {
      rss[i]!.after = rssBytes(n.pid());
      rss[i]!.peak = Math.max(rss[i]!.peak, rss[i]!.after);
    });
    await Promise.all(nodes.map(async (n, i) => (heap[i]!.after = await heapBytes(n))));
    heap.forEach((h) => (h.peak = Math.max(h.peak, h.after)));
  }
}

/** Lists every key through `node` with `r`; checks each page's size. */
async function listAll(node: TestNode, r: string): Promise<{ keys: string[]; pages: number; shortPages: number }> {
  const keys: string[] = [];
  let pages = 0;
  let shortPages = 0;
  for (let cursor: string | null | undefined; cursor !== null; pages++) {
    const query = `limit=${limit}&r=${r}&timeout=60000${cursor === undefined ? '' : `&cursor=${cursor}`}`;
    const res = await fetch(`${node.url}/kv?${query}`, { dispatcher, signal: AbortSignal.timeout(70_000) });
    const body = (await res.json()) as { keys: string[]; cursor: string | null };
    if (res.status !== 200) throw new Error(`GET /kv page ${pages}: ${res.status} ${JSON.stringify(body)}`);
    if (body.keys.length > limit) throw new Error(`page ${pages} has ${body.keys.length} keys, limit ${limit}`);
    if (body.keys.length < limit && body.cursor !== null) shortPages++;
    for (const k of body.keys) keys.push(k);
    cursor = body.cursor;
  }
  return { keys, pages, shortPages };
}

/** Every key written listed once, nothing else: or why not. */
function checkListed(keys: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) return `${k} listed twice`;
    seen.add(k);
  }
  for (let i = 0; i < keyCount; i++) if (!seen.has(keyOf(i))) return `${keyOf(i)} never listed`;
  return seen.size === keyCount ? undefined : `${seen.size - keyCount} keys listed that were never written`;
}

function report(label: string, nodes: readonly TestNode[], seconds: number, listed: Awaited<ReturnType<typeof listAll>>, rss: MemorySeries[], heap: MemorySeries[]): void {
  console.log(`\n  ${label}: ${fmt(listed.keys.length)} keys in ${fmt(listed.pages)} pages (${fmt(listed.shortPages)} short before the end), ${fmt(seconds, 2)} s, ${fmt(listed.keys.length / seconds)} keys/s`);
  console.log('    node   RSS MiB before / peak / after   (peak - before)   heap MiB before / peak / after');
  nodes.forEach((n, i) => {
    const r = rss[i]!;
    const h = heap[i]!;
    const rssCells = `${fmt(mib(r.before), 1)} / ${fmt(mib(r.peak), 1)} / ${fmt(mib(r.after), 1)}`;
    const heapCells = `${fmt(mib(h.before), 1)} / ${fmt(mib(h.peak), 1)} / ${fmt(mib(h.after), 1)}`;
    console.log(`    ${n.id.padEnd(5)}  ${rssCells.padStart(26)}   ${`+${fmt(mib(r.peak - r.before), 1)}`.padStart(15)}   ${heapCells.padStart(26)}`);
  });
}

async function main(): Promise<void> {
  installCleanupHandlers();
  console.log('kvorum listing bench');
  console.log(`  node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => fmt(l, 1)).join(' ')}`);
  console.log(`  3 nodes, N=3; ${fmt(keyCount)} keys of ${fmt(valueBytes)} bytes written w=all by ${concurrency} concurrent PUTs; listed with limit=${limit}`);
  const target = await startKvorum('normal', undefined);
  const nodes = target.cluster.nodes;
  const t0 = performance.now();
  await writeKeys(nodes);
  console.log(`  wrote ${fmt(keyCount)} keys in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  let failures = 0;
  for (const [label, through, r] of [['r=one through n1', nodes[0]!, 'one'], ['r=all through n2', nodes[1]!, 'all']] as const) {
    const start = performance.now();
    const { result, rss, heap } = await sampled(nodes, () => listAll(through, r));
    report(label, nodes, (performance.now() - start) / 1000, result, rss, heap);
    const problem = checkListed(result.keys);
    console.log(`    every key listed exactly once: ${problem === undefined ? 'yes' : `NO: ${problem}`}`);
    if (problem !== undefined) failures++;
  }
  target.checkAlive();
  if (failures > 0) process.exitCode = 1;
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().finally(() => dispatcher.close()));
