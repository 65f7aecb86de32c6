// The set workload of the real harness, in process: C client processes add unique integers to a
// few keys by read-modify-write with the causal context, resolving siblings by set union, and
// sometimes read a set. Each client talks to a random node per operation, has one operation in
// flight, and records Jepsen-style invoke/complete pairs in simulated time. An `add` is `ok` when
// the put answered ok (HTTP 204), `fail` when nothing can have been written (the read failed, or
// the node refused the connection), and `info` otherwise (503 after the write, timeout, reset).
// Some operations go to separate churn keys instead: a read, then a put or a delete with the
// context it returned, so deletes, tombstones and their reaping race with everything else.
import { encodeContext } from '../../src/core/context-token.js';
import { covers, liveValues } from '../../src/core/dvv.js';
import type { ClientResult } from '../../src/core/rpc.js';
import type { CausalContext, Dot, NodeId, VersionedObject } from '../../src/core/types.js';
import type { FinalRead, Op } from '../history.js';
import type { SimCluster } from './cluster.js';
import type { ClientOutcome } from './network.js';
import { SimFailure, type World } from './world.js';

export interface WorkloadConfig {
  readonly clients: number;
  readonly keys: readonly string[];
  /** Operations invoked at most (adds and reads together). */
  readonly opsMax: number;
  /** Mean think time between a client's operations, simulated ms. */
  readonly thinkMs: number;
  readonly readFraction: number;
  /** Keys only written and deleted (never in the set checker), and the share of operations on them. */
  readonly churnKeys: readonly string[];
  readonly churnFraction: number;
  /** The coordinator's deadline (the `timeout` query parameter). */
  readonly requestTimeoutMs: number;
  /** When the client itself gives up on one HTTP request. */
  readonly clientTimeoutMs: number;
}

/** The elements a stored object holds: the union of its live siblings' JSON arrays. */
export function elementsOf(object: VersionedObject | undefined): number[] {
  const all = new Set<number>();
  for (const value of liveValues(object)) {
    const parsed: unknown = JSON.parse(Buffer.from(value.data).toString('utf8'));
    if (!Array.isArray(parsed) || !parsed.every((x) => Number.isInteger(x))) {
      throw new SimFailure('safety', 'value-corrupt', `a sibling is not a JSON array of integers: ${JSON.stringify(parsed)}`);
    }
    for (const x of parsed as number[]) all.add(x);
  }
  return [...all].sort((a, b) => a - b);
}

const statusOf = (o: ClientOutcome, okStatus: (r: Extract<ClientResult, { ok: true }>) => number): number | string => {
  if (o.kind === 'result') return o.result.ok ? okStatus(o.result) : o.result.code === 'quorum_unavailable' ? 503 : o.result.code;
  return o.kind === 'refused' ? 'ECONNREFUSED' : o.kind === 'reset' ? 'ECONNRESET' : 'timeout';
};
const readStatus = (r: Extract<ClientResult, { ok: true }>) => (liveValues(r.object).length === 0 ? 404 : liveValues(r.object).length > 1 ? 300 : 200);

/** The dot of the sibling a put created: in the writer's context, not in the one it wrote with. */
function writtenDot(result: Extract<ClientResult, { ok: true }>, before: CausalContext): Dot | undefined {
  return result.object?.siblings.find((s) => covers(result.context, s.dot) && !covers(before, s.dot))?.dot;
}

export class SetWorkload {
  readonly history: Op[] = [];
  private invoked = 0;
  private nextElement = 0;
  private stopped = false;
  private active = 0;

  constructor(
    private readonly world: World,
    private readonly cluster: SimCluster,
    private readonly config: WorkloadConfig,
    /** Told of every acknowledged write (an invariant checks its durability). */
    private readonly onAck: (key: string, dot: Dot, invokedAtMs: number) => Promise<void> = async () => {},
  ) {}

  get running(): number {
    return this.active;
  }

  get opsInvoked(): number {
    return this.invoked;
  }

  /** Starts every client; each stops after its current operation once `stop()` was called. */
  start(): void {
    for (let p = 0; p < this.config.clients; p++) {
      this.active++;
      void this.client(p)
        .catch((err: unknown) => this.world.fail(err instanceof Error ? err : new Error(String(err))))
        .finally(() => this.active--);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  get done(): boolean {
    return this.stopped || this.invoked >= this.config.opsMax;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.world.schedule(ms, resolve));
  }

  private async client(process: number): Promise<void> {
    const p = this.world.prng;
    for (;;) {
      await this.sleep(Math.max(1, Math.round(p.exp(this.config.thinkMs))));
      if (this.done) return;
      this.invoked++;
      if (this.config.churnKeys.length > 0 && p.chance(this.config.churnFraction)) {
        const key = p.pick(this.config.churnKeys);
        await this.churn(process, key, p.pick(this.cluster.ids), p.chance(0.5) ? 'delete' : 'write', this.nextElement++);
        continue;
      }
      const key = p.pick(this.config.keys);
      const node = p.pick(this.cluster.ids);
      if (p.chance(this.config.readFraction)) await this.read(process, key, node);
      else await this.add(process, key, node, this.nextElement++);
    }
  }

  private record(op: Op): void {
    this.history.push(op);
  }

  private complete(invoke: Op, type: 'ok' | 'fail' | 'info', status: number | string, value: Op['value'] = invoke.value, sentContext?: string): void {
    const timeMs = this.world.now;
    this.record({ ...invoke, type, value, timeMs, latencyMs: timeMs - invoke.timeMs, status, ...(sentContext === undefined ? {} : { sentContext }) });
  }

  private call(node: NodeId, op: Parameters<SimCluster['network']['clientCall']>[1]): Promise<ClientOutcome> {
    return this.cluster.network.clientCall(node, op, this.config.clientTimeoutMs);
  }

  private async add(process: number, key: string, node: NodeId, element: number): Promise<void> {
    const invoke: Op = { process, type: 'invoke', f: 'add', key, value: element, timeMs: this.world.now, node };
    this.record(invoke);
    const timeoutMs = this.config.requestTimeoutMs;
    const read = await this.call(node, { op: 'get', key, r: 'quorum', pr: 0, timeoutMs });
    // Nothing was written yet: whatever went wrong, the add certainly did not happen.
    if (read.kind !== 'result' || !read.result.ok) return this.complete(invoke, 'fail', statusOf(read, readStatus));
    const union = [...elementsOf(read.result.object), element];
    const data = new Uint8Array(Buffer.from(JSON.stringify(union), 'utf8'));
    const putAtMs = this.world.now;
    const put = await this.call(node, { op: 'put', key, data, contentType: 'application/json', context: read.result.context, w: 'quorum', pw: 0, timeoutMs });
    if (put.kind === 'result' && put.result.ok) {
      const dot = writtenDot(put.result, read.result.context);
      if (dot === undefined) throw new SimFailure('safety', 'put-result', `${key}: an ok put returned no new sibling`);
      await this.onAck(key, dot, putAtMs);
      return this.complete(invoke, 'ok', 204);
    }
    this.complete(invoke, put.kind === 'refused' ? 'fail' : 'info', statusOf(put, () => 204));
  }

  /** Read-modify-write of a churn key: replace what was read with [element], or delete it. */
  private async churn(process: number, key: string, node: NodeId, f: 'write' | 'delete', element: number): Promise<void> {
    const invoke: Op = { process, type: 'invoke', f, key, value: f === 'write' ? element : null, timeMs: this.world.now, node };
    this.record(invoke);
    const timeoutMs = this.config.requestTimeoutMs;
    const read = await this.call(node, { op: 'get', key, r: 'quorum', pr: 0, timeoutMs });
    if (read.kind !== 'result' || !read.result.ok) return this.complete(invoke, 'fail', statusOf(read, readStatus));
    const { context } = read.result;
    const data = new Uint8Array(Buffer.from(JSON.stringify([element]), 'utf8'));
    const done = await this.call(
      node,
      f === 'write'
        ? { op: 'put', key, data, contentType: 'application/json', context, w: 'quorum', pw: 0, timeoutMs }
        : { op: 'delete', key, context, w: 'quorum', pw: 0, timeoutMs },
    );
    // The context it was sent with, as the HTTP client would have sent it: the checker decodes it.
    if (done.kind === 'result' && done.result.ok) return this.complete(invoke, 'ok', 204, invoke.value, encodeContext(context, key));
    this.complete(invoke, done.kind === 'refused' ? 'fail' : 'info', statusOf(done, () => 204));
  }

  private async read(process: number, key: string, node: NodeId): Promise<void> {
    const invoke: Op = { process, type: 'invoke', f: 'read', key, value: null, timeMs: this.world.now, node };
    this.record(invoke);
    const got = await this.call(node, { op: 'get', key, r: 'quorum', pr: 0, timeoutMs: this.config.requestTimeoutMs });
    if (got.kind === 'result' && got.result.ok) return this.complete(invoke, 'ok', readStatus(got.result), elementsOf(got.result.object));
    this.complete(invoke, 'fail', statusOf(got, readStatus), null);
  }

  /** After healing: every key read with r=all through every node. */
  async finalReads(): Promise<FinalRead[]> {
    const reads = this.config.keys.flatMap((key) =>
      this.cluster.ids.map(async (node): Promise<FinalRead> => {
        const got = await this.call(node, { op: 'get', key, r: 'all', pr: 0, timeoutMs: this.config.requestTimeoutMs });
        const status = statusOf(got, readStatus);
        const ok = got.kind === 'result' && got.result.ok;
        return { key, node, status: typeof status === 'number' ? status : 504, value: ok ? elementsOf(got.result.object) : null };
      }),
    );
    return Promise.all(reads);
  }
}
