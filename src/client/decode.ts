// Decoding answers into the client's results, the same for an HTTP answer and a batch item.
import { errorFromAnswer, KvorumError } from './errors.js';
import type { HttpAnswer } from './transport.js';
import type { NotModifiedResult, Sibling, SiblingsResult, ValueResult, WriteResult } from './types.js';
import type { WireBatchResult, WireHeader, WireSibling } from './wire.js';

const octetStream = 'application/octet-stream';

/** An answer as the decoders see it, whatever carried it. */
export interface AnswerView {
  readonly status: number;
  header(name: WireHeader): string | undefined;
  /** The body's bytes (a 200 value). */
  bytes(): Buffer;
  /** The body as JSON (a 300 or an error); undefined when it is not JSON. */
  json(): unknown;
}

/** A read's outcome; `absent` keeps the context of a tombstone, for update(). */
export type ReadOutcome = ValueResult | SiblingsResult | NotModifiedResult | { readonly kind: 'absent'; readonly context?: string };

export function viewOfHttp(answer: HttpAnswer): AnswerView {
  return {
    status: answer.status,
    header: (name) => answer.headers.get(name) ?? undefined,
    bytes: () => answer.body,
    json: () => {
      try {
        return JSON.parse(answer.body.toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}

export function viewOfBatchResult(result: WireBatchResult): AnswerView {
  const headers = (result.headers ?? {}) as Readonly<Record<string, unknown>>;
  return {
    status: result.status,
    header: (name) => (headers[name] === undefined || headers[name] === null ? undefined : String(headers[name])),
    bytes: () => Buffer.from(result.value ?? '', 'base64'),
    json: () => result.body,
  };
}

const badResponse = (view: AnswerView, what: string) => new KvorumError(view.status, 'bad_response', `HTTP ${view.status}: ${what}.`);

function expiresAt(raw: string | undefined): { expiresAt?: number } {
  const ms = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(ms) ? { expiresAt: ms } : {};
}

const etagOf = (view: AnswerView): { etag?: string } => {
  const etag = view.header('etag');
  return etag === undefined ? {} : { etag };
};

function contextOf(view: AnswerView): string {
  const context = view.header('x-kvorum-context');
  if (context === undefined) throw badResponse(view, 'no X-Kvorum-Context');
  return context;
}

function decodeSibling(view: AnswerView, raw: unknown): Sibling {
  const s = raw as Partial<WireSibling> | null;
  if (typeof s?.value !== 'string' || typeof s.contentType !== 'string') throw badResponse(view, 'a sibling without value or contentType');
  return { value: Buffer.from(s.value, 'base64'), contentType: s.contentType, ...(typeof s.expiresAt === 'number' ? { expiresAt: s.expiresAt } : {}) };
}

function decodeSiblings(view: AnswerView): SiblingsResult {
  const body = view.json() as { context?: unknown; siblings?: unknown } | undefined;
  if (!Array.isArray(body?.siblings)) throw badResponse(view, 'a 300 without siblings');
  const context = typeof body.context === 'string' ? body.context : contextOf(view);
  return { kind: 'siblings', siblings: body.siblings.map((s) => decodeSibling(view, s)), context, ...etagOf(view) };
}

/** A GET's answer: a value, siblings, not modified, absent; any other answer throws its error. */
export function decodeRead(view: AnswerView): ReadOutcome {
  switch (view.status) {
    case 200:
      return {
        kind: 'value',
        value: view.bytes(),
        contentType: view.header('content-type') ?? octetStream,
        context: contextOf(view),
        ...etagOf(view),
        ...expiresAt(view.header('x-kvorum-expires-at')),
      };
    case 300:
      return decodeSiblings(view);
    case 304: {
      const etag = view.header('etag');
      if (etag === undefined) throw badResponse(view, 'a 304 without ETag');
      return { kind: 'notModified', etag, context: contextOf(view) };
    }
    case 404: {
      const error = errorFromAnswer(view.status, view.json());
      if (error.code !== 'not_found') throw error;
      const context = view.header('x-kvorum-context');
      return context === undefined ? { kind: 'absent' } : { kind: 'absent', context };
    }
    default:
      throw errorFromAnswer(view.status, view.json());
  }
}

/** A PUT's or DELETE's answer: its context; an error answer throws its error. */
export function decodeWrite(view: AnswerView): WriteResult {
  if (view.status >= 200 && view.status < 300) return { context: contextOf(view) };
  throw errorFromAnswer(view.status, view.json());
}
