// Load for overload protection (test/integration/overload.test.ts, test/bench/overload-bench.ts):
// closed-loop workers over an undici Pool (one connection each), a /health poller on its own
// connection, and an RSS sampler of the node's process. Every run is bounded by its request count.
import { readFileSync } from 'node:fs';
import { Client, Pool } from 'undici';

export interface LoadOutcome {
  readonly accepted: number;
  readonly shed: number;
  /** Shed answers without `Retry-After`, or whose body was not the `overloaded` error. */
  readonly badShed: number;
  /** Any other status, by status. */
  readonly otherStatuses: Readonly<Record<string, number>>;
  /** Requests that got no answer at all (reset, refused, timed out), by error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Latencies of accepted requests, ms, sorted. */
  readonly acceptedMs: readonly number[];
  readonly seconds: number;
}

export const percentile = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

const value = Buffer.alloc(100, 'v');

/**
 * One request of the mix: even ones PUT a new key (blind writes of one key would pile up siblings
 * to the cap), odd ones GET the key the one before wrote (404 if that write was shed).
 */
async function oneRequest(pool: Pool, run: string, i: number): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  const put = i % 2 === 0;
  const key = `${run}-${put ? i : i - 1}`;
  const res = await pool.request({
    path: `/kv/${key}`,
    method: put ? 'PUT' : 'GET',
    headers: put ? { 'content-type': 'application/octet-stream' } : {},
    body: put ? value : undefined,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const body = await res.body.text();
  const retryAfter = res.headers['retry-after'];
  return { status: res.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, body };
}

let runs = 0;

/**
 * `total` requests from `concurrency` closed-loop workers, each on its own connection; a shed one's
 * worker asks again at once (no backoff: the worst case). The connections are opened first, each
 * with an unmeasured GET /health: the figures are of requests, not of TCP handshakes (a burst of
 * connects over the listen backlog waits for SYN retransmits, 1 s and more).
 */
export async function runLoad(url: string, concurrency: number, total: number): Promise<LoadOutcome> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const out = { accepted: 0, shed: 0, badShed: 0, otherStatuses: {} as Record<string, number>, errors: {} as Record<string, number>, acceptedMs: [] as number[] };
  const run = `load${++runs}-${process.pid}`;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const res = await pool.request({ path: '/health', method: 'GET', headersTimeout: 60_000, bodyTimeout: 60_000 });
      await res.body.text();
    }),
  );
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        const r = await oneRequest(pool, run, i);
        if (r.status < 400 || r.status === 404) {
          out.accepted++;
          out.acceptedMs.push(performance.now() - t0);
        } else if (r.status === 503 && r.body.includes('"error":"overloaded"')) {
          out.shed++;
          if (r.retryAfter === undefined || !/^[1-9][0-9]*$/.test(r.retryAfter)) out.badShed++;
        } else {
          out.otherStatuses[r.status] = (out.otherStatuses[r.status] ?? 0) + 1;
        }
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).name;
        out.errors[code] = (out.errors[code] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool.close();
  }
  out.acceptedMs.sort((a, b) => a - b);
  return { ...out, seconds: (performance.now() - started) / 1000 };
}

/** Polls /health on its own connection every `intervalMs` until stopped: each latency and any answer but 200. */
export function pollHealth(url: string, intervalMs: number): { stop(): Promise<{ maxMs: number; polls: number; failures: string[] }> } {
  const client = new Client(url);
  const failures: string[] = [];
  let maxMs = 0;
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await client.request({ path: '/health', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.text();
        if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`);
      } catch (err) {
        failures.push(String((err as Error).message));
      }
      maxMs = Math.max(maxMs, performance.now() - t0);
      polls++;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.close();
      return { maxMs, polls, failures };
    },
  };
}

/** The resident set of process `pid`, bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples rssBytes(pid) every `intervalMs` until stopped; the peak. */
export function sampleRss(pid: number, intervalMs: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process is gone: the test's liveness check says so
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
