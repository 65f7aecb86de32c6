// The client API's wire shapes (docs/api.md section 2, contract of issue 14) as TypeScript types:
// what the HTTP bodies and headers hold, before the client decodes them into its own results
// (Buffers instead of base64, numbers instead of header strings). Types only: no runtime code.

/** Header names the client reads or sends (lower case, as fetch's Headers returns them). */
export type WireHeader =
  | 'x-kvorum-context'
  | 'x-kvorum-node'
  | 'x-kvorum-expires-at'
  | 'content-type'
  | 'etag'
  | 'if-none-match'
  | 'if-match';

/** Every error answer: `{"error": code, "message": text, ...details}`. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly [detail: string]: unknown;
}

/** One sibling of a `300 Multiple Choices` body. */
export interface WireSibling {
  /** The value's bytes, base64. */
  readonly value: string;
  readonly contentType: string;
  /** Milliseconds since the epoch, when the value was written with a TTL. */
  readonly expiresAt?: number;
}

/** The body of `300 Multiple Choices` (GET, PUT with returnbody=true). */
export interface SiblingsBody {
  readonly context: string;
  readonly siblings: readonly WireSibling[];
}

/** `GET /kv?prefix=&limit=&cursor=&r=&timeout=`: one page. `cursor: null` means the listing is complete. */
export interface ListPage {
  readonly keys: readonly string[];
  readonly cursor: string | null;
}

/** Quorum, timeout and ttl fields of batch operations: the query forms, as strings or integers. */
export type WireParam = string | number;

export interface WireBatchGet {
  readonly op: 'get';
  /** The decoded key (1..512 bytes of UTF-8), not percent-encoded. */
  readonly key: string;
  readonly r?: WireParam;
  readonly pr?: WireParam;
  readonly timeout?: WireParam;
  readonly ifNoneMatch?: string;
}

export interface WireBatchPut {
  readonly op: 'put';
  readonly key: string;
  /** The value's bytes, base64. */
  readonly value: string;
  readonly contentType?: string;
  readonly context?: string;
  readonly w?: WireParam;
  readonly pw?: WireParam;
  readonly timeout?: WireParam;
  readonly ttl?: WireParam;
  readonly ifMatch?: string;
  readonly ifNoneMatch?: '*';
  readonly returnbody?: boolean;
}

export interface WireBatchDelete {
  readonly op: 'delete';
  readonly key: string;
  readonly context?: string;
  readonly w?: WireParam;
  readonly pw?: WireParam;
  readonly timeout?: WireParam;
  readonly ifMatch?: string;
}

export type WireBatchOp = WireBatchGet | WireBatchPut | WireBatchDelete;

/** `POST /batch` body: 1..100 operations. */
export interface BatchRequestBody {
  readonly ops: readonly WireBatchOp[];
}

/** The headers an operation would have answered alone (lower-case names). */
export interface WireBatchHeaders {
  readonly 'x-kvorum-context'?: string;
  readonly 'content-type'?: string;
  readonly etag?: string;
  readonly 'x-kvorum-expires-at'?: string;
  readonly 'x-kvorum-node'?: string;
}

/** One operation's answer, in op order: its status and headers, and its body. */
export interface WireBatchResult {
  readonly status: number;
  readonly headers: WireBatchHeaders;
  /** A 200 value's bytes, base64. */
  readonly value?: string;
  /** A JSON body: the siblings of a 300, or an error. */
  readonly body?: SiblingsBody | ErrorBody;
}

/** `200` answer of `POST /batch`. */
export interface BatchResponseBody {
  readonly results: readonly WireBatchResult[];
}
