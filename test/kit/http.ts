// HTTP for tests, benches and the jepsen runner: one request with global fetch and a deadline,
// a JSON GET, and waiting for a node's /health to answer 200. Every request has a deadline.
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { GiveUp, waitFor } from './wait.js';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  text(): string;
  json<T = any>(): T;
}

export interface HttpOptions {
  /** A string is sent as UTF-8 bytes with no implicit Content-Type. */
  readonly body?: Buffer | Uint8Array | string;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
  /** An undici dispatcher (e.g. an Agent trusting a test CA, test/kit/certs.ts): the request then goes through undici's fetch. */
  readonly dispatcher?: Dispatcher;
}

/** One HTTP request with global fetch and a per-request deadline. Never follows redirects. */
export async function http(method: string, url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Buffers, not strings: fetch would add `Content-Type: text/plain;charset=UTF-8` to a string body.
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  let res: Response;
  try {
    const init = { method, headers: opts.headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) } as const;
    // The global fetch is another undici than the package's: a dispatcher goes with the package's fetch.
    res = opts.dispatcher ? ((await undiciFetch(url, { ...init, dispatcher: opts.dispatcher })) as unknown as Response) : await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    const wrapped = new Error(`${method} ${url} failed: ${detail}`) as Error & { code?: string };
    wrapped.code = cause?.code ?? (err as Error).name;
    throw wrapped;
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body: bytes,
    text: () => bytes.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new Error(`${method} ${url}: expected JSON, got ${res.status} ${JSON.stringify(bytes.toString('utf8').slice(0, 300))}`);
      }
    },
  };
}

/** GET `url`: the status and the body parsed as JSON (or the text, if it is not JSON). */
export async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: any }> {
  const res = await http('GET', url, { timeoutMs });
  let body: unknown = res.text();
  try {
    body = JSON.parse(body as string);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** Polls GET `url`/health until it answers 200; stops at once if `alive` says the serving process exited. */
export async function waitHealthy(url: string, deadlineMs = 20_000, alive?: () => boolean, dispatcher?: Dispatcher): Promise<void> {
  await waitFor(
    async () => {
      if (alive && !alive()) throw new GiveUp(`the process serving ${url} exited`);
      const res = await http('GET', `${url}/health`, { timeoutMs: 1000, dispatcher });
      return res.status === 200;
    },
    { timeoutMs: deadlineMs, intervalMs: 100, what: `GET ${url}/health to answer 200` },
  );
}
