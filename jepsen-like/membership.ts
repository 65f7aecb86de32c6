// The membership nemesis: while the workload runs and the process nemesis kills, pauses and
// partitions, it changes the cluster, one change at a time, through the admin routes of random
// live nodes: join (a spare node started with --join through a random live member), leave,
// replace (a spare takes a member's partitions) and remove (a member killed for good, then removed
// with force), each staged and committed; then the transfers run while the faults go on. A change
// starts only when nothing moves (a commit would be refused anyway) and when it keeps at least N
// valid members. Refused calls (409 while a plan moves, 503 claimant unreachable, no answer) are
// recorded and retried, a bounded number of times. Kinds come in shuffled cycles of the four (each
// within four changes; the order depends on the seed alone); targets, spares' entry points and
// pauses are drawn from the seed too, but over the cluster as it is then, which depends on timing.
//
// Clients follow: a started spare is offered to them at once, a leaving or removed node is taken
// from them when its change is committed (a removed one before it is killed), so no request goes
// to a node after it has left. The workloads write with w=quorum, so nothing acknowledged may be
// lost; only a w=1 write taken by a removed node alone could be (docs/api.md, Membership).
import type { ClusterView } from '../src/api/views.js';
import { sleep } from '../test/kit/wait.js';
import type { ClusterNode, ProcessCluster } from './cluster.js';
import type { ChangeKind, MembershipEvent, MembershipSummary } from './history.js';
import type { Prng } from './prng.js';
import { adminCall, clusterView, moving, waitRingSettled, type AdminAnswer } from './ring-watch.js';
import { clientDeadlineMs, type NodeRef } from './workloads/client.js';

export interface MembershipNemesisOptions {
  readonly cluster: ProcessCluster;
  readonly prng: Prng;
  /** Replication factor: never fewer valid members than this. */
  readonly n: number;
  /** Valid members at most: joins stop there. */
  readonly maxValid: number;
  /** Quiet time before each change, ms. */
  readonly quietMs: readonly [number, number];
  readonly now: () => number;
  readonly log: (line: string) => void;
}

/** Attempts of one admin call, and the pause between two. */
const attemptsMax = 12;
const retryPauseMs: readonly [number, number] = [1000, 3000];
const spareStartsMax = 3;
/** How long a change waits for the previous one's transfers before it is skipped. */
const stillWaitMs = 60_000;
/** End of run: how long the ring may take to settle, each time it is waited for. */
export const settleDeadlineMs = 180_000;

const changeKinds: readonly ChangeKind[] = ['join', 'leave', 'replace', 'remove'];

export const lossAllowed = 'none: the workloads write with w=quorum (a w=1 write only a removed node took could be lost by design)';

interface Call {
  readonly change: number;
  readonly action: MembershipEvent['action'];
  readonly kind?: ChangeKind;
  readonly nodes: readonly string[];
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: object;
  /** A refusal that means the call's effect is already there (a retry after a lost answer). */
  readonly alreadyDone?: RegExp;
}

export class MembershipNemesis {
  readonly events: MembershipEvent[] = [];
  private readonly committed: Record<ChangeKind, number> = { join: 0, leave: 0, replace: 0, remove: 0 };
  private gaveUp = 0;
  private clients: NodeRef[];
  private nextSpare: number;
  private changeNo = 0;
  private ringVersionStart = 0;
  /** Kinds still to come in the current cycle, and the stream that shuffles them. */
  private cycle: ChangeKind[] = [];
  private readonly kindPrng: Prng;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** Set when the loop itself broke (a harness bug): the run is then broken. */
  error: Error | undefined;

  constructor(private readonly o: MembershipNemesisOptions) {
    this.clients = o.cluster.nodes.map((n) => ({ id: n.id, url: n.url }));
    this.nextSpare = o.cluster.nodes.length + 1;
    this.kindPrng = o.prng.fork('kinds');
  }

  /** The nodes clients may send requests to now. */
  clientNodes(): readonly NodeRef[] {
    return this.clients;
  }

  /** What it is doing, for the progress line. */
  current(): string {
    const last = this.events.at(-1);
    return last ? `#${last.change} ${last.action} ${last.nodes.join(',')} ${last.outcome}` : 'none yet';
  }

  async start(): Promise<void> {
    this.ringVersionStart = (await clusterView(this.o.cluster.nodes[0]!))?.ringVersion ?? 0;
    this.loop = this.run().catch((err: unknown) => {
      this.error = err as Error;
      this.o.log(`membership nemesis error: ${(err as Error).stack ?? String(err)}`);
    });
  }

  /** Stops after the current step (an admin call or a start, each bounded); retries are dropped. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (this.error) throw this.error;
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      await this.pause(this.o.prng.int(this.o.quietMs[0], this.o.quietMs[1]));
      if (this.stopping) return;
      await this.oneChange(++this.changeNo);
    }
  }

  private record(e: Omit<MembershipEvent, 'timeMs'>): void {
    const event: MembershipEvent = { timeMs: this.o.now(), ...e };
    this.events.push(event);
    const extra = [e.via ? `via ${e.via}` : '', e.status !== undefined ? `status ${e.status}` : ''].filter(Boolean).join(', ');
    this.o.log(`membership #${e.change}: ${e.action}${e.kind ? ` (${e.kind})` : ''} ${e.nodes.join(',')} ${e.outcome}${extra ? ` (${extra})` : ''}: ${e.detail}`);
  }

  /** A running node that is up (not paused) and done starting, at random; undefined if there is none. */
  private someLiveNode(): ClusterNode | undefined {
    const live = this.o.cluster.ready();
    return live.length === 0 ? undefined : this.o.prng.pick(live);
  }

  /** The ring as a random live node sees it. */
  private async view(): Promise<ClusterView | undefined> {
    for (let i = 0; i < 3; i++) {
      const node = this.someLiveNode();
      const view = node && (await clusterView(node));
      if (view) return view;
    }
    return undefined;
  }

  /** The ring once nothing moves (polled, at most stillWaitMs); else the last view, still moving, or undefined. */
  private async stillView(): Promise<ClusterView | undefined> {
    const deadline = Date.now() + stillWaitMs;
    for (;;) {
      const view = await this.view();
      if ((view !== undefined && moving(view) === 0) || Date.now() > deadline || this.stopping) return view;
      await this.pause(1000);
    }
  }

  /** Draws one change that keeps at least N valid members (and at most maxValid), and makes it. */
  private async oneChange(change: number): Promise<void> {
    const view = await this.stillView();
    const skip = (detail: string) => this.record({ change, action: 'skip', nodes: [], outcome: 'ok', detail });
    if (this.stopping) return;
    if (view === undefined) return skip('no live node answered /cluster');
    if (moving(view) > 0) return skip(`${moving(view)} partitions still moving after ${stillWaitMs / 1000} s (ring version ${view.ringVersion})`);
    const valid = view.members.filter((m) => m.membership === 'valid').map((m) => m.id);
    const kind = this.nextKind(valid.length);
    if (!(await this.clearStaged(change))) return;
    const done = await this.make(change, kind, view, valid);
    if (done) return;
    if (this.stopping) skip(`${kind} interrupted: the run ended`);
    else this.gaveUp++;
  }

  /**
   * The next kind in a shuffled cycle of the four (every kind within four changes), skipping one
   * that would leave fewer than N or more than maxValid valid members. The cycle is drawn from
   * its own stream, so the order of kinds depends on the seed alone, not on timing.
   */
  private nextKind(valid: number): ChangeKind {
    const allowed = (k: ChangeKind) => (k === 'join' ? valid < this.o.maxValid : k === 'leave' || k === 'remove' ? valid > this.o.n : true);
    for (;;) {
      if (this.cycle.length === 0) this.cycle = this.kindPrng.shuffle(changeKinds);
      const kind = this.cycle.shift()!;
      if (allowed(kind)) return kind;
    }
  }

  private make(change: number, kind: ChangeKind, view: ClusterView, valid: readonly string[]): Promise<boolean> {
    switch (kind) {
      case 'join':
        return this.join(change, view);
      case 'leave':
        return this.leave(change, this.o.prng.pick(valid));
      case 'replace':
        return this.replace(change, view, this.o.prng.pick(valid));
      case 'remove':
        return this.remove(change, valid);
    }
  }

  /** Leftovers of a change given up would ride along with the next commit: drop them first. */
  private async clearStaged(change: number): Promise<boolean> {
    const node = this.someLiveNode();
    const plan = node && (await adminCall(node, 'GET', '/admin/plan'));
    const staged = (plan?.body?.['changes'] as unknown[] | undefined) ?? [];
    if (plan?.status === 200 && staged.length === 0) return true;
    const cleared = await this.call({ change, action: 'clear', nodes: [], method: 'POST', path: '/admin/clear', body: {}, alreadyDone: /nothing is staged/ });
    return cleared !== undefined;
  }

  private async join(change: number, view: ClusterView): Promise<boolean> {
    const spare = await this.spare(change, view);
    if (spare === undefined) return false;
    // Its start staged the join already (the answer says so); staged again in case it was cleared.
    const staged = await this.call({ change, action: 'join', nodes: [spare], method: 'POST', path: '/admin/join', body: { node: spare }, alreadyDone: /already staged/ });
    return staged !== undefined && this.commit(change, 'join', [spare], []);
  }

  private async leave(change: number, node: string): Promise<boolean> {
    const staged = await this.call({ change, action: 'leave', nodes: [node], method: 'POST', path: '/admin/leave', body: { node }, alreadyDone: /already staged/ });
    return staged !== undefined && this.commit(change, 'leave', [node], [node]);
  }

  private async replace(change: number, view: ClusterView, node: string): Promise<boolean> {
    const spare = await this.spare(change, view);
    if (spare === undefined) return false;
    // The spare's start staged its join; a replace is staged on its own, as an operator would.
    if (!(await this.clearStaged(change))) return false;
    const body = { node, by: spare };
    const staged = await this.call({ change, action: 'replace', nodes: [node, spare], method: 'POST', path: '/admin/replace', body, alreadyDone: /already staged/ });
    return staged !== undefined && this.commit(change, 'replace', [node, spare], [node]);
  }

  /** Takes a running valid member from the clients, kills it for good, stages its removal (force) and commits. */
  private async remove(change: number, valid: readonly string[]): Promise<boolean> {
    const candidates = valid.filter((id) => this.o.cluster.ready().some((n) => n.id === id));
    if (candidates.length === 0) {
      this.record({ change, action: 'skip', nodes: [], outcome: 'ok', detail: 'remove: no valid member is up to be killed for good' });
      return true;
    }
    const node = this.o.prng.pick(candidates);
    this.clients = this.clients.filter((c) => c.id !== node);
    await sleep(clientDeadlineMs); // requests already sent to it end first
    await this.o.cluster.retire(node);
    this.record({ change, action: 'retire', nodes: [node], outcome: 'ok', detail: `${node} killed for good (not restarted); acknowledged w=quorum writes have another copy` });
    return this.removeRetired(change, node);
  }

  private async removeRetired(change: number, node: string): Promise<boolean> {
    const body = { node, force: true };
    const staged = await this.call({ change, action: 'remove', nodes: [node], method: 'POST', path: '/admin/remove', body, alreadyDone: /already staged/ });
    return staged !== undefined && this.commit(change, 'remove', [node], []);
  }

  /** A spare node started with --join through a random live member: a joining member idle from an earlier change, else a new one. */
  private async spare(change: number, view: ClusterView): Promise<string | undefined> {
    const idle = view.members.find((m) => m.membership === 'joining' && this.o.cluster.nodes.some((n) => n.id === m.id && n.state === 'up'));
    if (idle) return idle.id;
    const id = `n${this.nextSpare++}`;
    for (let attempt = 1; attempt <= spareStartsMax && !this.stopping; attempt++) {
      const through = this.someLiveNode();
      if (through === undefined) break;
      try {
        const node = await this.o.cluster.addJoiner(id, through);
        this.clients = [...this.clients, { id: node.id, url: node.url }];
        this.record({ change, action: 'start', nodes: [id], outcome: 'ok', via: through.id, detail: `started with --join ${through.url} (${through.id}); joining` });
        return id;
      } catch (err) {
        // The node's own reason (kvorum start prints "kvorum: ..." and exits 2), else the harness's.
        const lines = (err as Error).message.split('\n');
        const detail = (lines.find((l) => l.startsWith('kvorum:')) ?? lines[0]!).slice(0, 300);
        this.record({ change, action: 'start', nodes: [id], outcome: attempt < spareStartsMax ? 'refused' : 'gave-up', via: through.id, detail });
        await this.pause(this.o.prng.int(retryPauseMs[0], retryPauseMs[1]));
      }
    }
    return undefined;
  }

  /** Commits what is staged; on success counts the change and takes `leaving` from the clients. */
  private async commit(change: number, kind: ChangeKind, nodes: readonly string[], leaving: readonly string[]): Promise<boolean> {
    const answer = await this.call({ change, action: 'commit', kind, nodes, method: 'POST', path: '/admin/commit', body: {} });
    if (answer === undefined && !(await this.committedAnyway(change, kind, nodes))) return false;
    this.committed[kind]++;
    this.clients = this.clients.filter((c) => !leaving.includes(c.id));
    return true;
  }

  /**
   * A commit whose answer was lost (no answer, then 409 "nothing is staged") may have been applied:
   * the ring says so when the change's nodes have their new membership. Checked on a few views,
   * as gossip may not have brought the commit to the node asked yet.
   */
  private async committedAnyway(change: number, kind: ChangeKind, nodes: readonly string[]): Promise<boolean> {
    const [node, spare] = kind === 'join' ? [undefined, nodes[0]] : [nodes[0], nodes[1]];
    for (let i = 0; i < 3 && !this.stopping; i++) {
      const view = await this.view();
      const status = (id: string | undefined) => view?.members.find((m) => m.id === id)?.membership ?? 'removed';
      const nodeGone = node === undefined || (kind === 'remove' ? status(node) === 'removed' : status(node) !== 'valid');
      const spareIn = spare === undefined || status(spare) === 'valid';
      if (view !== undefined && nodeGone && spareIn) {
        this.record({ change, action: 'commit', kind, nodes, outcome: 'ok', detail: `applied by an attempt whose answer was lost: the ring (version ${view.ringVersion}) shows it` });
        return true;
      }
      await this.pause(1000);
    }
    return false;
  }

  /** One admin call through random live nodes, retried while refused for a passing reason; undefined if it never succeeded. */
  private async call(c: Call): Promise<AdminAnswer | undefined> {
    for (let attempt = 1; attempt <= attemptsMax; attempt++) {
      const via = this.someLiveNode();
      if (via === undefined || this.stopping) break;
      const answer = await adminCall(via, c.method, c.path, c.body);
      const message = answer.body?.message ?? answer.body?.error ?? '';
      const base = { change: c.change, action: c.action, ...(c.kind ? { kind: c.kind } : {}), nodes: c.nodes, via: via.id };
      if (answer.status === 200 || (answer.status === 409 && c.alreadyDone?.test(message))) {
        const version = answer.body?.['ringVersion'];
        this.record({ ...base, outcome: 'ok', detail: answer.status === 200 ? `ring version ${String(version)}` : `already done: ${message}` });
        return answer;
      }
      const retry = retryable(answer);
      this.record({ ...base, outcome: retry ? 'refused' : 'failed', status: answer.status, detail: message || 'no answer' });
      if (!retry) return undefined;
      await this.pause(this.o.prng.int(retryPauseMs[0], retryPauseMs[1]));
    }
    // Interrupted by the end of the run: oneChange says so; finish() removes a node killed for good.
    if (!this.stopping) this.record({ change: c.change, action: c.action, ...(c.kind ? { kind: c.kind } : {}), nodes: c.nodes, outcome: 'gave-up', detail: `${attemptsMax} attempts refused` });
    return undefined;
  }

  /**
   * End of run, after healing: a node killed for good whose removal never got committed is removed
   * now, then every running node must reach one ring version with nothing moving. Bounded.
   */
  async finish(): Promise<MembershipSummary> {
    this.stopping = false;
    const started = Date.now();
    let settle = await waitRingSettled(this.o.cluster, settleDeadlineMs);
    const dead = this.o.cluster.nodes.filter((n) => n.state === 'gone' && settle.view?.members.some((m) => m.id === n.id && m.membership === 'valid'));
    for (const node of dead) {
      this.record({ change: 0, action: 'skip', nodes: [node.id], outcome: 'ok', detail: `${node.id} was killed for good but is still valid: removing it now` });
      if (!(await this.clearStaged(0)) || !(await this.removeRetired(0, node.id))) this.gaveUp++;
    }
    if (dead.length > 0) settle = await waitRingSettled(this.o.cluster, settleDeadlineMs);
    this.stopping = true;
    return this.summary(settle, Date.now() - started);
  }

  private summary(settle: Awaited<ReturnType<typeof waitRingSettled>>, settleMs: number): MembershipSummary {
    return {
      committed: { ...this.committed },
      gaveUp: this.gaveUp,
      refusals: this.events.filter((e) => e.outcome === 'refused').length,
      ringVersionStart: this.ringVersionStart,
      ringVersionEnd: settle.ringVersion,
      settled: settle.settled,
      settleMs,
      ...(settle.problem === undefined ? {} : { settleProblem: settle.problem }),
      finalMembers: (settle.view?.members ?? []).map((m) => `${m.id}:${m.membership}`),
      lossAllowed,
    };
  }
}

/** Refusals that pass: a plan still moving, the claimant unreachable (or not yet known), no answer. */
function retryable(answer: AdminAnswer): boolean {
  if (typeof answer.status === 'string' || answer.status >= 500) return true;
  return answer.status === 409 && /still moving/.test(answer.body?.message ?? '');
}
