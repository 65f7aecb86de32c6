// The membership routes and /cluster as the harness uses them: one admin call with a deadline
// (never throwing: a failure is its status), one node's ring view, and the end-of-run wait until
// every running node holds one ring with nothing moving. Every wait is bounded.
import type { ClusterView } from '../src/api/views.js';
import { getJson, http } from '../test/kit/http.js';
import { sleep } from '../test/kit/wait.js';
import type { ClusterNode, ProcessCluster } from './cluster.js';

/** An admin route's answer: the HTTP status and JSON body, or an error code ("timeout", "ECONNREFUSED") and no body. */
export interface AdminAnswer {
  readonly status: number | string;
  readonly body: { readonly error?: string; readonly message?: string; readonly [k: string]: unknown } | undefined;
}

/** Longer than a node's own wait for the claimant (5 s), so its 503 comes back before this gives up. */
export const adminTimeoutMs = 8000;

export async function adminCall(node: Pick<ClusterNode, 'url'>, method: 'GET' | 'POST', path: string, body?: object): Promise<AdminAnswer> {
  try {
    const res = await http(method, `${node.url}${path}`, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      timeoutMs: adminTimeoutMs,
    });
    let parsed: AdminAnswer['body'];
    try {
      parsed = res.json();
    } catch {
      parsed = { message: res.text().slice(0, 200) };
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { status: code === 'TimeoutError' ? 'timeout' : (code ?? 'error'), body: undefined };
  }
}

/** The node's GET /cluster, or undefined if it did not answer 200 in time. */
export async function clusterView(node: Pick<ClusterNode, 'url'>, timeoutMs = 3000): Promise<ClusterView | undefined> {
  try {
    const res = await getJson(`${node.url}/cluster`, timeoutMs);
    return res.status === 200 ? (res.body as ClusterView) : undefined;
  } catch {
    return undefined;
  }
}

export const moving = (view: ClusterView): number => view.ring.filter((p) => p.pending.length > 0).length;

export interface RingSettle {
  readonly settled: boolean;
  readonly elapsedMs: number;
  /** The agreed ring version; null when the nodes did not agree. */
  readonly ringVersion: number | null;
  /** One running node's view at the last poll. */
  readonly view: ClusterView | undefined;
  /** Why not settled (last poll). */
  readonly problem: string | undefined;
}

/** Why the running nodes' views do not show one settled ring yet; undefined when they do. */
function unsettled(nodes: readonly ClusterNode[], views: readonly (ClusterView | undefined)[]): string | undefined {
  const silent = nodes.filter((_, i) => views[i] === undefined).map((n) => n.id);
  if (silent.length > 0) return `no /cluster answer from ${silent.join(' ')}`;
  const answered = views as ClusterView[];
  const versions = new Set(answered.map((v) => v.ringVersion));
  if (versions.size > 1) return `ring versions differ: ${answered.map((v) => `${v.node}=${v.ringVersion}`).join(' ')}`;
  const stillMoving = answered.find((v) => moving(v) > 0);
  if (stillMoving) return `${moving(stillMoving)} partitions still moving (as ${stillMoving.node} sees it)`;
  const outsider = nodes.find((n) => !answered[0]!.members.some((m) => m.id === n.id));
  if (outsider) return `${outsider.id} still runs but is not a member`;
  return undefined;
}

/** Polls every running node until all hold the same ring version with nothing moving, or the deadline passes. */
export async function waitRingSettled(cluster: ProcessCluster, deadlineMs: number): Promise<RingSettle> {
  const started = Date.now();
  let problem: string | undefined = 'not polled yet';
  let view: ClusterView | undefined;
  for (;;) {
    const nodes = cluster.running();
    const views = await Promise.all(nodes.map((n) => clusterView(n)));
    view = views.find((v) => v !== undefined);
    problem = nodes.length === 0 ? 'no node runs' : unsettled(nodes, views);
    const elapsedMs = Date.now() - started;
    if (problem === undefined) return { settled: true, elapsedMs, ringVersion: view!.ringVersion, view, problem };
    if (elapsedMs > deadlineMs) return { settled: false, elapsedMs, ringVersion: null, view, problem };
    await sleep(500);
  }
}
