// The client's public types: options and results of KvorumClient's methods.
import type { KvorumError } from './errors.js';

/** `r`, `w`, `pr`, `pw`: a replica count, or a named form resolved by the server. */
export type Quorum = number | 'one' | 'quorum' | 'all';

/** What a value may be given as. A string is sent as UTF-8. */
export type ValueInput = Buffer | Uint8Array | string;

export interface ClientOptions {
  /** Base URLs of cluster nodes (`http://host:port`); requests go to the first, failing over in order. */
  readonly nodes: readonly string[];
  /**
   * How long one HTTP attempt may take, in ms (default 5000); raised to a request's `timeout`
   * plus 1000 ms when that is longer, so the client never gives up before the server answers.
   */
  readonly timeoutMs?: number;
  /**
   * A client token (`kvorum token create`), sent as `Authorization: Bearer TOKEN` on every request:
   * needed when the nodes run with --auth-file. A 401 or 403 is never failed over to another node.
   */
  readonly token?: string;
}

interface Common {
  /** Server-side quorum wait in ms (1..60000; the server's default is 2000). */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

export interface GetOptions extends Common {
  readonly r?: Quorum;
  readonly pr?: Quorum;
  /** An ETag (or several, or `*`): when the current version matches, the answer is `notModified`. */
  readonly ifNoneMatch?: string | readonly string[];
}

export interface WriteOptions extends Common {
  readonly w?: Quorum;
  readonly pw?: Quorum;
}

export interface PutOptions extends WriteOptions {
  /** The X-Kvorum-Context of the read this write follows: it supersedes exactly what that read saw. */
  readonly context?: string;
  /** Default: the value's own type when given, `text/plain; charset=utf-8` for a string, else `application/octet-stream`. */
  readonly contentType?: string;
  /** Seconds (1..31536000) after which the value is no longer live. */
  readonly ttl?: number;
  /** `'*'`: write only if the key has no live value, else PreconditionFailedError. */
  readonly ifNoneMatch?: '*';
  /** A context token: write only if the key's current version is exactly the one it names, else PreconditionFailedError. */
  readonly ifMatch?: string;
}

export interface DeleteOptions extends WriteOptions {
  readonly context?: string;
  readonly ifMatch?: string;
}

export interface ValueResult {
  readonly kind: 'value';
  readonly value: Buffer;
  readonly contentType: string;
  readonly context: string;
  /** Present when the server supports ETags. */
  readonly etag?: string;
  /** Milliseconds since the epoch, when the value was written with a TTL. */
  readonly expiresAt?: number;
}

export interface Sibling {
  readonly value: Buffer;
  readonly contentType: string;
  readonly expiresAt?: number;
}

export interface SiblingsResult {
  readonly kind: 'siblings';
  readonly siblings: readonly Sibling[];
  readonly context: string;
  readonly etag?: string;
}

/** A `304`: the version named by `ifNoneMatch` is still the current one. */
export interface NotModifiedResult {
  readonly kind: 'notModified';
  readonly etag: string;
  readonly context: string;
}

/** `null`: no live value (never written, deleted or expired). */
export type GetResult = ValueResult | SiblingsResult | NotModifiedResult | null;

export interface WriteResult {
  /** The context of this write: write again with it to supersede it. */
  readonly context: string;
}

/** A value as update()'s functions return it; a missing contentType keeps the current one. */
export type UpdateValue = ValueInput | { readonly value: ValueInput; readonly contentType?: string };

export interface Current {
  readonly value: Buffer;
  readonly contentType: string;
}

export interface UpdateOptions extends WriteOptions {
  readonly r?: Quorum;
  readonly pr?: Quorum;
  /** Merges siblings into the one current value; without it, siblings throw UnresolvedSiblingsError. */
  readonly resolve?: (siblings: readonly Sibling[]) => UpdateValue | Promise<UpdateValue>;
  /** Attempts after the first on a retryable failure (default 3). */
  readonly retries?: number;
  /** Seconds to live of the written value (an update without it writes a value without a TTL). */
  readonly ttl?: number;
  /**
   * Write with If-Match on the read's context instead of X-Kvorum-Context (or If-None-Match: *
   * for a key never written), so a concurrent write makes this attempt fail with 412 and retry
   * rather than become a sibling. Needs a server with conditional requests: a read without an
   * ETag (an older server) falls back to the context.
   */
  readonly conditional?: boolean;
}

export interface UpdateResult extends WriteResult {
  readonly value: Buffer;
  readonly contentType: string;
}

export interface ListOptions {
  readonly prefix?: string;
  /** Keys per page, 1..1000 (the server's default is 100). */
  readonly limit?: number;
  readonly r?: Quorum;
  readonly timeout?: number;
  /** Start from this cursor (a page's `cursor`) instead of the beginning. */
  readonly cursor?: string;
  readonly signal?: AbortSignal;
}

export interface ListPageResult {
  readonly keys: readonly string[];
  /** null: the listing is complete. */
  readonly cursor: string | null;
}

export interface BatchGet {
  readonly op: 'get';
  readonly key: string;
  readonly r?: Quorum;
  readonly pr?: Quorum;
  readonly timeout?: number;
  readonly ifNoneMatch?: string;
}

export interface BatchPut {
  readonly op: 'put';
  readonly key: string;
  readonly value: ValueInput;
  readonly contentType?: string;
  readonly context?: string;
  readonly w?: Quorum;
  readonly pw?: Quorum;
  readonly timeout?: number;
  readonly ttl?: number;
  readonly ifMatch?: string;
  readonly ifNoneMatch?: '*';
}

export interface BatchDelete {
  readonly op: 'delete';
  readonly key: string;
  readonly context?: string;
  readonly w?: Quorum;
  readonly pw?: Quorum;
  readonly timeout?: number;
  readonly ifMatch?: string;
}

export type BatchOp = BatchGet | BatchPut | BatchDelete;

/** One operation's outcome: what it would have given alone, or its error (other operations still ran). */
export type BatchOutcome<R> =
  | { readonly ok: true; readonly status: number; readonly node?: string; readonly result: R }
  | { readonly ok: false; readonly status: number; readonly node?: string; readonly error: KvorumError };

/** The outcome type of one batch operation: a get's is a GetResult, a put's or delete's a WriteResult. */
export type BatchOutcomeOf<T extends BatchOp> = T extends BatchGet ? BatchOutcome<GetResult> : BatchOutcome<WriteResult>;

export interface BatchOptions {
  readonly signal?: AbortSignal;
}
