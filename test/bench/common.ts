// Shared by the bench harness (http-bench.ts) and the load generator (load.ts): the load spec and
// result shapes exchanged between them, and the deterministic value written under each key.

/** The HTTP API a load run speaks: kvorum's (and the no-op server's) `/kv/<key>`, or etcd's JSON gateway. */
export type LoadApi = 'kvorum' | 'etcd';

/** What one run of load.ts does: one phase (PUT or GET) against one or more base URLs. */
export interface LoadSpec {
  /** One autocannon instance (or, paced, one connection pool) per URL; `connections` is split across them. */
  readonly urls: readonly string[];
  readonly connections: number;
  readonly seconds: number;
  readonly method: 'PUT' | 'GET';
  /** kvorum (default): PUT/GET /kv/<key>; etcd: POST /v3/kv/put and /v3/kv/range. */
  readonly api?: LoadApi;
  /** kvorum API only: query string without `?`, e.g. `w=2`. */
  readonly query: string;
  /** PUT: keys are `${keyPrefix}${seq}`, seq from one counter shared by every instance. */
  readonly keyPrefix: string;
  /** PUT: the keys whose write succeeded are written here, one per line. */
  readonly keysOut?: string;
  /** GET: keys to read (cycled in order), one per line. */
  readonly keysIn?: string;
  readonly valueBytes: number;
  /**
   * Open loop at this many requests per second (request k due at start + k/rate, latency from when
   * it was due) instead of autocannon's closed loop of `connections` requests in flight.
   */
  readonly rate?: number;
}

export interface LoadResult {
  /** Measured duration of the phase, seconds (the longest instance). */
  readonly seconds: number;
  /** Responses received (any status). */
  readonly responses: number;
  /** Answers that succeeded: a 2xx whose body (etcd) shows the operation was done. */
  readonly ok: number;
  readonly non2xx: number;
  /** By status code; `200-failed`: a 200 whose body shows the operation failed (etcd: a range without kvs). */
  readonly statusCounts: Record<string, number>;
  /** Connection errors, timeouts included (autocannon's `errors`; paced: requests never answered). */
  readonly errors: number;
  readonly timeouts: number;
  /** Latency percentiles of successful answers, milliseconds (paced: from when each request was due). */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly mean: number;
  readonly max: number;
  /** CPU seconds (user+system) the generator process used while the phase ran. */
  readonly generatorCpuSeconds: number;
  /** PUT only: how many keys were written (listed in keysOut). */
  readonly keysWritten?: number;
  /** Paced only: the requests the schedule issued (offered load = issued / seconds). */
  readonly issued?: number;
}

/** The line a load.ts child prints just before its load starts (the harness samples server CPU then). */
export const startMarker = 'LOAD_START';
/** The last line a load.ts child prints on stdout, as soon as its load has ended. */
export const resultMarker = 'LOAD_RESULT ';

/**
 * The value stored under `key`: `valueBytes` bytes, different for every key (the key is written at
 * the start), the rest a fixed pseudo-random pattern. Deterministic, so a reader can verify it.
 */
export function valueFor(key: string, valueBytes: number): Buffer {
  const out = Buffer.allocUnsafe(valueBytes);
  pattern(valueBytes).copy(out);
  out.write(`${key}|`, 0, 'latin1');
  return out;
}

let cachedPattern: Buffer | undefined;
function pattern(bytes: number): Buffer {
  if (cachedPattern?.length === bytes) return cachedPattern;
  const b = Buffer.allocUnsafe(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    // xorshift32: cheap, fixed, not compressible to nothing
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  cachedPattern = b;
  return b;
}
