// After healing: wait until the replicas agree, then read every key through every node with r=all.
// Agreement means, for every key, that its primary replicas (from the ring the nodes report) and any
// other node holding a copy all have the same version, and that no node still holds hints (a hint
// not yet handed off is a write the primaries may not have yet). Every wait is bounded.
import { createHash } from 'node:crypto';
import type { ClusterView, ReplicaCopyView } from '../src/api/views.js';
import { createRing, partitionOf } from '../src/core/ring.js';
import { asNodeId } from '../src/core/types.js';
import { getJson } from '../test/kit/http.js';
import { sleep } from '../test/kit/wait.js';
import type { ChurnCopy } from './checkers/supersession.js';
import type { FinalRead, ReplicaVersion } from './history.js';
import { isReadAnswer, kvUrl, RequestFailed, type KvClient, type NodeRef, type Workload } from './workloads/client.js';

/** A node's own copy of a key (GET /replica/kv/{key}), undefined when it holds none. */
async function copyOn(node: NodeRef, key: string): Promise<ReplicaCopyView | undefined> {
  const res = await getJson(`${node.url}/replica/kv/${encodeURIComponent(key)}`, 3000);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${node.id}/replica/kv/${key}: ${res.status}`);
  return res.body as ReplicaCopyView;
}

/** A node's version of a key: a short hash of its context and sibling dots (equal iff same version). */
async function versionOn(node: NodeRef, key: string): Promise<string | null> {
  const copy = await copyOn(node, key);
  if (copy === undefined) return null;
  const dots = copy.siblings.map((s) => s.dot).sort().join(',');
  return createHash('sha1').update(`${copy.context}|${dots}`).digest('base64url').slice(0, 16);
}

/** key -> its primaries, from the ring the first node reports. */
export async function primariesOf(nodes: readonly NodeRef[], keys: readonly string[]): Promise<Map<string, readonly string[]>> {
  const view = (await getJson(`${nodes[0]!.url}/cluster`, 3000)).body as ClusterView;
  const ring = createRing(view.members.map((m) => asNodeId(m.id)), view.partitions, view.n);
  return new Map(keys.map((key) => [key, view.ring[partitionOf(ring, key)]!.owners]));
}

export interface ConvergenceOutcome {
  /** Time from the call to agreement; null when the deadline passed first. */
  readonly convergenceMs: number | null;
  /** Every node's version of every key, from the last poll. */
  readonly versions: ReplicaVersion[];
  /** Why it had not converged at the last poll that found a problem, for the log (undefined: agreed at once). */
  readonly lastProblem: string | undefined;
}

export async function waitConvergence(nodes: readonly NodeRef[], keys: readonly string[], deadlineMs: number): Promise<ConvergenceOutcome> {
  const started = Date.now();
  const primaries = await primariesOf(nodes, keys);
  let versions: ReplicaVersion[] = [];
  let problem: string | undefined;
  let lastProblem: string | undefined;
  for (;;) {
    try {
      problem = undefined;
      versions = [];
      for (const key of keys) {
        for (const node of nodes) versions.push({ key, node: node.id, version: await versionOn(node, key) });
      }
      for (const key of keys) {
        const mine = versions.filter((v) => v.key === key);
        const primary = mine.filter((v) => primaries.get(key)!.includes(v.node));
        const wanted = primary[0]!.version;
        const off = mine.filter((v) => v.version !== wanted && (primary.includes(v) || v.version !== null));
        if (off.length > 0) {
          problem = `${key}: ${mine.map((v) => `${v.node}=${v.version ?? '-'}`).join(' ')} (primaries ${primaries.get(key)!.join(' ')})`;
          break;
        }
      }
      if (problem === undefined) {
        let hints = 0;
        for (const node of nodes) {
          const view = (await getJson(`${node.url}/cluster`, 3000)).body as ClusterView;
          hints += view.members.reduce((sum, m) => sum + m.hintsPending, 0);
        }
        if (hints > 0) problem = `${hints} hints pending`;
      }
      if (problem === undefined) return { convergenceMs: Date.now() - started, versions, lastProblem };
    } catch (err) {
      problem = (err as Error).message;
    }
    lastProblem = problem;
    if (Date.now() - started > deadlineMs) return { convergenceMs: null, versions, lastProblem };
    await sleep(200);
  }
}

/** Every node's copy of each key: its siblings' dots and which are tombstones (checkers/supersession.ts). */
export async function replicaCopies(nodes: readonly NodeRef[], keys: readonly string[]): Promise<ChurnCopy[]> {
  const out: ChurnCopy[] = [];
  for (const key of keys) {
    for (const node of nodes) {
      const copy = await copyOn(node, key);
      out.push({ key, node: node.id, siblings: (copy?.siblings ?? []).map((s) => ({ dot: s.dot, deleted: s.deleted === true })) });
    }
  }
  return out;
}

/** kvorum_tombstones_reaped_total summed over the nodes (a restarted node starts again from 0: a lower bound). */
export async function tombstonesReaped(nodes: readonly NodeRef[]): Promise<number> {
  let total = 0;
  for (const node of nodes) {
    const text = await (await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    for (const m of text.matchAll(/^kvorum_tombstones_reaped_total(?:\{[^}]*\})?\s+(\S+)$/gm)) total += Number(m[1]);
  }
  return total;
}

/** GET /kv/{key}?r=all through every node; a 503 or a failed request is retried until the deadline. */
export async function finalReads(kv: KvClient, nodes: readonly NodeRef[], workload: Workload, deadlineMs: number): Promise<FinalRead[]> {
  const deadline = Date.now() + deadlineMs;
  const one = async (key: string, node: NodeRef): Promise<FinalRead> => {
    let status: number | string = 'no attempt';
    for (;;) {
      try {
        const res = await kv.send('GET', kvUrl(node, key, 'r=all&timeout=2000'));
        status = res.status;
        if (isReadAnswer(res.status)) return { key, node: node.id, status: res.status, value: workload.finalValue(res) };
      } catch (err) {
        status = err instanceof RequestFailed ? err.status : (err as Error).message;
      }
      if (Date.now() > deadline) return { key, node: node.id, status: typeof status === 'number' ? status : 0, value: null };
      await sleep(250);
    }
  };
  return Promise.all(workload.keys.flatMap((key) => nodes.map((node) => one(key, node))));
}
