// The membership bench's client, run as its own process by membership-bench.ts so it never shares
// an event loop with the harness or a node. First it loads every key (PUT, `loadConcurrency` in
// flight, round-robin over the URLs) and prints `MLOAD_LOADED {json}`; then it offers a steady
// open-loop load: `rate` requests per second on a fixed schedule whatever the answers take, a mix
// of GET and PUT of existing keys, until SIGTERM (or `maxSeconds`). Each PUT carries the context
// of the key's last answer, so the keys do not grow siblings (after a failed PUT, which may have
// been stored all the same, the key is read before it is written again). Every request of the steady load is
// recorded (scheduled time, latency, status, op) to `recordsOut`; the last line printed is
// `MLOAD_DONE {json}`.
//   node --import tsx test/bench/membership-load.ts '<MembershipLoadSpec as JSON>'
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { valueFor } from './common.js';
import { benchKey, loadMarkers, type LoadRecords, type MembershipLoadSpec } from './membership-common.js';

const spec = JSON.parse(process.argv[2] ?? '') as MembershipLoadSpec;
/** Epoch milliseconds with sub-millisecond resolution; the harness uses the same clock. */
const nowMs = () => performance.timeOrigin + performance.now();
const requestTimeoutMs = 10_000;

// Enough connections that a slow spell never makes the open-loop schedule wait for a socket.
const pools = spec.urls.map((url) => new Pool(url, { connections: 256, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs }));
/** The latest X-Kvorum-Context seen for each key (by index). */
const contexts: (string | undefined)[] = new Array(spec.keys);
const inFlight = new Set<number>();
/**
 * Keys whose last PUT failed: it may still have been stored (a 503 or a timeout says nothing), so
 * the context kept is stale and a PUT with it would make a sibling. Their next request is a GET,
 * whose context (of a 300 too) covers whatever was stored.
 */
const stale = new Set<number>();
/** Steady-load requests sent and not yet answered: schedule number -> when due, and whether a PUT. */
const pending = new Map<number, { readonly dueMs: number; readonly put: boolean }>();

let rngState = spec.seed >>> 0 || 1;
/** xorshift32 in [0, 1): the key and op sequence is the same on every run. */
function random(): number {
  rngState ^= rngState << 13;
  rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  rngState >>>= 0;
  return rngState / 2 ** 32;
}

/** One request; resolves with its status (0: no answer: connection error or timeout). */
async function send(pool: Pool, method: 'GET' | 'PUT', i: number): Promise<number> {
  const key = benchKey(i);
  const headers: Record<string, string> = {};
  if (method === 'PUT') headers['content-type'] = 'application/octet-stream';
  const context = contexts[i];
  if (method === 'PUT' && context !== undefined) headers['x-kvorum-context'] = context;
  try {
    const res = await pool.request({ method, path: `/kv/${key}`, headers, body: method === 'PUT' ? valueFor(key, spec.valueBytes) : undefined });
    await res.body.dump();
    const got = res.headers['x-kvorum-context'];
    if (typeof got === 'string' && res.statusCode < 400) contexts[i] = got;
    if (method === 'PUT' && res.statusCode >= 300) stale.add(i);
    if (method === 'GET' && res.statusCode < 400) stale.delete(i);
    return res.statusCode;
  } catch {
    if (method === 'PUT') stale.add(i);
    return 0;
  }
}

/** PUTs every key once; a key whose PUT failed is tried again (twice at most). */
async function loadAll(): Promise<{ ms: number; failures: Record<string, number>; retried: number }> {
  const failures: Record<string, number> = {};
  let retried = 0;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < spec.keys; i = next++) {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (stale.has(i)) await send(pools[i % pools.length]!, 'GET', i); // the failed attempt may be stored: read its context first
        const status = await send(pools[i % pools.length]!, 'PUT', i);
        if (status === 204) break;
        failures[status] = (failures[status] ?? 0) + 1;
        retried++;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.loadConcurrency }, worker));
  return { ms: performance.now() - t0, failures, retried };
}

const records: LoadRecords = { t: [], latencyMs: [], serviceMs: [], status: [], put: [] };

/** Issues request number `seq` of the schedule, due at `dueMs`, and records it when it is answered. */
function issue(seq: number, dueMs: number): void {
  let i = Math.floor(random() * spec.keys);
  while (inFlight.has(i)) i = (i + 1) % spec.keys; // two writes of one key at once would make siblings
  const put = random() < spec.putFraction && !stale.has(i);
  inFlight.add(i);
  pending.set(seq, { dueMs, put });
  const sentMs = nowMs();
  void send(pools[seq % pools.length]!, put ? 'PUT' : 'GET', i).then((status) => {
    const end = nowMs();
    inFlight.delete(i);
    if (!pending.delete(seq)) return; // given up already: recorded as unanswered
    records.t.push(dueMs);
    records.latencyMs.push(end - dueMs);
    records.serviceMs.push(end - sentMs);
    records.status.push(status);
    records.put.push(put ? 1 : 0);
  });
}

/** The open-loop schedule: request k is due at start + k/rate, whatever the earlier ones take. */
async function steady(stop: Promise<void>): Promise<{ startMs: number; issued: number }> {
  const startMs = nowMs();
  const intervalMs = 1000 / spec.rate;
  let issued = 0;
  let stopped = false;
  void stop.then(() => (stopped = true));
  const deadline = startMs + spec.maxSeconds * 1000;
  while (!stopped && nowMs() < deadline) {
    const now = nowMs();
    while (startMs + issued * intervalMs <= now) {
      issue(issued, startMs + issued * intervalMs);
      issued++;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(5, startMs + issued * intervalMs - nowMs()))));
  }
  return { startMs, issued };
}

let signalStop: () => void = () => undefined;
const stop = new Promise<void>((resolve) => (signalStop = resolve));
process.on('SIGTERM', () => signalStop());

const loaded = await loadAll();
process.stdout.write(`${loadMarkers.loaded}${JSON.stringify(loaded)}\n`);
const { startMs, issued } = await steady(stop);
const stopMs = nowMs();
// Answers still outstanding get the request timeout to arrive, then count as unanswered.
const drainUntil = stopMs + requestTimeoutMs + 1000;
while (pending.size > 0 && nowMs() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
const unanswered = pending.size;
for (const { dueMs, put } of pending.values()) {
  records.t.push(dueMs);
  records.latencyMs.push(nowMs() - dueMs);
  records.serviceMs.push(nowMs() - dueMs);
  records.status.push(-1);
  records.put.push(put ? 1 : 0);
}
pending.clear();
writeFileSync(spec.recordsOut, JSON.stringify(records));
await Promise.all(pools.map((p) => p.destroy())); // an answer still missing is given up
process.stdout.write(`${loadMarkers.done}${JSON.stringify({ startMs, stopMs, issued, unanswered })}\n`);
process.exit(0);
