// Helpers for the convergence integration tests (read repair, hinted handoff, anti-entropy,
// tombstone reaping): a node's own copy of a key, its cluster view, its Prometheus counters, and
// the ring as the nodes compute it.
import assert from 'node:assert/strict';
import { partitionsDefault } from '../../src/core/limits.js';
import { createRing, partitionOf, preferenceList, type Ring } from '../../src/core/ring.js';
import { asNodeId } from '../../src/core/types.js';
import type { ClusterView, MemberView, ReplicaCopyView } from '../../src/api/views.js';
import { http } from '../kit/http.js';
import { waitFor } from '../kit/wait.js';
import type { TestCluster, TestNode } from '../kit/test-cluster.js';


/** This node's own copy of `key` (GET /replica/kv/{key}), or undefined when it holds none (404). */
export async function replicaCopy(node: TestNode, key: string): Promise<ReplicaCopyView | undefined> {
  const res = await http('GET', `${node.url}/replica/kv/${encodeURIComponent(key)}`, { timeoutMs: 3000 });
  if (res.status === 404) {
    assert.equal(res.json<{ error?: string }>().error, 'not_found', `404 from ${node.id}/replica/kv/${key} has error not_found`);
    return undefined;
  }
  assert.equal(res.status, 200, `GET ${node.id}/replica/kv/${key}: expected 200 or 404, got ${res.status}: ${res.text().slice(0, 300)}`);
  return res.json<ReplicaCopyView>();
}

/** The single live value of a copy as UTF-8, or undefined if it has none or several siblings. */
export function singleValue(copy: ReplicaCopyView | undefined): string | undefined {
  if (!copy || copy.siblings.length !== 1) return undefined;
  const [only] = copy.siblings;
  return only!.value === undefined ? undefined : Buffer.from(only!.value, 'base64').toString('utf8');
}

/** True when the copy exists and every sibling is a tombstone. */
export function isTombstone(copy: ReplicaCopyView | undefined): boolean {
  return copy !== undefined && copy.siblings.length > 0 && copy.siblings.every((s) => s.deleted === true);
}

export async function clusterView(node: TestNode): Promise<ClusterView> {
  const res = await http('GET', `${node.url}/cluster`, { timeoutMs: 3000 });
  assert.equal(res.status, 200, `GET ${node.id}/cluster: ${res.status} ${res.text().slice(0, 300)}`);
  return res.json<ClusterView>();
}

/** How `observer` sees `member`. */
export async function memberView(observer: TestNode, member: string): Promise<MemberView> {
  const view = await clusterView(observer);
  const found = view.members.find((m) => m.id === member);
  assert.ok(found, `${observer.id}'s /cluster lists ${member}`);
  return found;
}

/** Hints `holder` keeps, by target, as its /cluster reports them (only targets with a count > 0). */
export async function hintsHeldBy(holder: TestNode): Promise<Record<string, number>> {
  const view = await clusterView(holder);
  const out: Record<string, number> = {};
  for (const m of view.members) {
    assert.equal(typeof m.hintsPending, 'number', `${holder.id}'s /cluster member ${m.id} carries a numeric hintsPending`);
    if (m.hintsPending > 0) out[m.id] = m.hintsPending;
  }
  return out;
}

/** The sum of every sample of metric `name` on `node` whose labels include `labels` (0 if absent). */
export async function metricValue(node: TestNode, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await http('GET', `${node.url}/metrics`, { timeoutMs: 3000 });
  assert.equal(res.status, 200, `GET ${node.id}/metrics: ${res.status}`);
  return sumMetric(res.text(), name, labels);
}

export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const sampleLabels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) sampleLabels[lm[1]!] = lm[2]!;
    if (Object.entries(labels).every(([k, v]) => sampleLabels[k] === v)) total += Number(m[3]);
  }
  return total;
}

/** The ring every node of `cluster` computes (members n1..nK, default partitions). */
export function ringOf(cluster: TestCluster, n: number): Ring {
  return createRing(cluster.nodes.map((x) => asNodeId(x.id)), partitionsDefault, n); // every test cluster uses the default
}

export interface KeyPlacement {
  readonly key: string;
  readonly partition: number;
  readonly primaries: readonly string[];
  readonly fallbacks: readonly string[];
}

export function placementOf(ring: Ring, key: string): KeyPlacement {
  const partition = partitionOf(ring, key);
  const { primaries, fallbacks } = preferenceList(ring, partition);
  return { key, partition, primaries, fallbacks };
}

/** The first key `${prefix}-0`, `${prefix}-1`, ... whose placement satisfies `accept`. */
export function findKey(ring: Ring, prefix: string, accept: (p: KeyPlacement) => boolean): KeyPlacement {
  for (let i = 0; i < 100_000; i++) {
    const placement = placementOf(ring, `${prefix}-${i}`);
    if (accept(placement)) return placement;
  }
  throw new Error(`no key with prefix ${prefix} has the wanted placement`);
}

/** Asserts the cluster agrees with the test's ring computation for `key` (guards against drift). */
export async function assertPlacement(node: TestNode, placement: KeyPlacement): Promise<void> {
  const view = await clusterView(node);
  assert.deepEqual(view.ring[placement.partition]?.owners, placement.primaries, `primaries of partition ${placement.partition} as ${node.id} reports them`);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

/**
 * Waits until every running node's failure detector reports every running member 'up'. Needed
 * right after start-up: a node probes its peers as it starts, possibly before they listen, and
 * keeps them 'down' until its next probe. A coordinator only uses fallbacks its detector believes
 * up, so the tests' expectations about who takes a write (and keeps which hint) need a settled
 * view. (Before commit 928facf a w=all write issued then was even answered 503: see
 * detector-recovery.test.ts.)
 */
export async function waitAllUp(cluster: TestCluster, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      const running = cluster.nodes.filter((n) => n.running());
      for (const n of running) {
        const view = await clusterView(n);
        for (const m of running) if (view.members.find((v) => v.id === m.id)?.status !== 'up') return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 50, what: 'every running node to see every running member up' },
  );
}
