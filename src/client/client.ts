// KvorumClient: the typed client of kvorum's HTTP API (docs/api.md section 2), on global fetch.
// Failover between nodes follows the rule in transport.ts; update() the one in update.ts.
import { decodeRead, decodeWrite, viewOfBatchResult, viewOfHttp, type ReadOutcome } from './decode.js';
import { errorFromAnswer, KvorumError } from './errors.js';
import { attemptTimeoutMsDefault, NodeList, type HttpRequest } from './transport.js';
import type {
  BatchOp, BatchOptions, BatchOutcomeOf, ClientOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListPageResult,
  PutOptions, UpdateOptions, UpdateResult, ValueInput, WriteResult,
} from './types.js';
import { contentTypeFor, runUpdate, toBytes, type Change } from './update.js';
import type { BatchResponseBody, ListPage, WireBatchOp } from './wire.js';

type Params = Readonly<Record<string, string | number | undefined>>;

/** `?a=1&b=x` with every value percent-encoded (a space is %20, a plus %2B); '' when none is set. */
function query(params: Params): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/**
 * `/kv/{key}`, the key percent-encoded as one path segment. The keys `.` and `..` cannot be sent
 * by fetch: URL parsing takes them (even as %2E) for dot segments and rewrites the path.
 */
function keyPath(key: string): string {
  if (typeof key !== 'string') throw new TypeError('A key is a string.');
  if (key === '.' || key === '..') throw new KvorumError(null, 'unsupported_key', `The key "${key}" cannot be addressed in a URL path; use another key.`);
  return `/kv/${encodeURIComponent(key)}`;
}

function headers(entries: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(entries)) if (value !== undefined) out[name] = value;
  return out;
}

function decodePage(status: number, body: unknown): ListPageResult {
  const page = body as Partial<ListPage> | undefined;
  if (status !== 200) throw errorFromAnswer(status, body);
  if (!Array.isArray(page?.keys) || !(typeof page.cursor === 'string' || page.cursor === null)) {
    throw new KvorumError(status, 'bad_response', 'A listing page without keys and cursor.');
  }
  return { keys: page.keys.map(String), cursor: page.cursor };
}

function wireOp(op: BatchOp): WireBatchOp {
  if (op.op !== 'put') return op;
  const { value, contentType, ...rest } = op;
  return { ...rest, value: toBytes(value).toString('base64'), contentType: contentType ?? contentTypeFor(value) };
}

export class KvorumClient {
  private readonly nodes: NodeList;

  constructor(opts: ClientOptions) {
    this.nodes = new NodeList(opts.nodes, opts.timeoutMs ?? attemptTimeoutMsDefault, opts.token);
  }

  /** The node requests go to first: the first of the list until a failover moves on. */
  get nodeUrl(): string {
    return this.nodes.currentUrl;
  }

  /** The current version of `key`, or null when it has no live value. */
  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const read = await this.read(key, opts);
    return read.kind === 'absent' ? null : read;
  }

  /** Writes `value`; without `context` (or a condition) it is concurrent with what is stored: a sibling. */
  async put(key: string, value: ValueInput, opts: PutOptions = {}): Promise<WriteResult> {
    const { w, pw, timeout, ttl } = opts;
    const answer = await this.nodes.send({
      method: 'PUT',
      path: keyPath(key) + query({ w, pw, timeout, ttl }),
      headers: headers({
        'content-type': opts.contentType ?? contentTypeFor(value),
        'x-kvorum-context': opts.context,
        'if-none-match': opts.ifNoneMatch,
        'if-match': opts.ifMatch,
      }),
      body: toBytes(value),
      ...this.common(opts, false),
    });
    return decodeWrite(viewOfHttp(answer));
  }

  /** Deletes `key` (writes a tombstone); give the context of a read to delete exactly what it saw. */
  async delete(key: string, opts: DeleteOptions = {}): Promise<WriteResult> {
    const { w, pw, timeout } = opts;
    const answer = await this.nodes.send({
      method: 'DELETE',
      path: keyPath(key) + query({ w, pw, timeout }),
      headers: headers({ 'x-kvorum-context': opts.context, 'if-match': opts.ifMatch }),
      ...this.common(opts, false),
    });
    return decodeWrite(viewOfHttp(answer));
  }

  /**
   * Read-modify-write: reads `key`, merges siblings with `opts.resolve`, applies `change` and
   * writes the result with the read's context, retrying on failures a fresh read can cure.
   */
  update(key: string, change: Change, opts: UpdateOptions = {}): Promise<UpdateResult> {
    return runUpdate({ read: (k, o) => this.read(k, o), put: (k, v, o) => this.put(k, v, o) }, key, change, opts);
  }

  /** The keys holding a live value, page by page (`for await (const page of client.list(...))`). */
  async *list(opts: ListOptions = {}): AsyncGenerator<ListPageResult, void, undefined> {
    const { prefix, limit, r, timeout } = opts;
    let cursor = opts.cursor;
    for (;;) {
      const answer = await this.nodes.send({ method: 'GET', path: `/kv${query({ prefix, limit, cursor, r, timeout })}`, ...this.common(opts, true) });
      const page = decodePage(answer.status, viewOfHttp(answer).json());
      yield page;
      if (page.cursor === null) return;
      cursor = page.cursor;
    }
  }

  /** The keys of list(), one by one. */
  async *keys(opts: ListOptions = {}): AsyncGenerator<string, void, undefined> {
    for await (const page of this.list(opts)) yield* page.keys;
  }

  /**
   * Runs 1..100 operations in one request (not atomic). Each outcome is what the operation would
   * have given alone, or its error; a malformed batch throws (invalid_batch) and runs nothing.
   */
  async batch<const T extends readonly BatchOp[]>(ops: T, opts: BatchOptions = {}): Promise<{ -readonly [I in keyof T]: T[I] extends BatchOp ? BatchOutcomeOf<T[I]> : never }> {
    const serverTimeoutMs = Math.max(0, ...ops.map((op) => op.timeout ?? 0));
    const answer = await this.nodes.send({
      method: 'POST',
      path: '/batch',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ ops: ops.map(wireOp) }), 'utf8'),
      signal: opts.signal,
      serverTimeoutMs,
      readOnly: ops.every((op) => op.op === 'get'),
    });
    const body = viewOfHttp(answer).json() as Partial<BatchResponseBody> | undefined;
    if (answer.status !== 200) throw errorFromAnswer(answer.status, body);
    if (!Array.isArray(body?.results) || body.results.length !== ops.length) {
      throw new KvorumError(answer.status, 'bad_response', `A batch answer without one result per operation (${ops.length}).`);
    }
    return ops.map((op, i) => this.outcome(op, body.results![i]!)) as { -readonly [I in keyof T]: T[I] extends BatchOp ? BatchOutcomeOf<T[I]> : never };
  }

  private outcome(op: BatchOp, result: NonNullable<BatchResponseBody['results'][number]>): BatchOutcomeOf<BatchOp> {
    const view = viewOfBatchResult(result);
    const node = view.header('x-kvorum-node');
    const base = { status: view.status, ...(node === undefined ? {} : { node }) };
    try {
      if (op.op === 'get') {
        const read = decodeRead(view);
        return { ...base, ok: true, result: read.kind === 'absent' ? null : read };
      }
      return { ...base, ok: true, result: decodeWrite(view) };
    } catch (err) {
      if (!(err instanceof KvorumError)) throw err;
      return { ...base, ok: false, error: err };
    }
  }

  private async read(key: string, opts: GetOptions): Promise<ReadOutcome> {
    const { r, pr, timeout, ifNoneMatch } = opts;
    const answer = await this.nodes.send({
      method: 'GET',
      path: keyPath(key) + query({ r, pr, timeout }),
      headers: headers({ 'if-none-match': typeof ifNoneMatch === 'string' || ifNoneMatch === undefined ? ifNoneMatch : ifNoneMatch.join(', ') }),
      ...this.common(opts, true),
    });
    return decodeRead(viewOfHttp(answer));
  }

  private common(opts: { signal?: AbortSignal; timeout?: number }, readOnly: boolean): Pick<HttpRequest, 'signal' | 'serverTimeoutMs' | 'readOnly'> {
    return { signal: opts.signal, serverTimeoutMs: opts.timeout, readOnly };
  }
}
