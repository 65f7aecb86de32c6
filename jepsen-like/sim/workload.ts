// The harness's set workload (workloads/set-process.ts, the same code) run by C simulated clients
// over the simulated network (sim-port.ts). They share the run's one PRNG and one element
// counter, think a seeded exponential time before each operation, talk to a random node per
// operation with one operation in flight each, and record the history in simulated time. Every
// acknowledged add is reported (an invariant checks its durability).
import type { CausalContext, Dot } from '../../src/core/types.js';
import type { FinalRead, Op } from '../history.js';
import { Recorder } from '../workloads/client.js';
import type { ClientPort, WriteAck } from '../workloads/port.js';
import { runSetProcess, unionOf, type SetMix } from '../workloads/set-process.js';
import type { SimCluster } from './cluster.js';
import { simPort } from './sim-port.js';
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
  /** When the client itself gives up on one request. */
  readonly clientTimeoutMs: number;
}

export class SetWorkload {
  private readonly recorder: Recorder;
  private readonly port: ClientPort<CausalContext>;
  private invoked = 0;
  private nextElement = 0;
  private stopped = false;
  private active = 0;

  constructor(
    private readonly world: World,
    cluster: SimCluster,
    private readonly config: WorkloadConfig,
    /** Told of every acknowledged add (an invariant checks its durability). */
    private readonly onAck: (key: string, dot: Dot, invokedAtMs: number) => Promise<void> = async () => {},
  ) {
    this.recorder = new Recorder(() => world.now);
    // The live list: clients follow membership (a joined spare serves, a node gone for good does not).
    this.port = simPort(cluster.network, cluster.active, config);
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
    const mix: SetMix = { keys: c.keys, churnKeys: c.churnKeys, churnFraction: c.churnFraction, readFraction: c.readFraction, client: 'safe' };
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
        onAddAcked: (key, ack, putAtMs) => this.acked(key, ack, putAtMs),
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

  private async acked(key: string, ack: WriteAck, putAtMs: number): Promise<void> {
    if (ack.dot === undefined) throw new SimFailure('safety', 'put-result', `${key}: an ok put returned no new sibling`);
    await this.onAck(key, ack.dot, putAtMs);
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
