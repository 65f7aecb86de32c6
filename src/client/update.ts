// update(): read, resolve siblings, change, write with the read's context; retried (bounded, with
// backoff) when the attempt failed in a way a fresh read can cure. It never writes without the
// context of a read, so it never makes a sibling of the value it read.
import {
  KvorumError, OutcomeUnknownError, OverloadedError, PreconditionFailedError, QuorumUnavailableError, UnreachableError,
} from './errors.js';
import type { ReadOutcome } from './decode.js';
import { pause } from './transport.js';
import type { Current, GetOptions, Sibling, PutOptions, UpdateOptions, UpdateResult, UpdateValue, ValueInput, WriteResult } from './types.js';

/** update() read siblings and has no `resolve` function to merge them; nothing was written. */
export class UnresolvedSiblingsError extends KvorumError {
  override name = 'UnresolvedSiblingsError';
  constructor(
    readonly siblings: readonly Sibling[],
    readonly context: string,
  ) {
    super(null, 'unresolved_siblings', `The key has ${siblings.length} siblings and update() was given no resolve function; nothing was written.`, {});
  }
}

export const updateRetriesDefault = 3;
const backoffMsBase = 25;
const backoffMsMax = 1000;

export type Change = (current: Current | null) => UpdateValue | Promise<UpdateValue>;

/** What update() needs of the client. */
export interface UpdateDeps {
  read(key: string, opts: GetOptions): Promise<ReadOutcome>;
  put(key: string, value: ValueInput, opts: PutOptions): Promise<WriteResult>;
}

export const textContentType = 'text/plain; charset=utf-8';
export const bytesContentType = 'application/octet-stream';

export const toBytes = (value: ValueInput): Buffer =>
  typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);

export const contentTypeFor = (value: ValueInput): string => (typeof value === 'string' ? textContentType : bytesContentType);

/** A returned value as bytes and type; a missing type is `fallback`, else the value's own default. */
export function normalise(value: UpdateValue, fallback: string | undefined): Current {
  if (typeof value === 'string' || value instanceof Uint8Array) return { value: toBytes(value), contentType: fallback ?? contentTypeFor(value) };
  return { value: toBytes(value.value), contentType: value.contentType ?? fallback ?? contentTypeFor(value.value) };
}

/**
 * Failures a fresh read can cure: no quorum, no node reachable (a node restarting or shutting
 * down), every node overloaded (nothing was run; the backoff gives them time), a write that timed out or lost its connection (then the next read may or may not see
 * it: if it does not, the two attempts become siblings, which a later resolve merges; nothing is
 * lost), and a condition that no longer held (conditional mode).
 */
export function retryable(err: unknown): boolean {
  return (
    err instanceof QuorumUnavailableError ||
    err instanceof UnreachableError ||
    err instanceof OverloadedError ||
    err instanceof OutcomeUnknownError ||
    err instanceof PreconditionFailedError
  );
}

/** Full-jitter exponential backoff: a random pause in [0, min(max, base * 2^attempt)). */
export const backoffMs = (attempt: number): number => Math.random() * Math.min(backoffMsMax, backoffMsBase * 2 ** attempt);

async function currentOf(read: ReadOutcome, opts: UpdateOptions): Promise<Current | null> {
  switch (read.kind) {
    case 'value':
      return { value: read.value, contentType: read.contentType };
    case 'siblings':
      if (opts.resolve === undefined) throw new UnresolvedSiblingsError(read.siblings, read.context);
      return normalise(await opts.resolve(read.siblings), read.siblings[0]?.contentType);
    case 'absent':
      return null;
    default:
      throw new KvorumError(304, 'bad_response', 'update() read a 304 it did not ask for.');
  }
}

/** How the attempt's write names what it read: the context, or (conditional) If-Match / If-None-Match. */
function causality(read: ReadOutcome, conditional: boolean): Pick<PutOptions, 'context' | 'ifMatch' | 'ifNoneMatch'> {
  const context = read.context;
  if (conditional && read.kind !== 'absent' && 'etag' in read && read.etag !== undefined) return { ifMatch: read.context };
  if (conditional && read.kind === 'absent' && context === undefined) return { ifNoneMatch: '*' };
  return context === undefined ? {} : { context };
}

async function attempt(deps: UpdateDeps, key: string, change: Change, opts: UpdateOptions): Promise<UpdateResult> {
  const { r, pr, w, pw, timeout, signal, ttl } = opts;
  const read = await deps.read(key, { r, pr, timeout, signal });
  const current = await currentOf(read, opts);
  const next = normalise(await change(current), current?.contentType);
  const written = await deps.put(key, next.value, { ...causality(read, opts.conditional === true), contentType: next.contentType, w, pw, timeout, ttl, signal });
  return { context: written.context, value: next.value, contentType: next.contentType };
}

export async function runUpdate(deps: UpdateDeps, key: string, change: Change, opts: UpdateOptions = {}): Promise<UpdateResult> {
  const retries = opts.retries ?? updateRetriesDefault;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError('retries must be a non-negative integer.');
  for (let n = 0; ; n++) {
    try {
      return await attempt(deps, key, change, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (n >= retries || !retryable(err)) throw err;
    }
    await pause(backoffMs(n), opts.signal);
  }
}
