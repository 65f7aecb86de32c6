// What every workload shares: the HTTP client (undici, keep-alive, hard per-request deadlines), the
// history recorder (Jepsen-style invoke/completion pairs) and the decoding of 200/300/404 bodies.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { Op, OpType } from '../history.js';
import type { Prng } from '../prng.js';

export const contextHeader = 'x-kvorum-context';
/** The kvorum `timeout` of every client request: how long the coordinator waits for its quorum. */
export const quorumTimeoutMs = 1000;
/** The client's own deadline: the quorum timeout, a forwarded request's extra hop, and slack. */
export const clientDeadlineMs = quorumTimeoutMs + 1500;

export interface KvResponse {
  readonly status: number;
  readonly context: string | undefined;
  readonly body: Buffer;
}

export interface KvSibling {
  readonly value: Buffer;
  readonly contentType: string;
}

/** A thrown request failure: `status` is a short code ("timeout", "ECONNREFUSED", ...). */
export class RequestFailed extends Error {
  constructor(readonly status: string) {
    super(status);
  }
}

export class KvClient {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: clientDeadlineMs } });

  async send(method: 'GET' | 'PUT' | 'DELETE', url: string, opts: { body?: Buffer; context?: string | undefined; contentType?: string; headers?: Record<string, string> } = {}): Promise<KvResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.context !== undefined) headers[contextHeader] = opts.context;
    if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
    try {
      const res = await request(url, {
        method,
        headers,
        body: opts.body,
        dispatcher: this.agent,
        headersTimeout: clientDeadlineMs,
        bodyTimeout: clientDeadlineMs,
        signal: AbortSignal.timeout(clientDeadlineMs),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      const context = res.headers[contextHeader];
      return { status: res.statusCode, context: typeof context === 'string' ? context : undefined, body };
    } catch (err) {
      throw new RequestFailed(errorCode(err));
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  return e.code ?? e.cause?.code ?? e.name ?? 'error';
}

/** The values of a read: one for 200, every sibling for 300, none for 404. Throws on anything else. */
export function siblingsOf(res: KvResponse): KvSibling[] {
  if (res.status === 404) return [];
  if (res.status === 200) return [{ value: res.body, contentType: 'application/json' }];
  if (res.status === 300) {
    const parsed = JSON.parse(res.body.toString('utf8')) as { siblings: { value?: string; contentType?: string }[] };
    return parsed.siblings
      .filter((s) => typeof s.value === 'string')
      .map((s) => ({ value: Buffer.from(s.value!, 'base64'), contentType: s.contentType ?? '' }));
  }
  throw new Error(`not a read answer: ${res.status}`);
}

export const isReadAnswer = (status: number) => status === 200 || status === 300 || status === 404;

export interface NodeRef {
  readonly id: string;
  readonly url: string;
}

export interface Invocation {
  readonly process: number;
  readonly f: Op['f'];
  readonly key: string;
  readonly node: string;
  readonly startMs: number;
  readonly quorum: boolean | undefined;
}

/** Milliseconds (to a tenth) since `t0`, on the real monotonic clock. */
const msSince = (t0: number) => () => Math.round((performance.now() - t0) * 10) / 10;

/** The history of a run, with live counters for the progress line. */
export class Recorder {
  readonly ops: Op[] = [];
  readonly counts = { ok: 0, info: 0, fail: 0 };

  /** `now`: milliseconds since the run started; real time by default, simulated time in the simulator. */
  constructor(readonly now: () => number = msSince(performance.now())) {}

  invoke(process: number, f: Op['f'], key: string, value: Op['value'], node: string, quorum?: boolean): Invocation {
    const startMs = this.now();
    this.ops.push({ process, type: 'invoke', f, key, value, timeMs: startMs, node, ...(quorum === undefined ? {} : { quorum }) });
    return { process, f, key, node, startMs, quorum };
  }

  complete(inv: Invocation, type: Exclude<OpType, 'invoke'>, value: Op['value'], status: number | string, sentContext?: string): void {
    const timeMs = this.now();
    this.counts[type]++;
    this.ops.push({
      process: inv.process, type, f: inv.f, key: inv.key, value, timeMs, node: inv.node,
      latencyMs: Math.round((timeMs - inv.startMs) * 10) / 10, status,
      ...(inv.quorum === undefined ? {} : { quorum: inv.quorum }),
      ...(sentContext === undefined ? {} : { sentContext }),
    });
  }
}

/** Everything a workload's client process needs. */
export interface ProcessContext {
  readonly process: number;
  readonly prng: Prng;
  /** The nodes requests may go to now: membership changes them during a run (asked before each request). */
  readonly nodes: () => readonly NodeRef[];
  readonly kv: KvClient;
  readonly history: Recorder;
  readonly stopped: () => boolean;
}

export interface Workload {
  /** Keys the final reads and the workload's checker look at. */
  readonly keys: readonly string[];
  /** Keys only overwritten and deleted (checked by checkers/supersession.ts), none for most workloads. */
  readonly churnKeys: readonly string[];
  /** One client process: operations one after another until stopped. */
  runProcess(ctx: ProcessContext): Promise<void>;
  /** The value a final read found, as FinalRead.value. */
  finalValue(res: KvResponse): number | readonly number[] | null;
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const kvUrl = (node: NodeRef, key: string, query: string) => `${node.url}/kv/${encodeURIComponent(key)}?${query}`;
