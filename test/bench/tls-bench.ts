// What TLS costs (docs/api.md, "TLS"): the same closed-loop load on a 3-node cluster (N=3) served
// plain, with TLS (client and internode traffic encrypted) and with mutual TLS between nodes.
// PUT w=all then GET r=all, so every request involves both peers. Prints ops/s and latency
// percentiles per mode; it asserts nothing. `npm run build && node --import tsx test/bench/tls-bench.ts [ops] [concurrency]`
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { issueCert, makeCa, tlsArgs } from '../kit/certs.js';
import { startCluster } from '../kit/test-cluster.js';

const opsTotal = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 32);
const modes = ['plain', 'tls', 'mtls'] as const;

interface PhaseResult {
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** `opsTotal` requests, `concurrency` at a time, spread over the pools; status must be `ok`. */
async function phase(pools: readonly Pool[], method: 'PUT' | 'GET', query: string, ok: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < opsTotal; i = next++) {
      const t0 = performance.now();
      const body = method === 'PUT' ? `value-${i}` : undefined;
      const headers = method === 'PUT' ? { 'content-type': 'text/plain' } : {};
      const res = await pools[i % pools.length]!.request({ method, path: `/kv/bench-${i}?${query}`, body, headers });
      await res.body.dump();
      if (res.statusCode !== ok) failures++;
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { opsPerSecond: opsTotal / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), failures };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvorum-tls-bench-'));
  try {
    const ca = makeCa(dir, 'ca');
    const certs = new Map(['n1', 'n2', 'n3'].map((id) => [id, issueCert(ca, id)]));
    const caPem = readFileSync(ca.certFile);
    console.log(`TLS bench: 3 nodes, N=3, ${opsTotal} ops per phase, ${concurrency} in flight`);
    console.log('mode   phase        ops/s   p50 ms   p99 ms  failures');
    for (const mode of modes) {
      const cluster = await startCluster({
        nodes: 3,
        n: 3,
        secret: 'bench',
        extraArgs: ['--log-level', 'warn'],
        ...(mode === 'plain' ? {} : { https: { ca: caPem }, nodeArgs: (id: string) => tlsArgs(certs.get(id)!, ca, mode === 'mtls') }),
      });
      const pools = cluster.nodes.map((n) => new Pool(n.url, { connections: concurrency, connect: { ca: caPem } }));
      try {
        for (const [name, method, query, ok] of [['PUT w=all', 'PUT', 'w=all', 204], ['GET r=all', 'GET', 'r=all', 200]] as const) {
          const r = await phase(pools, method, query, ok);
          console.log(`${mode.padEnd(6)} ${name.padEnd(10)} ${r.opsPerSecond.toFixed(0).padStart(7)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.failures).padStart(9)}`);
        }
      } finally {
        await Promise.all(pools.map((p) => p.close()));
        await cluster.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
