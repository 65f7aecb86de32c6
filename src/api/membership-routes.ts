// Membership routes (docs/api.md section 3, Membership): stage, plan, commit, clear, transfers.
// Any node takes them; changes run at the claimant (core/membership.ts). Bodies are checked here.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { request as httpRequest } from 'undici';
import { z } from 'zod';
import { backgroundRpcTimeoutMs } from '../core/limits.js';
import type { Membership } from '../core/membership.js';
import { movingPartitions, planOf } from '../core/membership-plan.js';
import type { RingState, StagedChange } from '../core/ring-state.js';
import type { AdminOp, AdminOutcome } from '../core/rpc.js';
import { nodeIdSchema } from '../core/schemas.js';
import type { TransferProgress } from '../core/transfer-cursors.js';
import type { Transfers } from '../core/transfers.js';
import { KvError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';
import {
  cancelSchema, clearSchema, commitSchema, joinSchema, leaveSchema, localTransfersSchema, partitionKeysSchema, planSchema, removeSchema, replaceSchema,
  transferLimitsSchema, transfersSchema,
} from './admin-schemas.js';
import type { TlsIdentity } from '../transport/tls-identity.js';
import { sendError } from './errors.js';
import { ringVersionOf } from './views.js';

export interface MembershipRoutesOptions {
  readonly self: NodeId;
  readonly membership: Membership;
  readonly transfers: Transfers;
  /** Keys this node counts in a partition it holds (its Merkle tree's size). */
  readonly keysIn: (partition: number) => number | undefined;
  /** Our TLS material, for requests to members' https URLs (their certificates checked against our CA). */
  readonly tls?: TlsIdentity;
}

const nodeBody = z.object({ node: nodeIdSchema }).strict();
const replaceBody = z.object({ node: nodeIdSchema, by: nodeIdSchema }).strict();
const removeBody = z.object({ node: nodeIdSchema, force: z.boolean().optional() }).strict();
const cancelBody = z.object({ partition: z.int().min(0).optional() }).strict();
const limitsBody = z.object({ concurrency: z.int().min(1).max(64).optional(), bytesPerSecond: z.int().min(1024).max(10 * 1024 ** 3).optional() }).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new KvError('bad_request', `Invalid body: ${parsed.error.issues[0]?.message ?? 'not accepted'}.`);
  return parsed.data;
}

export async function membershipRoutes(app: FastifyInstance, opts: MembershipRoutesOptions): Promise<void> {
  const run = async (reply: FastifyReply, op: AdminOp) => answer(reply, await opts.membership.admin(op));
  const stageRoute = (kind: 'join' | 'leave', body: unknown): StagedChange => ({ kind, node: parse(nodeBody, body).node });

  app.post('/admin/join', { schema: joinSchema }, (request, reply) => run(reply, { op: 'stage', change: stageRoute('join', request.body), force: false }));
  app.post('/admin/leave', { schema: leaveSchema }, (request, reply) => run(reply, { op: 'stage', change: stageRoute('leave', request.body), force: false }));
  app.post('/admin/replace', { schema: replaceSchema }, (request, reply) => {
    const { node, by } = parse(replaceBody, request.body);
    return run(reply, { op: 'stage', change: { kind: 'replace', node, by }, force: false });
  });
  app.post('/admin/remove', { schema: removeSchema }, (request, reply) => {
    const { node, force } = parse(removeBody, request.body);
    return run(reply, { op: 'stage', change: { kind: 'remove', node }, force: force ?? false });
  });
  app.post('/admin/clear', { schema: clearSchema }, (_request, reply) => run(reply, { op: 'clear' }));
  app.post('/admin/commit', { schema: commitSchema }, (_request, reply) => run(reply, { op: 'commit' }));
  app.post('/admin/transfers/cancel', { schema: cancelSchema }, async (request, reply) => {
    const outcome = await opts.membership.admin({ op: 'cancel', partition: parse(cancelBody, request.body).partition });
    if (!outcome.ok) return answer(reply, outcome);
    const still = new Set(movingPartitions(outcome.after));
    return { ...answer(reply, outcome), partitionsCancelled: movingPartitions(outcome.before).filter((p) => !still.has(p)) };
  });

  app.get('/admin/plan', { schema: planSchema }, async (request) => {
    const ring = opts.membership.state();
    const plan = planOf(ring, { allowEmpty: true });
    const keys = await keysPerPartition(ring, opts, request.headers.authorization);
    const transfers = plan.report.transfers.map((t) => ({ ...t, keys: keys.get(t.partition) ?? null }));
    const keysMoving = transfers.reduce((sum, t) => sum + (t.keys ?? 0), 0);
    return { ringVersion: ringVersionOf(ring), claimant: ring.claimant, ...plan.report, transfers, keysMoving };
  });

  app.get('/admin/transfers', { schema: transfersSchema }, async (request) => transfersView(opts, request.headers.authorization));
  app.get('/admin/transfers/local', { schema: localTransfersSchema }, async () => ({
    node: opts.self,
    limits: opts.transfers.currentLimits(),
    transfers: opts.transfers.progress().map(progressView),
    dropping: opts.transfers.droppingNow(),
  }));
  app.put('/admin/transfer-limits', { schema: transferLimitsSchema }, async (request) => {
    const change = parse(limitsBody, request.body);
    opts.transfers.setLimits({ ...opts.transfers.currentLimits(), ...change });
    return { node: opts.self, limits: opts.transfers.currentLimits() };
  });
  app.get('/admin/partition-keys', { schema: partitionKeysSchema }, async () => {
    const ring = opts.membership.state();
    const keys: Record<number, number> = {};
    for (let p = 0; p < ring.partitions; p++) {
      const count = opts.keysIn(p);
      if (count !== undefined && ring.replicas[p]!.includes(opts.self)) keys[p] = count;
    }
    return { node: opts.self, keys };
  });
}

function answer(reply: FastifyReply, outcome: AdminOutcome) {
  if (!outcome.ok) return sendError(reply, outcome.code, outcome.message);
  return { ringVersion: ringVersionOf(outcome.after), claimant: outcome.after.claimant, staged: outcome.after.staged, partitionsMoving: movingPartitions(outcome.after).length };
}

const progressView = (t: TransferProgress) => {
  const elapsedMs = t.startedAtMs === undefined ? 0 : (t.doneAtMs ?? Date.now()) - t.startedAtMs;
  const perSecond = (count: number) => (elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : 0);
  return { partition: t.partition, from: t.from ?? null, state: t.state, keys: t.keys, bytes: t.bytes, keysPerSecond: perSecond(t.keys), bytesPerSecond: perSecond(t.bytes), error: t.error ?? null };
};

type TransferView = ReturnType<typeof progressView>;

/** Seconds until a transfer has every key at its rate so far: 0 once done, null when nothing says (not streaming yet, or no count). */
function etaSecondsOf(t: { state: string; keys: number; keysPerSecond: number }, keysTotal: number | null): number | null {
  if (t.state === 'done') return 0;
  if (t.state !== 'streaming' || keysTotal === null || t.keysPerSecond === 0) return null;
  return Math.ceil(Math.max(0, keysTotal - t.keys) / t.keysPerSecond);
}

/**
 * GETs a JSON route of every member that is still in the cluster (best effort, bounded by a timeout),
 * with the caller's Authorization (an admin token, when the members run with --auth-file).
 */
export async function fromMembers<T>(
  ring: RingState,
  path: string,
  tls: TlsIdentity | undefined,
  authorization: string | undefined,
  timeoutMs = backgroundRpcTimeoutMs,
): Promise<Map<NodeId, T>> {
  const members = ring.members.filter((m) => m.status !== 'removed' && !m.url.startsWith('inprocess:'));
  const answers = await Promise.all(
    members.map(async (m): Promise<[NodeId, T] | undefined> => {
      try {
        const dispatcher = tls && m.url.startsWith('https:') ? tls.agent() : undefined;
        const headers = authorization === undefined ? {} : { authorization };
        const res = await httpRequest(`${m.url}${path}`, { dispatcher, headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        return res.statusCode === 200 ? [m.id, (await res.body.json()) as T] : (await res.body.dump(), undefined);
      } catch {
        return undefined;
      }
    }),
  );
  return new Map(answers.filter((a) => a !== undefined));
}

/** Keys per partition, the largest count any replica reports. */
async function keysPerPartition(ring: RingState, opts: MembershipRoutesOptions, authorization: string | undefined, timeoutMs?: number): Promise<Map<number, number>> {
  const answers = await fromMembers<{ keys: Record<string, number> }>(ring, '/admin/partition-keys', opts.tls, authorization, timeoutMs);
  const keys = new Map<number, number>();
  for (const { keys: counts } of answers.values()) for (const [p, count] of Object.entries(counts)) keys.set(Number(p), Math.max(keys.get(Number(p)) ?? 0, count));
  for (let p = 0; p < ring.partitions; p++) if (!keys.has(p) && opts.keysIn(p) !== undefined) keys.set(p, opts.keysIn(p)!);
  return keys;
}

type LocalTransfers = { transfers: TransferView[] };

/**
 * Every moving partition with each receiver's progress, gathered from the receivers; `keysTotal`
 * is the partition's key count (as in the plan), `etaSeconds` the time left at the rate so far.
 */
export async function transfersView(opts: MembershipRoutesOptions, authorization: string | undefined, timeoutMs?: number) {
  const ring = opts.membership.state();
  const [reports, keyCounts] = await Promise.all([
    fromMembers<LocalTransfers>(ring, '/admin/transfers/local', opts.tls, authorization, timeoutMs),
    keysPerPartition(ring, opts, authorization, timeoutMs),
  ]);
  const transfers = movingPartitions(ring).flatMap((p) =>
    ring.target[p]!.filter((id) => !ring.replicas[p]!.includes(id)).map((to) => {
      const progress = reports.get(to)?.transfers.find((t) => t.partition === p);
      const from = ring.replicas[p]!.filter((id) => !ring.target[p]!.includes(id));
      const known = progress ?? { from: null, state: reports.has(to) ? 'queued' : 'unknown', keys: 0, bytes: 0, keysPerSecond: 0, bytesPerSecond: 0, error: null };
      const keysTotal = keyCounts.get(p) ?? null;
      return { to, leaving: from, ...known, keysTotal, etaSeconds: etaSecondsOf(known, keysTotal), partition: p };
    }),
  );
  // All of it at the rate the streaming transfers make together (queued ones wait for a slot).
  const keysLeft = transfers.reduce((sum, t) => sum + (t.state === 'done' ? 0 : Math.max(0, (t.keysTotal ?? 0) - t.keys)), 0);
  const keysPerSecond = transfers.reduce((sum, t) => sum + (t.state === 'streaming' ? t.keysPerSecond : 0), 0);
  const partitionsMoving = movingPartitions(ring).length;
  const etaSeconds = keysLeft === 0 ? 0 : keysPerSecond > 0 ? Math.ceil(keysLeft / keysPerSecond) : null;
  return { ringVersion: ringVersionOf(ring), partitionsMoving, keysLeft, etaSeconds, transfers };
}
