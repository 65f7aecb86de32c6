// Membership changes during a run (docs/api.md section 3, Membership), driven as an operator
// would: spares join (a new node registers through a member, as `kvorum start --join` does, and
// starts from the ring it gets back), members leave, are replaced, or die for good and are removed
// with --force; then the staged changes are committed. Each step goes to a random running node
// over the simulated network (the admin routes; register is internal RPC from the new node) and is
// retried while refused (claimant unreachable behind a partition, a plan still moving): as often
// as it takes while the faults run, a bounded number of times once they are healed.
//
// What changes, and when, is chosen from the seed before the run (chooseMembership) with a PRNG
// forked from the run's, so seeds without membership draw exactly what they drew before.
import { incomingOf, movingPartitions } from '../../src/core/membership-plan.js';
import type { RingState, StagedChange } from '../../src/core/ring-state.js';
import type { AdminOp, AdminOutcome } from '../../src/core/rpc.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
import type { SimCluster } from './cluster.js';
import type { AdminCallOutcome } from './network.js';
import type { SimPrng } from './prng.js';
import { ringStateOf } from './rings.js';
import { SimFailure, type World } from './world.js';

export type SimChange =
  | { readonly kind: 'join'; readonly node: NodeId }
  | { readonly kind: 'leave'; readonly node: NodeId }
  | { readonly kind: 'replace'; readonly node: NodeId; readonly by: NodeId }
  /** The node dies for good first (crash, disk lost), then is removed with --force. */
  | { readonly kind: 'remove'; readonly node: NodeId };

export interface MembershipRound {
  /** The first round: simulated ms from the start; a later one: ms after the previous commit. */
  readonly afterMs: number;
  readonly changes: readonly SimChange[];
}

export interface MembershipConfig {
  /** Spare nodes (after the members' ids) that may join. */
  readonly spares: number;
  readonly rounds: readonly MembershipRound[];
}

export interface MembershipEvent {
  readonly atMs: number;
  readonly what: string;
}

/** One operator request's fate (`after`: the ring it answered with, when it did). */
type Attempt = { readonly kind: 'ok'; readonly after?: RingState } | { readonly kind: 'no'; readonly why: string };

const limits = {
  /** When the operator's request gives up (an HTTP client timeout). */
  requestTimeoutMs: 5000,
  /** Wait before asking again after a refusal. */
  retryMs: [500, 3000] as [number, number],
  /** Refusals tolerated per step once the faults are healed: more is a liveness failure. */
  attemptsAfterHeal: 20,
  sparesMax: 2,
};

export class SimMembership {
  readonly events: MembershipEvent[] = [];
  private finished = false;
  private healedAtMs: number | undefined;

  constructor(
    private readonly world: World,
    private readonly cluster: SimCluster,
    private readonly config: MembershipConfig | undefined,
    /** The membership stream (forked from the run's PRNG): which node an operator asks, how long it waits. */
    private readonly prng: SimPrng,
  ) {}

  /** Nothing left to do: every round committed, or given up. */
  get idle(): boolean {
    return this.finished;
  }

  start(): void {
    if (this.config === undefined || this.config.rounds.length === 0) return void (this.finished = true);
    this.run(this.config.rounds)
      .catch((err: unknown) => this.world.fail(err instanceof Error ? err : new Error(String(err))))
      .finally(() => (this.finished = true));
  }

  /** The faults are healed: from now on a refused step is retried a bounded number of times. */
  healed(): void {
    this.healedAtMs = this.world.now;
  }

  private async run(rounds: readonly MembershipRound[]): Promise<void> {
    for (const [i, round] of rounds.entries()) {
      await this.sleep(round.afterMs);
      this.note(`round ${i + 1}: ${round.changes.map(describeChange).join(', ')}`);
      if (!(await this.round(round.changes))) return this.note(`round ${i + 1} abandoned`);
    }
  }

  /**
   * Spares register first (a dead claimant could not add them, and removing it first would leave
   * fewer than N valid members in a small cluster), then nodes die for good and are removed (the
   * node that removes a dead claimant becomes the claimant), then the other stages, then commit.
   */
  private async round(changes: readonly SimChange[]): Promise<boolean> {
    for (const c of changes) {
      const spare = c.kind === 'join' ? c.node : c.kind === 'replace' ? c.by : undefined;
      if (spare !== undefined && !(await this.register(spare))) return false;
    }
    const removes = changes.filter((c) => c.kind === 'remove');
    for (const c of removes) this.destroy(c.node);
    for (const c of removes) if (!(await this.admin({ op: 'stage', change: c, force: true }, `stage remove ${c.node} --force`))) return false;
    for (const c of changes) {
      if ((c.kind === 'leave' || c.kind === 'replace') && !(await this.admin({ op: 'stage', change: stagedOf(c), force: false }, `stage ${describeChange(c)}`))) return false;
    }
    return this.admin({ op: 'commit' }, 'commit', (state) => changes.every((c) => committed(state, c)));
  }

  private destroy(id: NodeId): void {
    this.cluster.destroy(this.cluster.node(id));
    this.note(`${id} dies for good (crashed, its disk lost)`);
  }

  /** The new node asks a member to add it (internal RPC, as `kvorum start --join`), then starts from the ring it got. */
  private async register(id: NodeId): Promise<boolean> {
    const spare = this.cluster.node(id);
    const { partitions, n } = this.cluster.config;
    const op: AdminOp = { op: 'register', id, url: `inprocess://${id}`, partitions, n };
    const transport = this.cluster.network.transportFor(spare);
    const ok = await this.retry(`register ${id}`, async (via) => {
      try {
        const reply = await transport.call(via, { type: 'admin', op, forwarded: false }, limits.requestTimeoutMs);
        return reply.type === 'admin' ? attemptOf(reply.outcome) : { kind: 'no', why: `answered ${reply.type}` };
      } catch (err) {
        return { kind: 'no', why: (err as Error).message };
      }
    });
    if (ok?.after === undefined) return false;
    this.cluster.join(spare, ok.after);
    this.note(`${id} starts (joining)`);
    return true;
  }

  /**
   * An admin route on a random running node. After a refusal the operator looks at the ring (the
   * plan) through that node: a request without an answer, or one the network delivered twice
   * (whose second copy was refused), may have been applied, and then the step is done. A plan that
   * cannot finish, or a claimant gone for good, is dealt with as an operator would (unstick).
   */
  private async admin(op: Extract<AdminOp, { op: 'stage' | 'commit' }>, what: string, applied = (state: RingState) => op.op === 'stage' && state.staged.some((c) => sameChange(c, op.change))): Promise<boolean> {
    const done = await this.retry(what, async (via) => {
      const got = await this.cluster.network.adminCall(via, op, limits.requestTimeoutMs);
      const attempt: Attempt = got.kind === 'answer' ? attemptOf(got.outcome) : { kind: 'no', why: got.kind };
      if (attempt.kind === 'ok' || applied(ringStateOf(this.cluster.node(via)))) return { kind: 'ok' };
      await this.unstick(via, op);
      return attempt;
    });
    return done !== undefined;
  }

  /**
   * What an operator does when the cluster cannot go on by itself: removes by force again a
   * claimant gone for good (a forced removal made from a stale ring loses to the dead claimant's
   * last ring, and is undone), or cancels a moving partition whose receiver is gone for good.
   */
  private async unstick(via: NodeId, asked: AdminOp): Promise<void> {
    const state = ringStateOf(this.cluster.node(via));
    const removing = asked.op === 'stage' && asked.change.kind === 'remove' && asked.change.node === state.claimant;
    if (!removing && this.cluster.retired.has(state.claimant) && state.members.find((m) => m.id === state.claimant)?.status !== 'removed') {
      const op: AdminOp = { op: 'stage', change: { kind: 'remove', node: state.claimant }, force: true };
      const got = await this.cluster.network.adminCall(via, op, limits.requestTimeoutMs);
      return this.note(`remove the dead claimant ${state.claimant} --force again via ${via}: ${outcomeText(got)}`);
    }
    const stuck = movingPartitions(state).find((p) => incomingOf(state, p).some((id) => this.cluster.retired.has(id)));
    if (stuck === undefined) return;
    const got = await this.cluster.network.adminCall(via, { op: 'cancel', partition: stuck }, limits.requestTimeoutMs);
    this.note(`cancel partition ${stuck} (its receiver is gone for good) via ${via}: ${outcomeText(got)}`);
  }

  /** Asks `ask(node)` until it succeeds; after healing, at most `limits.attemptsAfterHeal` more times. */
  private async retry(what: string, ask: (via: NodeId) => Promise<Attempt>): Promise<Extract<Attempt, { kind: 'ok' }> | undefined> {
    let afterHeal = 0;
    let refusals = 0;
    for (;;) {
      const via = this.prng.pick(this.cluster.active);
      const attempt = await ask(via);
      if (attempt.kind === 'ok') {
        this.note(`${what} (via ${via}${refusals > 0 ? `, after ${refusals} refusal(s)` : ''})`);
        return attempt;
      }
      refusals++;
      if (this.healedAtMs !== undefined && ++afterHeal > limits.attemptsAfterHeal) {
        const message = `${what}: still refused ${limits.attemptsAfterHeal} times after the faults were healed (last, via ${via}: ${attempt.why})`;
        this.note(`gave up: ${message}`);
        this.world.fail(new SimFailure('liveness', 'membership-admin', message));
        return undefined;
      }
      await this.sleep(this.prng.int(...limits.retryMs));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.world.schedule(ms, resolve));
  }

  private note(what: string): void {
    this.events.push({ atMs: this.world.now, what });
  }
}

const outcomeText = (got: AdminCallOutcome) => (got.kind === 'answer' ? (got.outcome.ok ? 'ok' : got.outcome.message) : got.kind);

const sameChange = (a: StagedChange, b: StagedChange) => a.kind === b.kind && a.node === b.node && (a.kind !== 'replace' || (b.kind === 'replace' && a.by === b.by));

/** Whether a commit made `c`: the ring's statuses say so. */
function committed(state: RingState, c: SimChange): boolean {
  const status = (id: NodeId) => state.members.find((m) => m.id === id)?.status;
  const gone = (id: NodeId) => status(id) === 'leaving' || status(id) === 'removed';
  if (c.kind === 'join') return status(c.node) === 'valid';
  if (c.kind === 'replace') return gone(c.node) && status(c.by) === 'valid';
  return c.kind === 'remove' ? status(c.node) === 'removed' : gone(c.node);
}

function attemptOf(outcome: AdminOutcome): Attempt {
  return outcome.ok ? { kind: 'ok', after: outcome.after } : { kind: 'no', why: `${outcome.code}: ${outcome.message}` };
}

function stagedOf(c: Extract<SimChange, { kind: 'leave' | 'replace' }>): StagedChange {
  return c.kind === 'leave' ? { kind: 'leave', node: c.node } : { kind: 'replace', node: c.node, by: c.by };
}

export function describeChange(c: SimChange): string {
  return c.kind === 'replace' ? `replace ${c.node} by ${c.by}` : `${c.kind} ${c.node}`;
}

/** The round shapes a cluster of `valid` members (and spares still unused) allows, N replicas kept. */
function shapesFor(valid: number, spares: number, n: number): string[] {
  const shapes: string[] = [];
  if (spares >= 1) shapes.push('join', 'replace', 'join+leave', 'join+remove');
  if (spares >= 2) shapes.push('join2');
  if (valid - 1 >= n) shapes.push('leave', 'remove');
  return shapes;
}

/**
 * What changes in a membership seed: one or two rounds of changes, the first 10-40% into the
 * safety phase, a second 2-15 s after the first commit. Up to two spares.
 */
export function chooseMembership(p: SimPrng, nodes: number, n: number, safetyMs: number): MembershipConfig {
  const valid = Array.from({ length: nodes }, (_, i) => asNodeId(`n${i + 1}`));
  let spares = 0;
  const rounds: MembershipRound[] = [];
  const roundCount = p.chance(0.5) ? 2 : 1;
  for (let r = 0; r < roundCount; r++) {
    const shape = p.pick(shapesFor(valid.length, limits.sparesMax - spares, n));
    const spare = () => asNodeId(`n${nodes + ++spares}`);
    const member = () => valid.splice(valid.indexOf(p.pick(valid)), 1)[0]!;
    const changes = roundOf(shape, spare, member);
    for (const c of changes) if (c.kind === 'join') valid.push(c.node);
    for (const c of changes) if (c.kind === 'replace') valid.push(c.by);
    const afterMs = r === 0 ? p.int(Math.round(0.1 * safetyMs), Math.round(0.4 * safetyMs)) : p.int(2000, 15_000);
    rounds.push({ afterMs, changes });
  }
  return { spares, rounds };
}

function roundOf(shape: string, spare: () => NodeId, member: () => NodeId): SimChange[] {
  switch (shape) {
    case 'join':
      return [{ kind: 'join', node: spare() }];
    case 'join2':
      return [{ kind: 'join', node: spare() }, { kind: 'join', node: spare() }];
    case 'replace':
      return [{ kind: 'replace', node: member(), by: spare() }];
    case 'join+leave':
      return [{ kind: 'join', node: spare() }, { kind: 'leave', node: member() }];
    case 'join+remove':
      return [{ kind: 'join', node: spare() }, { kind: 'remove', node: member() }];
    case 'leave':
      return [{ kind: 'leave', node: member() }];
    default:
      return [{ kind: 'remove', node: member() }];
  }
}
