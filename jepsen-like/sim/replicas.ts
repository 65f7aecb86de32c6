// What the replicas hold, read straight off every node's disk: observers, not actors, so they
// never draw from the PRNG and never send a message. Nodes gone for good (left, removed) are not read.
import { sameVersion } from '../../src/core/dvv.js';
import { objectDigest } from '../../src/core/merkle.js';
import { preferenceListForKey, type Ring } from '../../src/core/ring.js';
import { formatDot } from '../../src/api/views.js';
import type { VersionedObject } from '../../src/core/types.js';
import type { ChurnCopy } from '../checkers/index.js';
import type { ReplicaVersion } from '../history.js';
import type { SimCluster } from './cluster.js';

/** Every node's copy of each key as the jepsen-like checker reads it (GET /replica/kv names dots `actor:counter`). */
export async function churnCopiesOf(cluster: SimCluster, keys: readonly string[]): Promise<ChurnCopy[]> {
  const out: ChurnCopy[] = [];
  for (const key of keys) {
    for (const node of cluster.activeNodes()) {
      const object = await node.disk.get(key);
      const siblings = (object?.siblings ?? []).map((s) => ({ dot: formatDot(s.dot), deleted: s.value.kind === 'tombstone' }));
      out.push({ key, node: node.id, siblings });
    }
  }
  return out;
}

/**
 * Whether the replicas agree under `ring` (the settled final ring): every active node is up with
 * no hints left, and each key is held in the same version by every one of its replicas and by no
 * other node. Answers what still disagrees, or undefined once everything does.
 */
export async function replicasDisagree(cluster: SimCluster, keys: readonly string[], ring: Ring): Promise<string | undefined> {
  for (const node of cluster.activeNodes()) {
    if (node.state !== 'up') return `${node.id} is ${node.state}`;
    if (node.disk.hintCounts().size > 0) return `${node.id} holds hints`;
  }
  for (const key of keys) {
    const { primaries } = preferenceListForKey(ring, key);
    const copies: (VersionedObject | undefined)[] = [];
    for (const node of cluster.activeNodes()) {
      const object = await node.disk.get(key);
      if (object !== undefined && !primaries.includes(node.id)) return `${key}: ${node.id} holds a copy but is not a replica (${primaries.join(',')})`;
      if (object !== undefined || primaries.includes(node.id)) copies.push(object);
    }
    if (!copies.every((c) => sameVersion(c, copies[0]))) return `${key}: its replicas (${primaries.join(',')}) hold different versions`;
  }
  return undefined;
}

export async function replicaVersionsOf(cluster: SimCluster, keys: readonly string[]): Promise<ReplicaVersion[]> {
  const out: ReplicaVersion[] = [];
  for (const key of keys) {
    for (const node of cluster.activeNodes()) {
      const object = await node.disk.get(key);
      out.push({ key, node: node.id, version: object === undefined ? null : objectDigest(object).slice(0, 16) });
    }
  }
  return out;
}
