// The membership bench's two steps on a running cluster: grow (start nodes with --join, plan,
// commit, wait until every transfer is switched and the ring settled) and shrink (leave, plan,
// commit, wait until the leaving nodes stopped themselves and the ring settled). Each step
// records when its milestones happened, the plan, the transfer counters of every node before and
// after, and a progress timeline. Every wait is bounded by `timeoutMs`.
import { performance } from 'node:perf_hooks';
import { http } from '../kit/http.js';
import type { TestCluster, TestNode } from '../kit/test-cluster.js';
import { sleep } from '../kit/wait.js';
import { sumMetric } from '../helpers/convergence.js';
import { adminOk, waitSettled } from '../helpers/membership.js';
import { fmt, int } from './convergence-common.js';

/** Epoch ms with sub-ms resolution, the clock the client process records with. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** The counters read from every node before and after a step (names without `kvorum_`/`_total`). */
export const counterNames = ['transfer_keys', 'transfer_bytes', 'transfers_completed', 'transfer_errors', 'ae_keys_repaired', 'hints_stored', 'read_repairs'] as const;
export type Counters = Record<(typeof counterNames)[number], number> & {
  /** V8 heap in use (nodejs_heap_size_used_bytes) when read: not a counter, for the memory figures. */
  readonly heapUsedBytes: number;
};

export interface PlanJson {
  readonly changes: readonly { kind: string; node: string }[];
  readonly members: readonly { id: string; status: string; before: number; after: number }[];
  readonly partitionsMoving: number;
  readonly transfers: readonly { partition: number; to: string; keys: number | null }[];
  readonly keysMoving: number;
  readonly ownersMoved: number;
  readonly ownersMovedMin: number;
}

export interface ProgressPoint {
  readonly t: number;
  readonly partitionsMoving: number;
  readonly states: Record<string, number>;
  /** Keys received so far in the transfers still listed (switched partitions drop out of the list). */
  readonly keysListed: number;
}

export interface StepResult {
  readonly name: 'grow' | 'shrink';
  readonly startMs: number;
  readonly endMs: number;
  /** Milestones in order, epoch ms. */
  readonly marks: { readonly label: string; readonly t: number }[];
  readonly plan: PlanJson;
  readonly commitMs: number;
  /** When the claimant's ring first showed no partition moving. */
  readonly transfersDoneMs: number;
  readonly countersBefore: Record<string, Counters>;
  readonly countersAfter: Record<string, Counters>;
  readonly progress: ProgressPoint[];
  /** Why transfers failed (and were retried), from the nodes' logs: distinct messages with their count. */
  readonly transferFailures: Record<string, number>;
}

/** Transfer failures the nodes logged ("receiving partition P failed"), by message, partition numbers left out. */
function transferFailuresIn(logs: string, sinceMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of logs.split('\n')) {
    if (!line.includes('receiving partition')) continue;
    const json = line.slice(line.indexOf('{'));
    try {
      const entry = JSON.parse(json) as { time?: number; err?: string | { message?: string } };
      if ((entry.time ?? 0) < sinceMs) continue;
      const message = (typeof entry.err === 'string' ? entry.err : (entry.err?.message ?? '?')).replace(/partition \d+/g, 'partition P');
      out[message] = (out[message] ?? 0) + 1;
    } catch {
      // not a JSON log line
    }
  }
  return out;
}

/** A node's /metrics text; a busy node gets 3 tries of 15 s each. */
async function metricsText(node: TestNode): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await http('GET', `${node.url}/metrics`, { timeoutMs: 15_000 });
      if (res.status === 200) return res.text();
      throw new Error(`GET ${node.id}/metrics: ${res.status}`);
    } catch (err) {
      if (attempt >= 3 || !node.running()) throw err;
    }
  }
}

async function countersOf(node: TestNode): Promise<Counters> {
  const text = await metricsText(node);
  const counters = Object.fromEntries(counterNames.map((n) => [n, sumMetric(text, `kvorum_${n}_total`)])) as Record<(typeof counterNames)[number], number>;
  return { ...counters, heapUsedBytes: sumMetric(text, 'nodejs_heap_size_used_bytes') };
}

/** Counters of every running node, by id; a node that stops meanwhile (a leaving one) is left out. */
export async function countersOfAll(nodes: readonly TestNode[]): Promise<Record<string, Counters>> {
  const live = nodes.filter((n) => n.running());
  const all = await Promise.all(live.map((n) => countersOf(n).catch((err: unknown) => (n.running() ? Promise.reject(err) : undefined))));
  return Object.fromEntries(live.flatMap((n, i) => (all[i] === undefined ? [] : [[n.id, all[i]]])));
}

/** GET /admin/plan, retried until it lists `changes` staged (a join is staged as the node starts). */
async function planWith(node: TestNode, changes: number, timeoutMs: number): Promise<PlanJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const plan = (await adminOk(node, 'GET', '/admin/plan')) as PlanJson;
    if (plan.changes.length >= changes) return plan;
    if (Date.now() > deadline) throw new Error(`the plan lists ${plan.changes.length} staged changes, not ${changes}: ${JSON.stringify(plan.changes)}`);
    await sleep(200);
  }
}

interface TransfersJson {
  readonly partitionsMoving: number;
  readonly transfers: readonly { state: string; keys: number; to: string; partition: number; error: string | null }[];
}

/** Polls GET /admin/transfers on `node` every second until nothing moves; prints progress every 5 s. */
async function waitTransfers(step: string, node: TestNode, startMs: number, timeoutMs: number, progress: ProgressPoint[]): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = 0;
  for (;;) {
    let view: TransfersJson;
    try {
      view = (await adminOk(node, 'GET', '/admin/transfers')) as TransfersJson;
    } catch (err) {
      // A node too busy to answer in time: say so and poll again (the deadline still holds).
      console.log(`    ${step} +${fmt((nowMs() - startMs) / 1000, 0)}s: GET /admin/transfers failed: ${(err as Error).message.split('\n')[0]}`);
      if (Date.now() > deadline) throw err;
      await sleep(1000);
      continue;
    }
    const t = nowMs();
    const states: Record<string, number> = {};
    for (const x of view.transfers) states[x.state] = (states[x.state] ?? 0) + 1;
    progress.push({ t, partitionsMoving: view.partitionsMoving, states, keysListed: view.transfers.reduce((s, x) => s + x.keys, 0) });
    if (view.partitionsMoving === 0) return t;
    if (t - lastPrint >= 5000) {
      lastPrint = t;
      const errors = view.transfers.filter((x) => x.error !== null).map((x) => `p${x.partition}->${x.to}: ${x.error}`);
      console.log(
        `    ${step} +${fmt((t - startMs) / 1000, 0)}s: ${view.partitionsMoving} partitions moving; transfers ` +
          `${Object.entries(states).map(([s, n]) => `${s} ${n}`).join(', ')}; ${int(progress.at(-1)!.keysListed)} keys received in those listed` +
          (errors.length > 0 ? `; errors: ${errors.slice(0, 3).join('; ')}` : ''),
      );
    }
    if (Date.now() > deadline) throw new Error(`${step}: ${view.partitionsMoving} partitions still moving after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

export interface StepOptions {
  readonly cluster: TestCluster;
  readonly timeoutMs: number;
  /** Flags for the nodes started with --join. */
  readonly joinArgs: readonly string[];
}

/** Joins `ids` (the first through n2, the next through n3, ...), plans, commits, waits until settled. */
export async function grow(opts: StepOptions, ids: readonly string[]): Promise<StepResult> {
  const c = opts.cluster;
  const startMs = nowMs();
  const marks: { label: string; t: number }[] = [];
  const countersBefore = await countersOfAll(c.nodes);
  for (const [i, id] of ids.entries()) {
    await c.join(id, c.nodes[(i + 1) % c.nodes.length]!.url, opts.joinArgs);
    marks.push({ label: `${id} up (/health 200)`, t: nowMs() });
  }
  return planCommitWait('grow', opts, startMs, marks, countersBefore, ids.length, [], async () => undefined);
}

/** Stages the leave of `ids`, plans, commits, waits until they stopped themselves and the ring settled. */
export async function shrink(opts: StepOptions, ids: readonly string[]): Promise<StepResult> {
  const c = opts.cluster;
  const startMs = nowMs();
  const marks: { label: string; t: number }[] = [];
  const countersBefore = await countersOfAll(c.nodes);
  for (const id of ids) await adminOk(c.node('n1'), 'POST', '/admin/leave', { node: id });
  marks.push({ label: `leave ${ids.join(', ')} staged`, t: nowMs() });
  const waitGone = async () => {
    await Promise.all(
      ids.map(async (id) => {
        const exit = await c.node(id).waitExit(opts.timeoutMs);
        marks.push({ label: `${id} exited (code ${exit.code ?? exit.signal})`, t: nowMs() });
        if (exit.code !== 0) throw new Error(`${id} exited with ${JSON.stringify(exit)}, not 0`);
      }),
    );
  };
  return planCommitWait('shrink', opts, startMs, marks, countersBefore, ids.length, ids, waitGone);
}

async function planCommitWait(
  name: 'grow' | 'shrink',
  opts: StepOptions,
  startMs: number,
  marks: { label: string; t: number }[],
  countersBefore: Record<string, Counters>,
  changes: number,
  leaving: readonly string[],
  waitGone: () => Promise<void>,
): Promise<StepResult> {
  const c = opts.cluster;
  const n1 = c.node('n1');
  const plan = await planWith(n1, changes, 10_000);
  marks.push({ label: 'plan read', t: nowMs() });
  const committed = await adminOk(n1, 'POST', '/admin/commit', {});
  const commitMs = nowMs();
  marks.push({ label: `committed (${committed.partitionsMoving} partitions moving)`, t: commitMs });
  const progress: ProgressPoint[] = [];
  const transfersDoneMs = await waitTransfers(name, n1, startMs, opts.timeoutMs, progress);
  marks.push({ label: 'no partition moving (claimant)', t: transfersDoneMs });
  // The receivers' counters. In a shrink the receivers are the nodes that stay; the leaving ones
  // may already be closing their ports.
  const countersAfter = await countersOfAll(c.nodes.filter((n) => !leaving.includes(n.id)));
  await waitGone();
  await waitSettled(c.nodes, opts.timeoutMs);
  const endMs = nowMs();
  marks.push({ label: 'every node on one settled ring', t: endMs });
  const transferFailures = transferFailuresIn(c.logs(), startMs);
  return { name, startMs, endMs, marks, plan, commitMs, transfersDoneMs, countersBefore, countersAfter, progress, transferFailures };
}
