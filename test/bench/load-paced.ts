// The open-loop generator, for latency at a fixed offered load: request k is sent when it is due,
// at start + k/rate, whatever the earlier ones take, round-robin over the target URLs, and its
// latency runs from when it was due (a stall counts in full: no coordinated omission). undici
// connection pools, with connections enough that the schedule never waits for a socket.
// (autocannon's own rate limit lets each connection send its whole quota at the start of every
// second, back to back: bursts at full speed, then silence, not a steady offered load.)
// Run inside load.ts's process.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { LoadSpec } from './common.js';
import { bodySucceeded, needsBody, requestFor } from './load-requests.js';
import { failedBodyStatus, isOk, type KeySource, type PhaseOutcome } from './load-outcome.js';

const requestTimeoutMs = 10_000;
/** Per URL; more than a phase at half the peak rate ever has in flight. */
const poolConnectionsMax = 256;
/** The schedule loop wakes at least this often, ms. */
const tickMsMax = 5;
/**
 * Requests due in the first part of a phase are sent but not timed: the pools open their
 * connections then, and the first requests of a phase would measure connection setup, not the server.
 */
const untimedFraction = 0.2;
const untimedMsMax = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runPaced(spec: LoadSpec, keys: KeySource): Promise<PhaseOutcome> {
  const rate = spec.rate ?? 0;
  if (!(rate > 0)) throw new Error('load: a paced run needs rate > 0');
  const pools = spec.urls.map((url) => new Pool(url, { connections: poolConnectionsMax, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs }));
  const outcome: PhaseOutcome = { seconds: 0, statusCounts: {}, latencies: [], errors: 0, timeouts: 0, written: [], issued: 0 };
  const inFlight = new Set<Promise<void>>();
  const startMs = performance.now();
  const intervalMs = 1000 / rate;
  const endMs = startMs + spec.seconds * 1000;
  const timedFromMs = startMs + Math.min(untimedMsMax, untimedFraction * spec.seconds * 1000);
  let issued = 0;
  for (let now = startMs; now < endMs; now = performance.now()) {
    for (let due = startMs + issued * intervalMs; due <= now && due < endMs; due = startMs + issued * intervalMs) {
      const p = sendOne(spec, pools[issued % pools.length]!, keys.next(), due, due >= timedFromMs, outcome);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      issued++;
    }
    await sleep(Math.max(1, Math.min(tickMsMax, startMs + issued * intervalMs - performance.now())));
  }
  outcome.seconds = (performance.now() - startMs) / 1000;
  outcome.issued = issued;
  await Promise.all(inFlight); // each is bounded by the request timeout
  await Promise.all(pools.map((p) => p.destroy()));
  return outcome;
}

/** Sends one request for `key` due at `dueMs` and records its answer in `outcome` (its latency if `timed`). */
async function sendOne(spec: LoadSpec, pool: Pool, key: string, dueMs: number, timed: boolean, outcome: PhaseOutcome): Promise<void> {
  const api = spec.api ?? 'kvorum';
  const r = requestFor(api, spec.method, key, spec.valueBytes, spec.query);
  let status: string;
  try {
    const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
    const good = needsBody(api) ? bodySucceeded(api, spec.method, await res.body.text()) : (await res.body.dump(), true);
    status = isOk(res.statusCode) && !good ? failedBodyStatus(res.statusCode) : String(res.statusCode);
  } catch (err) {
    outcome.errors++;
    if ((err as { code?: string }).code?.includes('TIMEOUT')) outcome.timeouts++;
    return;
  }
  outcome.statusCounts[status] = (outcome.statusCounts[status] ?? 0) + 1;
  if (!isOk(status)) return;
  if (timed) outcome.latencies.push(performance.now() - dueMs);
  if (spec.method === 'PUT') outcome.written.push(key);
}
