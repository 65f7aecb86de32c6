// The harness's set workload (workloads/set-process.ts, the same code) run by C simulated clients
// over the simulated network (sim-port.ts). They share the run's one PRNG and one element
// counter, think a seeded exponential time before each operation, talk to a random node per
// operation with one operation in flight each, and record the history in simulated time. Every
// acknowledged add, churn write and churn delete is reported (invariants check its durability and
// the expiry its ack implied). A share of churn operations are conditional, and a share of churn
// puts carry a ttl: most a day (outliving any run), a few 1-10 s (expiring in it).
import type { CausalContext, Dot } from '../../src/core/types.js';
import type { FinalRead, Op } from '../history.js';
import { Recorder } from '../workloads/client.js';
import type { ClientPort, PortOutcome, WriteAck, WriteOptions } from '../workloads/port.js';
import { runSetProcess, unionOf, type SetMix } from '../workloads/set-process.js';
import type { SimCluster } from './cluster.js';
import { simPort } from './sim-port.js';
import { SimFailure, simEpochMs, type World } from './world.js';

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
  /** When the client itself gives up on one request. */
  readonly clientTimeoutMs: number;
}

/** Share of churn writes and deletes made conditional (If-None-Match: * or If-Match the context read). */
const conditionFraction = 0.5;
/** Churn puts with a ttl: a day (live through every check), or seconds (expired and reaped in the run). */
const churnTtls = [
  { fraction: 0.1, seconds: [1, 2, 5, 10] },
  { fraction: 0.2, seconds: [86_400] },
] as const;
const msPerSecond = 1000;

/** An acknowledged write as the invariants hear of it: its sibling, and the expiry the ack reported (null: none). */
export interface AckedWrite {
  readonly key: string;
  readonly dot: Dot;
  readonly expiresAtMs: number | null;
  /** When its request was sent (simulated ms). */
  readonly invokedAtMs: number;
  /** A churn key's write or delete: never asked of a partition's new replicas (a reaped version rightly vanishes). */
  readonly churn: boolean;
}

export class SetWorkload {
  private readonly recorder: Recorder;
  private readonly port: ClientPort<CausalContext>;
  private invoked = 0;
  private nextElement = 0;
  private stopped = false;
  private active = 0;
  /** Conditional and ttl writes sent, and how conditional ones ended (reported with the run's counters). */
  readonly counts = new Map<string, number>();

  constructor(
    private readonly world: World,
    cluster: SimCluster,
    private readonly config: WorkloadConfig,
    /** Told of every acknowledged write (invariants check its durability and expiry). */
    private readonly onAck: (write: AckedWrite) => Promise<void> = async () => {},
  ) {
    this.recorder = new Recorder(() => world.now);
    // The live list: clients follow membership (a joined spare serves, a node gone for good does not).
    this.port = counted(simPort(cluster.network, cluster.active, config, () => world.wallClockMs), this.counts);
  }

  get history(): readonly Op[] {
    return this.recorder.ops;
  }

  get running(): number {
    return this.active;
  }

  /** Starts every client; each stops after its current operation once `stop()` was called. */
  start(): void {
    const c = this.config;
    const mix: SetMix = {
      keys: c.keys, churnKeys: c.churnKeys, churnFraction: c.churnFraction, readFraction: c.readFraction, client: 'safe', conditionFraction, ttl: churnTtls,
    };
    for (let process = 0; process < c.clients; process++) {
      this.active++;
      void runSetProcess(mix, {
        process,
        port: this.port,
        prng: this.world.prng,
        history: this.recorder,
        nextElement: () => this.nextElement++,
        beforeOp: () => this.think(),
        afterFailure: async () => {},
        onWriteAcked: (key, ack, putAtMs, opts) => this.acked(key, ack, putAtMs, opts),
      })
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

  /** A seeded think time; then whether another operation may start (counted if so). */
  private async think(): Promise<boolean> {
    const ms = Math.max(1, Math.round(this.world.prng.exp(this.config.thinkMs)));
    await new Promise<void>((resolve) => this.world.schedule(ms, resolve));
    if (this.done) return false;
    this.invoked++;
    return true;
  }

  /**
   * An acknowledged write: it must name the sibling it created, stamped with the expiry its ttl
   * implies (the coordinator's wall clock between the request and the ack, plus the ttl), or none.
   */
  private async acked(key: string, ack: WriteAck, putAtMs: number, opts: WriteOptions): Promise<void> {
    if (ack.dot === undefined) throw new SimFailure('safety', 'put-result', `${key}: an ok put returned no new sibling`);
    const expiresAtMs = ack.expiresAtMs ?? null;
    if (opts.ttlSeconds === undefined ? expiresAtMs !== null : !this.expiryFits(expiresAtMs, putAtMs, opts.ttlSeconds)) {
      const message = `${key}: a put with ttl ${opts.ttlSeconds ?? 'none'} invoked at ${putAtMs} ms, acknowledged at ${this.world.now} ms, stamped expiry ${expiresAtMs ?? 'none'}`;
      throw new SimFailure('safety', 'ttl-stamped', message, { key, atMs: this.world.now });
    }
    await this.onAck({ key, dot: ack.dot, expiresAtMs, invokedAtMs: putAtMs, churn: this.config.churnKeys.includes(key) });
  }

  private expiryFits(expiresAtMs: number | null, putAtMs: number, ttlSeconds: number): boolean {
    const earliest = simEpochMs + Math.floor(putAtMs) + ttlSeconds * msPerSecond;
    return expiresAtMs !== null && expiresAtMs >= earliest && expiresAtMs <= this.world.wallClockMs + ttlSeconds * msPerSecond;
  }

  /** After healing: every key read with r=all through every node. */
  async finalReads(): Promise<FinalRead[]> {
    const reads = this.config.keys.flatMap((key) =>
      this.port.nodes.map(async (node): Promise<FinalRead> => {
        const got = await this.port.get(node, key, 'all');
        if (got.kind === 'ok') return { key, node, status: got.status, value: unionOf(got.siblings) };
        return { key, node, status: typeof got.status === 'number' ? got.status : 504, value: null };
      }),
    );
    return Promise.all(reads);
  }
}

/** The port, counting the writes sent with a condition or a ttl and the outcomes of conditional ones. */
function counted(port: ClientPort<CausalContext>, counts: Map<string, number>): ClientPort<CausalContext> {
  const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const tally = async (opts: WriteOptions | undefined, outcome: Promise<PortOutcome<WriteAck>>) => {
    const done = await outcome;
    if (opts?.ttlSeconds !== undefined) add(`ttl_${opts.ttlSeconds < 3600 ? 'short' : 'long'}_${done.kind}`);
    if (opts?.condition !== undefined) add(`if_${opts.condition}_${done.kind === 'fail' && done.status === 412 ? 'precondition_failed' : done.kind}`);
    return done;
  };
  return {
    nodes: port.nodes,
    get: (node, key, r) => port.get(node, key, r),
    put: (node, key, value, context, opts) => tally(opts, port.put(node, key, value, context, opts)),
    delete: (node, key, context, opts) => tally(opts, port.delete(node, key, context, opts)),
    sentContext: (context, key) => port.sentContext(context, key),
  };
}
