// The client's HTTP: one request to the cluster with global fetch, failing over between nodes.
//
// Failover rule. A request goes to the current node (at first the first of the list). It moves on
// to the next node (rotating, each node at most once per request), and the client then stays on
// the node that answered, when:
// - the request did not reach the node: connection refused, DNS failure, host or network
//   unreachable, connect timeout (any request, writes included: nothing was sent);
// - the node answered 503 shutting_down or 503 overloaded (any request: the node refused it
//   before running it);
// - for a read only (GET, listing, a batch of gets): the connection broke after the request was
//   sent, or the attempt timed out. Reads change nothing, so asking another node is safe.
// A write (PUT, DELETE, a batch with a put or delete) whose connection broke or timed out after it
// was sent may have been applied: it is never sent again, and fails with OutcomeUnknownError. Any
// other answer, errors included (503 quorum_unavailable too, 401 and 403: every node of a cluster
// shares the auth file), is the request's answer. When every node failed, UnreachableError lists
// why, unless one answered 503 overloaded: that answer is then the request's (the cluster is
// reachable but busy: back off, the node's Retry-After says how long). An AbortSignal's abort ends the request at once with the
// signal's reason, wherever it is, and is not a node failure.
import { KvorumError, OutcomeUnknownError, UnreachableError, type NodeFailure } from './errors.js';

export const attemptTimeoutMsDefault = 5000;
/** Added to a request's server-side `timeout` for the client's own deadline (the server's forwarding hop takes 500 ms). */
const serverTimeoutSlackMs = 1000;

/** Connection errors that mean the request was never sent. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

export interface HttpRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  /** Path and query, starting with `/`, already percent-encoded. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly signal?: AbortSignal | undefined;
  /** The request's server-side `timeout`, to keep the client's deadline beyond it. */
  readonly serverTimeoutMs?: number | undefined;
  /** True for requests that change nothing: they may be sent again after they reached a node. */
  readonly readOnly: boolean;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  /** The base URL of the node that answered. */
  readonly node: string;
}

type AttemptFailure = { readonly kind: 'notSent' | 'lost' | 'timeout'; readonly reason: string; readonly error: unknown };

/** A signal that aborts when `user` does or after `ms`; `timedOut` tells which. */
export interface AttemptSignal {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  dispose(): void;
}

type AnyFn = (signals: AbortSignal[]) => AbortSignal;

const nativeAny: AnyFn | null = (AbortSignal as { any?: AnyFn }).any?.bind(AbortSignal) ?? null;

/**
 * Combines the caller's signal with a deadline: AbortSignal.any when present (Node >= 20.3), a
 * controller otherwise (`any` null: the fallback, also what tests use to exercise it).
 */
export function attemptSignal(user: AbortSignal | undefined, ms: number, any: AnyFn | null = nativeAny): AttemptSignal {
  if (any !== null) {
    const deadline = AbortSignal.timeout(ms);
    return { signal: user ? any([user, deadline]) : deadline, timedOut: () => deadline.aborted, dispose: () => undefined };
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, ms);
  const onAbort = () => controller.abort(user?.reason);
  if (user?.aborted) onAbort();
  else user?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      user?.removeEventListener('abort', onAbort);
    },
  };
}

/** A pause of `ms` that ends early, rejecting with the signal's reason, when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function classify(err: unknown, timedOut: boolean): AttemptFailure {
  if (timedOut) return { kind: 'timeout', reason: 'timed out', error: err };
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code !== undefined) return { kind: notSentCodes.has(code) ? 'notSent' : 'lost', reason: code, error: err };
  // fetch's TypeError without a code fails before connecting (a bad URL, a port fetch refuses).
  if (err instanceof TypeError) return { kind: 'notSent', reason: String(cause?.message ?? err.message), error: err };
  return { kind: 'lost', reason: (err as Error).message ?? String(err), error: err };
}

/** The code of a 503 that refused the request before running it (another node may take it), else undefined. */
function refusalOf(status: number, body: Buffer): 'shutting_down' | 'overloaded' | undefined {
  if (status !== 503) return undefined;
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: unknown }).error;
    return code === 'shutting_down' || code === 'overloaded' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** The nodes of a cluster, one of them current: sends requests with the failover rule above. */
export class NodeList {
  private current = 0;
  readonly urls: readonly string[];

  /** Headers of every request (the token's Authorization), or undefined. */
  private readonly common: Readonly<Record<string, string>> | undefined;

  constructor(
    urls: readonly string[],
    private readonly timeoutMs: number,
    token?: string,
  ) {
    if (token !== undefined && (token === '' || /[\r\n]/.test(token))) throw new TypeError('token must be a non-empty string without line breaks.');
    this.common = token === undefined ? undefined : { authorization: `Bearer ${token}` };
    if (urls.length === 0) throw new TypeError('KvorumClient needs at least one node URL.');
    this.urls = urls.map((u) => {
      const url = new URL(u); // throws on a malformed URL
      return url.origin + url.pathname.replace(/\/+$/, '');
    });
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number.');
  }

  /** The node requests go to first. */
  get currentUrl(): string {
    return this.urls[this.current]!;
  }

  async send(req: HttpRequest): Promise<HttpAnswer> {
    const failures: NodeFailure[] = [];
    let lastError: unknown;
    let overloaded: HttpAnswer | undefined;
    for (let i = 0; i < this.urls.length; i++) {
      req.signal?.throwIfAborted();
      const index = (this.current + i) % this.urls.length;
      const node = this.urls[index]!;
      const outcome = await this.attempt(node, req);
      if ('status' in outcome) {
        const refusal = refusalOf(outcome.status, outcome.body);
        if (refusal === undefined) {
          this.current = index;
          return outcome;
        }
        if (refusal === 'overloaded') overloaded = outcome;
        failures.push({ node, reason: `503 ${refusal}` });
        continue;
      }
      if (outcome.kind !== 'notSent' && !req.readOnly) {
        const code = outcome.kind === 'timeout' ? 'timeout' : 'connection_lost';
        const message = `${req.method} ${req.path.split('?')[0]} at ${node}: ${outcome.reason} after the request was sent; it may or may not have been applied (read the key before writing again).`;
        throw new OutcomeUnknownError(null, code, message, { node }, { cause: outcome.error });
      }
      failures.push({ node, reason: outcome.reason });
      lastError = outcome.error;
    }
    if (overloaded !== undefined) return overloaded;
    throw new UnreachableError(failures, { cause: lastError });
  }

  private async attempt(node: string, req: HttpRequest): Promise<HttpAnswer | AttemptFailure> {
    const ms = Math.max(this.timeoutMs, (req.serverTimeoutMs ?? 0) + serverTimeoutSlackMs);
    const deadline = attemptSignal(req.signal, ms);
    try {
      const res = await fetch(node + req.path, {
        method: req.method,
        headers: this.common === undefined ? req.headers : { ...req.headers, ...this.common },
        body: req.body,
        redirect: 'manual',
        signal: deadline.signal,
      });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, body, node };
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (err instanceof KvorumError) throw err;
      return classify(err, deadline.timedOut());
    } finally {
      deadline.dispose();
    }
  }
}
