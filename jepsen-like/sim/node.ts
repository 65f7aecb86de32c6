// One simulated kvorum process: its state (up, down, paused), its incarnation, its disk and core,
// and what it does with what the network delivers to it. A down node refuses, and so does one
// still starting (the real node opens its port only once core.start() has rebuilt its trees and
// dropped what it no longer holds); a running one hands a node-to-node request to its core's RPC
// handler and a client request to its coordinator, and answers only if the incarnation that took
// the request is still alive (a crash loses answers).
import { failureCatalog, failureClassOf, type FailureCode } from '../../src/core/errors.js';
import type { NodeCore } from '../../src/core/node-core.js';
import type { Logger } from '../../src/core/ports.js';
import type { RingState } from '../../src/core/ring-state.js';
import type { AdminOp, ClientOp, RpcRequest } from '../../src/core/rpc.js';
import type { NodeId } from '../../src/core/types.js';
import type { MemoryStorage } from '../../src/storage/memory.js';
import type { AdminCallOutcome, ClientOutcome, Endpoint, RpcAnswer } from './network.js';
import type { SimEvent } from './queue.js';
import type { SimStorage } from './sim-storage.js';
import { SimFailure } from './world.js';

export class SimNode implements Endpoint {
  gen = 0;
  state: 'up' | 'down' | 'paused' = 'down';
  /** The core has started: the node listens (set by the cluster, cleared by a crash). */
  ready = false;
  /** Its ring says it was removed: this incarnation is stopping (cleared by a crash). */
  leaving = false;
  readonly deferred: SimEvent[] = [];
  storage: SimStorage | undefined;
  core: NodeCore | undefined;
  /** Every data-directory incarnation this node has had (a wipe adds one). */
  readonly incarnations: string[] = [];
  /** Client requests being served: a crash resets their connections. */
  readonly inflight = new Set<() => void>();
  /** The ring a first start begins from: a new cluster's, or the one a join was given. */
  startRing: RingState | undefined;
  /** The ring this disk keeps (what a restart begins from); a wipe loses it. */
  storedRing: RingState | undefined;

  constructor(
    readonly id: NodeId,
    public disk: MemoryStorage,
    /** Told of a bug found while serving (the world records it as the run's failure). */
    private readonly fail: (err: Error) => void,
  ) {
    this.incarnations.push(disk.incarnation);
  }

  handleRpc(request: RpcRequest, reply: (answer: RpcAnswer) => void): void {
    if (!this.listening || this.core === undefined) return reply({ kind: 'refused' });
    const gen = this.gen;
    this.core.rpc.handle(request).then(
      (response) => {
        if (this.gen !== gen) return; // died while handling it: no answer
        reply({ kind: 'response', response });
      },
      (err: unknown) => {
        if (this.gen !== gen) return;
        // A refused request is the caller's problem; a bug (an assertion, a TypeError) fails the run.
        if (failureClassOf(err) === 'bug') this.bug(`handle(${request.type}) threw`, err);
        reply({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  serveClient(op: ClientOp, reply: (outcome: ClientOutcome) => void): void {
    // The core must answer every request with a result; a throw is a bug (HTTP 500).
    this.serve((core) => core.coordinator.execute(op), (result) => reply({ kind: 'result', result }), reply, `execute(${op.op} ${op.key})`);
  }

  /** An operator's membership request (the HTTP admin routes): answered like a client request. */
  serveAdmin(op: AdminOp, reply: (outcome: AdminCallOutcome) => void): void {
    this.serve((core) => core.membership.admin(op), (outcome) => reply({ kind: 'answer', outcome }), reply, `admin(${op.op})`);
  }

  /**
   * Runs a request from outside the cluster on the core: refused unless listening, its connection
   * reset if this incarnation crashes first (the answer is then dropped), and a throw is a bug.
   */
  private serve<T>(
    work: (core: NodeCore) => Promise<T>,
    answer: (value: T) => void,
    reply: (failure: { readonly kind: 'refused' | 'reset' }) => void,
    what: string,
  ): void {
    if (!this.listening || this.core === undefined) return reply({ kind: 'refused' });
    const gen = this.gen;
    const reset = () => reply({ kind: 'reset' });
    this.inflight.add(reset);
    work(this.core).then(
      (value) => {
        if (this.gen !== gen) return;
        this.inflight.delete(reset);
        answer(value);
      },
      (err: unknown) => {
        if (this.gen !== gen) return;
        this.bug(`${what} threw`, err);
      },
    );
  }

  /**
   * The node's log: silent, except that a line about a bug (the core logs the bugs it survives,
   * e.g. a background round that threw, with a `failure` of class bug) fails the run.
   */
  readonly log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (fields: object, message: string) => {
      const code = (fields as { failure?: string }).failure;
      if (code !== undefined && failureCatalog[code as FailureCode]?.class === 'bug') this.bug(message, (fields as { err?: unknown }).err);
    },
  };

  private bug(what: string, err: unknown): void {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.fail(new SimFailure('safety', 'bug', `${this.id}: ${what}: ${detail}`));
  }

  private get listening(): boolean {
    return this.state !== 'down' && this.ready;
  }

  /** SIGKILL of the process: a new generation, no core, and every client connection reset. */
  kill(): void {
    this.gen++;
    this.state = 'down';
    this.ready = false;
    this.leaving = false;
    this.deferred.length = 0;
    this.storage?.crash();
    this.storage = undefined;
    this.core = undefined;
    for (const reset of this.inflight) reset();
    this.inflight.clear();
  }
}
