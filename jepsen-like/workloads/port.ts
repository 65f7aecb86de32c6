// The client port of the workloads: what a client process may ask of a kvorum cluster and what it
// learns. The set workload is written once against it; the harness plugs in an HTTP adapter
// (http-port.ts, real processes) and the simulator one over its simulated network (sim/sim-port.ts).
// Each adapter decides what its failures mean: `fail` promises the request was not applied,
// `info` may or may not have been (a timeout, a reset, a 503 after the write).
import type { Dot } from '../../src/core/types.js';

/** A completed request: ok with what it returned, or a failure with its HTTP status or error code. */
export type PortOutcome<T> =
  | ({ readonly kind: 'ok' } & T)
  | { readonly kind: 'fail' | 'info'; readonly status: number | string };

/** A read's answer: 200 (one value), 300 (siblings) or 404 (none), each value a decoded JSON array. */
export interface ReadAnswer<Ctx> {
  readonly status: number;
  readonly siblings: readonly (readonly number[])[];
  /** The causal context to write back with; opaque to the workload. */
  readonly context: Ctx;
}

export interface WriteAck {
  readonly status: number;
  /** The sibling the write created, when the adapter can tell (the simulator sees the object). */
  readonly dot?: Dot | undefined;
  /** That sibling's expiry (wall-clock ms) as the write stamped it, when the adapter can tell. */
  readonly expiresAtMs?: number | undefined;
}

/**
 * A write's options. `condition`: `match` makes it conditional on the key still being at `context`
 * (If-Match: the context read), `absent` on the key having no live value (If-None-Match: *, puts
 * only); a condition that does not hold is a `fail` (412: nothing was written). `ttlSeconds`: the
 * value expires that long after the coordinator's wall clock at the write (puts only).
 */
export interface WriteOptions {
  readonly condition?: 'match' | 'absent' | undefined;
  readonly ttlSeconds?: number | undefined;
}

/** `Ctx` is the adapter's causal context: the HTTP header's token, or the simulator's context object. */
export interface ClientPort<Ctx> {
  /** Ids of the nodes a request may go to. */
  readonly nodes: readonly string[];
  get(node: string, key: string, r: 'quorum' | 'all'): Promise<PortOutcome<ReadAnswer<Ctx>>>;
  /** Writes `value` as a JSON array with w=quorum, superseding what `context` covers. */
  put(node: string, key: string, value: readonly number[], context: Ctx, opts?: WriteOptions): Promise<PortOutcome<WriteAck>>;
  delete(node: string, key: string, context: Ctx, opts?: Pick<WriteOptions, 'condition'>): Promise<PortOutcome<WriteAck>>;
  /** The context as the HTTP client sends it (X-Kvorum-Context): the supersession checker decodes it. */
  sentContext(context: Ctx, key: string): string | undefined;
}
