// Membership helpers for integration tests: admin routes, waiting for a settled ring, a steady
// writer recording acknowledged keys, and the check that every key is on exactly its replicas.
import assert from 'node:assert/strict';
import type { ClusterView } from '../../src/api/views.js';
import { partitionOf } from '../../src/core/ring.js';
import { http } from '../kit/http.js';
import type { TestCluster, TestNode } from '../kit/test-cluster.js';
import { sleep, waitFor } from '../kit/wait.js';
import { clusterView, mapLimit, replicaCopy } from './convergence.js';

export async function admin(node: TestNode, method: 'GET' | 'POST' | 'PUT', path: string, body?: object): Promise<{ status: number; json: any }> {
  const res = await http(method, `${node.url}${path}`, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  return { status: res.status, json: res.json() };
}

export async function adminOk(node: TestNode, method: 'GET' | 'POST' | 'PUT', path: string, body?: object): Promise<any> {
  const { status, json } = await admin(node, method, path, body);
  assert.equal(status, 200, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

/** Partitions `node` is still handing away (empty once its old copies are deleted). */
const droppingOn = async (node: TestNode): Promise<number[]> => (await adminOk(node, 'GET', '/admin/transfers/local')).dropping;

/**
 * Waits until every running node has the same ring version, nothing moves, and no node is still
 * deleting a partition it handed away; resolves with one node's view.
 */
export async function waitSettled(nodes: readonly TestNode[], timeoutMs: number): Promise<ClusterView> {
  return waitFor(
    async () => {
      const running = nodes.filter((n) => n.running());
      const views = await Promise.all(running.map((n) => clusterView(n).catch(() => undefined)));
      if (views.some((v) => v === undefined)) return undefined;
      const versions = new Set(views.map((v) => v!.ringVersion));
      const moving = views.some((v) => v!.ring.some((p) => p.pending.length > 0));
      if (versions.size !== 1 || moving) return undefined;
      const dropping = await Promise.all(running.map((n) => droppingOn(n).catch(() => [0])));
      return dropping.every((d) => d.length === 0) ? views[0] : undefined;
    },
    { timeoutMs, intervalMs: 250, what: 'every node on one settled ring' },
  );
}

/** Writes `${prefix}-i` keys with w=quorum one after another until stopped; records which were acknowledged. */
export function steadyWriter(nodes: () => readonly TestNode[], prefix: string) {
  const acked: string[] = [];
  let failed = 0;
  let stopped = false;
  const run = (async () => {
    for (let i = 0; !stopped; i++) {
      const live = nodes().filter((n) => n.running());
      const node = live[i % live.length]!;
      const key = `${prefix}-${i}`;
      try {
        const res = await http('PUT', `${node.url}/kv/${key}?w=quorum&timeout=2000`, { body: `v${i}`, timeoutMs: 5000 });
        if (res.status === 204 || res.status === 200) acked.push(key);
        else failed++;
      } catch {
        failed++;
      }
      await sleep(5);
    }
  })();
  return {
    acked,
    failures: () => failed,
    async stop() {
      stopped = true;
      await run;
    },
  };
}

/** Every acknowledged key can be read at r=quorum, and is held by exactly its replicas (no other node). */
export async function assertPlacedExactly(cluster: TestCluster, view: ClusterView, keys: readonly string[]): Promise<void> {
  const members = cluster.nodes.filter((n) => view.members.some((m) => m.id === n.id && n.running()));
  const ring = { partitions: view.partitions } as Parameters<typeof partitionOf>[0];
  const wrong: string[] = [];
  await mapLimit(keys, 8, async (key) => {
    const owners = view.ring[partitionOf(ring, key)]!.owners;
    const copies = await Promise.all(members.map(async (n) => [n.id, await replicaCopy(n, key)] as const));
    const holders = copies.filter(([, copy]) => copy !== undefined).map(([id]) => id);
    if ([...holders].sort().join() !== [...owners].sort().join()) {
      const strays = copies.filter(([id, copy]) => copy !== undefined && !owners.includes(id)).map(([id, copy]) => `${id}: ${JSON.stringify(copy)}`);
      wrong.push(`${key}: held by [${holders}], replicas [${owners}]${strays.length > 0 ? `; stray ${strays.join('; ')}` : ''}`);
    }
    const read = await http('GET', `${members[0]!.url}/kv/${key}?r=quorum`);
    if (read.status !== 200) wrong.push(`${key}: read answered ${read.status}`);
  });
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${keys.length} acknowledged keys misplaced or unreadable`);
}
