// The closed-loop generator: autocannon, one instance per target URL, `connections` split across
// them, keep-alive, no pipelining: every connection sends its next request as soon as the last is
// answered, so this measures peak throughput. Run inside load.ts's process.
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import type { LoadSpec } from './common.js';
import { bodySucceeded, needsBody, requestFor } from './load-requests.js';
import { type KeySource, type PhaseOutcome, isOk, failedBodyStatus } from './load-outcome.js';

interface Ctx {
  key?: string;
}

/** Runs the phase; `keys` gives each request's key (shared by every instance: keys stay distinct). */
export async function runClosedLoop(spec: LoadSpec, keys: KeySource): Promise<PhaseOutcome> {
  const api = spec.api ?? 'kvorum';
  if (!needsBody(api)) stopCollectingBodies();
  const outcome: PhaseOutcome = { seconds: 0, statusCounts: {}, latencies: [], errors: 0, timeouts: 0, written: [] };
  /** Set by onResponse, read by the 'response' event that autocannon emits right after it, synchronously. */
  let lastBodyFailed = false;
  const request: autocannon.Request = {
    method: spec.method,
    setupRequest(req, context) {
      const key = keys.next();
      (context as Ctx).key = key;
      const r = requestFor(api, spec.method, key, spec.valueBytes, spec.query);
      return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body };
    },
    // With pipelining 1 the per-connection context still holds the key of the request this
    // response answers (autocannon resets it only when building the next request).
    onResponse(status, body, context) {
      lastBodyFailed = isOk(status) && !bodySucceeded(api, spec.method, body);
      const key = (context as Ctx).key;
      if (spec.method === 'PUT' && isOk(status) && !lastBodyFailed && key !== undefined) outcome.written.push(key);
    },
  };
  const onResponse = (statusCode: number, ms: number) => {
    const status = lastBodyFailed ? failedBodyStatus(statusCode) : String(statusCode);
    lastBodyFailed = false;
    outcome.statusCounts[status] = (outcome.statusCounts[status] ?? 0) + 1;
    if (isOk(status)) outcome.latencies.push(ms);
  };
  const split = spec.urls.map((_, i) => Math.floor(spec.connections / spec.urls.length) + (i < spec.connections % spec.urls.length ? 1 : 0));
  const results = await Promise.all(spec.urls.map((url, i) => runOne(spec, url, split[i]!, request, onResponse)));
  outcome.seconds = Math.max(...results.map((r) => r.duration));
  outcome.errors = results.reduce((a, r) => a + r.errors, 0);
  outcome.timeouts = results.reduce((a, r) => a + r.timeouts, 0);
  return outcome;
}

function runOne(
  spec: LoadSpec,
  url: string,
  connections: number,
  request: autocannon.Request,
  onResponse: (statusCode: number, ms: number) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, connections, pipelining: 1, duration: spec.seconds, timeout: 10, requests: [request] },
      (err: unknown, result: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
    // The runtime emits (client, statusCode, resBytes, responseTime); @types/autocannon omits `client`.
    (instance as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => onResponse(statusCode, ms));
  });
}

/**
 * autocannon keeps every response body as a string, appending each chunk (a UTF-8 decode and a
 * concatenation: ~35 ms of generator CPU per 1 MiB GET, which would cap the value-size phases at a
 * few dozen req/s). Where success shows in the status alone, its queue's addBody becomes a no-op
 * (onResponse then gets ''). If a later autocannon moves it, bodies are simply collected again.
 */
function stopCollectingBodies(): void {
  const require = createRequire(import.meta.url);
  try {
    const queue = require('autocannon/lib/pipelinedRequestsQueue.js') as { prototype?: { addBody?: unknown } };
    if (typeof queue.prototype?.addBody === 'function') queue.prototype.addBody = () => undefined;
  } catch {
    // not there: keep collecting
  }
}
