// Parts 2 and 3 of the convergence bench, on real `kvorum start` processes (test/kit/test-cluster.ts):
//  2. how long a node whose disk was wiped takes to hold every key again (anti-entropy only);
//  3. how fast the hints kept for a node that was down are delivered once it is back.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { http } from '../kit/http.js';
import { startCluster, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { clusterView, mapLimit, replicaCopy, sumMetric, waitAllUp } from '../helpers/convergence.js';
import { valueFor } from './common.js';
import { fmt, int, table } from './convergence-common.js';
import { sleep } from '../kit/wait.js';

export interface ClusterBenchOptions {
  readonly keys: number;
  readonly valueBytes: number;
  readonly concurrency: number;
  /** Lets the caller stop the running cluster on an interrupt. */
  readonly setActive: (cluster: TestCluster | undefined) => void;
}

const keyName = (i: number) => `bench-${String(i).padStart(6, '0')}`;

async function metricsOf(node: TestNode): Promise<string> {
  const res = await http('GET', `${node.url}/metrics`, { timeoutMs: 3000 });
  if (res.status !== 200) throw new Error(`GET ${node.id}/metrics: ${res.status}`);
  return res.text();
}

/** Sums of the given metrics over `nodes` (each node's /metrics read once). */
async function sums(nodes: readonly TestNode[], names: readonly string[]): Promise<Record<string, number>> {
  const texts = await Promise.all(nodes.map(metricsOf));
  return Object.fromEntries(names.map((n) => [n, texts.reduce((s, t) => s + sumMetric(t, n), 0)]));
}

/** PUTs every key once, round-robin over `targets`, `concurrency` in flight. Returns time and non-204 outcomes. */
async function writeAll(targets: readonly TestNode[], keys: readonly string[], query: string, valueBytes: number, concurrency: number) {
  const failures = new Map<string, number>();
  const failed: string[] = [];
  const t0 = performance.now();
  await mapLimit(
    keys.map((k, i) => [k, i] as const),
    concurrency,
    async ([key, i]) => {
      const node = targets[i % targets.length]!;
      let outcome: string;
      try {
        const res = await http('PUT', `${node.url}/kv/${key}?${query}`, {
          body: valueFor(key, valueBytes),
          headers: { 'content-type': 'application/octet-stream' },
        });
        outcome = String(res.status);
      } catch (err) {
        outcome = (err as { code?: string }).code ?? 'error';
      }
      if (outcome !== '204') {
        failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
        failed.push(key);
      }
    },
  );
  return { ms: performance.now() - t0, failures, failed };
}

const describeFailures = (f: Map<string, number>) => (f.size === 0 ? 'all 204' : [...f].map(([k, v]) => `${k}:${v}`).join(' '));

async function killHard(node: TestNode): Promise<void> {
  node.kill('SIGKILL');
  const exit = await node.waitExit(5000);
  if (exit.signal !== 'SIGKILL') throw new Error(`${node.id} exited with ${JSON.stringify(exit)}, not by SIGKILL`);
}

/** Checks every key on `node` (GET /replica/kv, its own copy) holds exactly the value written. */
async function fullCheck(node: TestNode, keys: readonly string[], valueBytes: number, concurrency: number) {
  const t0 = performance.now();
  const bad: string[] = [];
  await mapLimit(keys, concurrency, async (key) => {
    const copy = await replicaCopy(node, key);
    const want = valueFor(key, valueBytes).toString('base64');
    if (copy?.siblings.length !== 1 || copy.siblings[0]!.value !== want) bad.push(key);
  });
  return { ms: performance.now() - t0, bad };
}

// ---------------------------------------------------------------------------------------------
// Part 2

interface RefillRow {
  readonly intervalMs: number;
  readonly writeMs: number;
  readonly writeFailures: string;
  readonly startMs: number;
  /** From /health 200 of the restarted node until its database holds every key. */
  readonly refillMs: number;
  /** From /health 200 until the AE keys-repaired counters (summed) reached the key count. */
  readonly metricMs: number;
  readonly exchanges: number;
  readonly repaired: number;
  readonly payloadBytes: number;
  readonly check: string;
  readonly checkMs: number;
}

async function refillOnce(opts: ClusterBenchOptions, intervalMs: number): Promise<RefillRow> {
  const keys = Array.from({ length: opts.keys }, (_, i) => keyName(i));
  const cluster = await startCluster({ nodes: 3, extraArgs: ['--log-level', 'warn', '--anti-entropy-interval-ms', String(intervalMs)] });
  opts.setActive(cluster);
  let db: Database.Database | undefined;
  try {
    const [a, b, x] = cluster.nodes as [TestNode, TestNode, TestNode];
    await waitAllUp(cluster);
    const written = await writeAll([a, b, x], keys, 'w=all', opts.valueBytes, opts.concurrency);
    if (written.failed.length > 0) {
      // w=all needs every node: retry the few that raced a detector flap, so every node holds every key.
      const again = await writeAll([a, b, x], written.failed, 'w=all', opts.valueBytes, opts.concurrency);
      if (again.failed.length > 0) throw new Error(`w=all writes failed twice: ${describeFailures(again.failures)}`);
    }
    const names = ['kvorum_ae_keys_repaired_total', 'kvorum_ae_exchanges_total', 'kvorum_ae_payload_bytes_total'];

    await killHard(x);
    const before = await sums([a, b], names);
    const t0 = performance.now();
    await x.restart({ wipeData: true });
    const tHealthy = performance.now();
    const dbPath = join(x.dataDir, 'kvorum.db');
    if (!existsSync(dbPath)) throw new Error(`${dbPath} missing after restart`);
    // Read-only reader of the node's WAL database: an exact key count, cheap enough to poll.
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const count = db.prepare<[], number>('SELECT count(*) FROM objects').pluck();

    let refillAt: number | undefined;
    let metricAt: number | undefined;
    let lastPoll = 0;
    const deadline = tHealthy + 120_000;
    while (refillAt === undefined) {
      const now = performance.now();
      if (now > deadline) throw new Error(`${x.id} still holds ${count.get()} of ${opts.keys} keys after 120 s`);
      if (count.get()! >= opts.keys) refillAt = performance.now();
      if (metricAt === undefined && now - lastPoll >= 100) {
        lastPoll = now;
        const s = await sums(cluster.nodes, names.slice(0, 1)).catch(() => undefined);
        if (s && s[names[0]!]! - before[names[0]!]! >= opts.keys) metricAt = performance.now();
      }
      if (refillAt === undefined) await sleep(20);
    }
    // The counters may trail the data (or count a key twice when two exchanges repair it): keep reading a little.
    for (let i = 0; metricAt === undefined && i < 50; i++) {
      const s = await sums(cluster.nodes, names.slice(0, 1)).catch(() => undefined);
      if (s && s[names[0]!]! - before[names[0]!]! >= opts.keys) metricAt = performance.now();
      else await sleep(100);
    }
    const check = await fullCheck(x, keys, opts.valueBytes, opts.concurrency);
    const after = await sums(cluster.nodes, names);
    return {
      intervalMs,
      writeMs: written.ms,
      writeFailures: describeFailures(written.failures),
      startMs: tHealthy - t0,
      refillMs: refillAt - tHealthy,
      metricMs: metricAt === undefined ? NaN : metricAt - tHealthy,
      exchanges: after[names[1]!]! - before[names[1]!]!,
      repaired: after[names[0]!]! - before[names[0]!]!,
      payloadBytes: after[names[2]!]! - before[names[2]!]!,
      check: check.bad.length === 0 ? `${int(keys.length)}/${int(keys.length)} ok` : `${check.bad.length} BAD (e.g. ${check.bad.slice(0, 3).join(', ')})`,
      checkMs: check.ms,
    };
  } catch (err) {
    console.error(`--- recent node output ---\n${cluster.logs().split('\n').slice(-40).join('\n')}\n---`);
    throw err;
  } finally {
    db?.close();
    await cluster.stop();
    opts.setActive(undefined);
  }
}

export async function runRefillBench(opts: ClusterBenchOptions, intervals: readonly number[]): Promise<void> {
  console.log(`\n== 2. convergence after a wiped disk: 3 nodes, N=3, ${int(opts.keys)} keys, ${opts.valueBytes}-byte values ==`);
  console.log(
    `  flags: --log-level warn --anti-entropy-interval-ms I (all else default); writes PUT ?w=all, ${opts.concurrency} in flight round-robin over the 3 nodes;\n` +
      `  then n3 SIGKILLed, its data dir removed, restarted; "refill" = from its /health 200 until its SQLite file holds every key\n` +
      `  (read-only count(*) poll every 20 ms); "AE metric" = until kvorum_ae_keys_repaired_total summed over nodes grew by the key count.`,
  );
  const rows: RefillRow[] = [];
  for (const iv of intervals) {
    process.stdout.write(`  interval ${iv} ms ... `);
    const row = await refillOnce(opts, iv);
    rows.push(row);
    process.stdout.write(`refilled in ${fmt(row.refillMs)} ms\n`);
  }
  console.log('\n' + table(
    [
      ['AE interval ms', 'write 10k w=all', 'restart to /health ms', 'refill ms', 'keys/s', 'AE metric ms', 'exchanges', 'keys repaired (sum)', 'AE payload B (sum)', 'full check on n3', 'check ms'],
      ...rows.map((r) => [
        String(r.intervalMs),
        `${fmt(r.writeMs)} ms (${int(opts.keys / (r.writeMs / 1000))}/s, ${r.writeFailures})`,
        fmt(r.startMs),
        fmt(r.refillMs),
        int(opts.keys / (r.refillMs / 1000)),
        fmt(r.metricMs),
        int(r.exchanges),
        int(r.repaired),
        int(r.payloadBytes),
        r.check,
        fmt(r.checkMs),
      ]),
    ],
    0,
  ));
}

// ---------------------------------------------------------------------------------------------
// Part 3

export async function runHandoffBench(opts: ClusterBenchOptions): Promise<void> {
  console.log(`\n== 3. hint delivery: 3 nodes, N=3, ${int(opts.keys)} keys written w=2 while n3 is down ==`);
  console.log(
    `  flags: --log-level warn (all else default: handoff interval 1000 ms, probe 1000 ms, AE 2000 ms); with 3 nodes and N=3 there is no\n` +
      `  fallback, so each coordinator (n1 or n2, round-robin) keeps the hint for n3 itself. n3 is restarted with its data (not wiped).`,
  );
  const keys = Array.from({ length: opts.keys }, (_, i) => keyName(i));
  const cluster = await startCluster({ nodes: 3, extraArgs: ['--log-level', 'warn'] });
  opts.setActive(cluster);
  try {
    const [a, b, x] = cluster.nodes as [TestNode, TestNode, TestNode];
    await waitAllUp(cluster);
    await killHard(x);
    const written = await writeAll([a, b], keys, 'w=2', opts.valueBytes, opts.concurrency);

    const pendingFor = async (holders: readonly TestNode[], target: string) => {
      const views = await Promise.all(holders.map(clusterView));
      return views.map((v) => v.members.filter((m) => m.id === target).reduce((s, m) => s + m.hintsPending, 0));
    };
    const allPending = async () => {
      const views = await Promise.all(cluster.nodes.map(clusterView));
      return views.reduce((s, v) => s + v.members.reduce((t, m) => t + m.hintsPending, 0), 0);
    };
    // Hints commit with the coordinator's next batch: wait until the counts stop moving.
    let held = await pendingFor([a, b], x.id);
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const again = await pendingFor([a, b], x.id);
      const same = again.every((v, j) => v === held[j]);
      held = again;
      if (same && held.reduce((s, v) => s + v, 0) >= opts.keys - written.failed.length) break;
    }
    const hints = held.reduce((s, v) => s + v, 0);
    const names = ['kvorum_hints_delivered_total', 'kvorum_ae_keys_repaired_total'];
    const before = await sums([a, b], names);

    const t0 = performance.now();
    await x.restart();
    const tHealthy = performance.now();
    let firstDrop: number | undefined;
    let doneAt: number | undefined;
    const deadline = tHealthy + 120_000;
    while (doneAt === undefined) {
      const pending = await allPending();
      const now = performance.now();
      if (firstDrop === undefined && pending < hints) firstDrop = now;
      if (pending === 0) doneAt = now;
      else if (now > deadline) throw new Error(`${pending} hints still pending 120 s after ${x.id} came back`);
      else await sleep(25);
    }
    const after = await sums(cluster.nodes, names);
    // Sanity: a sample of keys on n3 holds the written value.
    const sample = keys.filter((_, i) => i % Math.max(1, Math.floor(keys.length / 500)) === 0);
    const check = await fullCheck(x, sample, opts.valueBytes, opts.concurrency);
    const drainMs = doneAt - tHealthy;
    const fromFirst = firstDrop === undefined ? NaN : doneAt - firstDrop;
    const firstMs = firstDrop === undefined ? NaN : firstDrop - tHealthy;
    console.log('\n' + table(
      [
        ['figure', 'value'],
        [`write ${int(opts.keys)} keys w=2 to n1/n2 (n3 down)`, `${fmt(written.ms)} ms (${int(opts.keys / (written.ms / 1000))} writes/s, ${describeFailures(written.failures)})`],
        ['hints held for n3 (n1 + n2)', `${int(hints)} (${held.map(int).join(' + ')})`],
        ['n3 restart to /health 200', `${fmt(tHealthy - t0)} ms`],
        ['/health 200 to first hint delivered', `${fmt(firstMs)} ms`],
        ['/health 200 to every hintsPending = 0', `${fmt(drainMs)} ms`],
        ['hints/s (from /health 200)', int(hints / (drainMs / 1000))],
        ['hints/s (from first delivery)', int(hints / (fromFirst / 1000))],
        ['kvorum_hints_delivered_total (sum, delta)', int(after[names[0]!]! - before[names[0]!]!)],
        ['kvorum_ae_keys_repaired_total meanwhile', int(after[names[1]!]! - before[names[1]!]!)],
        ['sample of keys on n3 (GET /replica)', check.bad.length === 0 ? `${sample.length}/${sample.length} ok` : `${check.bad.length}/${sample.length} BAD`],
      ],
      1,
    ));
    console.log('  ("first hint delivered" includes the holders noticing n3 is up: their next probe, every 1000 ms, triggers a handoff round.)');
  } catch (err) {
    console.error(`--- recent node output ---\n${cluster.logs().split('\n').slice(-40).join('\n')}\n---`);
    throw err;
  } finally {
    await cluster.stop();
    opts.setActive(undefined);
  }
}
