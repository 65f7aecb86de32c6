// The load generator, run as its own process by http-bench.ts so it never shares an event loop with
// the harness or the servers. One phase per run: PUT or GET, one autocannon instance per target URL,
// the connections split across them, keep-alive, no pipelining. Every request uses a distinct key
// (PUT) or the next key of the list of written keys (GET). Prints one line `LOAD_RESULT {json}`.
//   node --import tsx test/bench/load.ts '<LoadSpec as JSON>'
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { resultMarker, valueFor, type LoadResult, type LoadSpec } from './common.js';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
if (spec.urls.length === 0 || spec.connections < spec.urls.length) throw new Error('load: need at least one connection per URL');

const query = spec.query === '' ? '' : `?${spec.query}`;
const readKeys = spec.method === 'GET' ? readFileSync(spec.keysIn ?? '', 'utf8').split('\n').filter(Boolean) : [];
if (spec.method === 'GET' && readKeys.length === 0) throw new Error(`load: no keys to read in ${spec.keysIn}`);

let seq = 0; // shared by every instance: keys are distinct across them
const written: string[] = [];
const latencies: number[] = []; // 2xx only, ms
const statusCounts: Record<string, number> = {};

interface Ctx {
  key?: string;
}

const request: autocannon.Request =
  spec.method === 'PUT'
    ? {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        setupRequest(req, context) {
          const key = `${spec.keyPrefix}${seq++}`;
          (context as Ctx).key = key;
          return { ...req, path: `/kv/${key}${query}`, body: valueFor(key, spec.valueBytes) };
        },
        // With pipelining 1 the per-connection context still holds the key of the request this
        // response answers (autocannon resets it only when building the next request).
        onResponse(status, _body, context) {
          const key = (context as Ctx).key;
          if (status >= 200 && status < 300 && key !== undefined) written.push(key);
        },
      }
    : {
        method: 'GET',
        setupRequest(req) {
          const key = readKeys[seq++ % readKeys.length]!;
          return { ...req, path: `/kv/${key}${query}` };
        },
      };

function runOne(url: string, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections, pipelining: 1, duration: spec.seconds, timeout: 10, requests: [request] },
      (err: unknown, result: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
    // The runtime emits (client, statusCode, resBytes, responseTime); @types/autocannon omits `client`.
    (instance as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
    });
  });
}

const split = spec.urls.map((_, i) => Math.floor(spec.connections / spec.urls.length) + (i < spec.connections % spec.urls.length ? 1 : 0));
const cpuBefore = process.cpuUsage();
const results = await Promise.all(spec.urls.map((url, i) => runOne(url, split[i]!)));

const cpu = process.cpuUsage(cpuBefore);

const sorted = Float64Array.from(latencies).sort();
const pct = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
const responses = Object.values(statusCounts).reduce((a, b) => a + b, 0);
const ok = Object.entries(statusCounts).reduce((a, [code, n]) => (code.startsWith('2') ? a + n : a), 0);
if (spec.method === 'PUT' && spec.keysOut !== undefined) writeFileSync(spec.keysOut, written.join('\n') + '\n');

const out: LoadResult = {
  seconds: Math.max(...results.map((r) => r.duration)),
  responses,
  ok,
  non2xx: responses - ok,
  statusCounts,
  errors: results.reduce((a, r) => a + r.errors, 0),
  timeouts: results.reduce((a, r) => a + r.timeouts, 0),
  p50: pct(50),
  p99: pct(99),
  mean: sorted.length === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length,
  max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  ...(spec.method === 'PUT' ? { keysWritten: written.length } : {}),
};
process.stdout.write(`${resultMarker}${JSON.stringify(out)}\n`);
