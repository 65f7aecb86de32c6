// The fuzzer's data model: a generated case is a few HTTP exchanges (steps), each with the answers
// the contract in docs/api.md allows. Generators produce these as plain data; the runner sends
// them and the oracle checks the answers. Nothing here does I/O.
import type { ErrorCode } from '../../src/core/errors.js';

export type Family = 'client' | 'admin' | 'rpc' | 'raw';
export const families: readonly Family[] = ['client', 'admin', 'rpc', 'raw'];

/** A header value: a string is sent as UTF-8 bytes, a Buffer byte for byte. */
export type HeaderValue = string | Buffer;

/** A structured HTTP/1.1 request, rendered to bytes by wire-request.ts. */
export interface HttpShape {
  readonly method: string;
  /** The request-target; a Buffer is sent byte for byte (raw non-ASCII, raw spaces). */
  readonly target: string | Buffer;
  /** In order, duplicates allowed. `Host` and the framing header are added by the renderer. */
  readonly headers: readonly (readonly [string, HeaderValue])[];
  readonly body: Buffer;
  /** `length`: Content-Length (omitted for an empty body of a method that has none); `chunked`: these chunk sizes. */
  readonly framing: { readonly kind: 'length' } | { readonly kind: 'chunked'; readonly chunks: readonly number[] };
}

/** What a success body must look like, when the status is a success. */
export type BodyKind = 'kv-read' | 'kv-write' | 'health' | 'cluster' | 'metrics' | 'replica' | 'rpc' | 'any';

/** The answers allowed for one response. */
export interface Expect {
  /** Success statuses allowed (2xx, 300). */
  readonly ok: readonly number[];
  /** Catalogued error codes allowed; the status must be the catalog's. */
  readonly errors: readonly ErrorCode[];
  /** The answer to a HEAD request: no body to check. */
  readonly head?: boolean;
  readonly body: BodyKind;
  /** For `rpc`: how many outcomes the batch answer must hold. */
  readonly rpcBatch?: number;
  /** Why these answers (printed with a finding); uncertain problems are marked `?`. */
  readonly why: readonly string[];
  /** Tags of the problems that make a refusal certain: part of a finding's signature. */
  readonly certain?: readonly string[];
}

/** Where a step's X-Kvorum-Context comes from: the answer to an earlier step of the same case. */
export interface ContextFrom {
  readonly step: number;
  /** `bump`: every counter set to 2^53-1 (re-encoded); `truncate`: cut in half; `twice`: the header sent twice. */
  readonly transform: 'none' | 'truncate' | 'bump' | 'twice';
}

/** A check made after a step's answer, with further requests. */
export type PostCheck =
  /** After a 2xx write: GET r=all returns exactly this value with one of these Content-Types. */
  | { readonly kind: 'stored'; readonly encodedKey: string; readonly body: Buffer; readonly contentTypes: readonly string[] }
  /** After a refusal (4xx): the node holds no copy of this key (GET /replica/kv is 404). */
  | { readonly kind: 'absent'; readonly encodedKey: string };

export interface CaseStep {
  /** Node index (0-based) the request goes to. */
  readonly node: number;
  /** A structured request, or raw bytes (the malformed-HTTP family). */
  readonly request: HttpShape | Buffer;
  /** One entry per answer expected on the connection, in order. */
  readonly expect: readonly Expect[];
  /** The step is skipped when the step named here got no X-Kvorum-Context to take. */
  readonly context?: ContextFrom;
  readonly after?: PostCheck;
}

export interface FuzzCase {
  readonly family: Family;
  /** A short label of the generator branch, e.g. `client.PUT`, `raw.cl-te`, `rpc.mutate.swap`. */
  readonly name: string;
  /** Which hostile ingredients the case has (e.g. `ct:dup`, `ctx:other-key`); part of a finding's signature. */
  readonly tags: readonly string[];
  readonly steps: readonly CaseStep[];
}

/** Where a case comes from: regenerate it with `generate(seed, worker, index)`. */
export interface CaseId {
  readonly seed: number;
  readonly worker: number;
  readonly index: number;
}
