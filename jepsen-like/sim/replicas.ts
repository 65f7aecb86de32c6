// What the replicas hold, read straight off every node's disk: observers, not actors, so they
// never draw from the PRNG and never send a message.
import { sameVersion } from '../../src/core/dvv.js';
import { objectDigest } from '../../src/core/merkle.js';
import { preferenceListForKey } from '../../src/core/ring.js';
import { formatDot } from '../../src/api/views.js';
import type { VersionedObject } from '../../src/core/types.js';
import type { ChurnCopy } from '../checkers/index.js';
import type { ReplicaVersion } from '../history.js';
import type { SimCluster } from './cluster.js';

/** Every node's copy of each key as the jepsen-like checker reads it (GET /replica/kv names dots `actor:counter`). */
export async function churnCopiesOf(cluster: SimCluster, keys: readonly string[]): Promise<ChurnCopy[]> {
  const out: ChurnCopy[] = [];
  for (const key of keys) {
    for (const node of cluster.nodes.values()) {
      const object = await node.disk.get(key);
      const siblings = (object?.siblings ?? []).map((s) => ({ dot: formatDot(s.dot), deleted: s.value.kind === 'tombstone' }));
      out.push({ key, node: node.id, siblings });
    }
  }
  return out;
}

/** Every primary (and any other node holding a copy) has the same version, every node is up, no hints wait. */
export async function replicasAgree(cluster: SimCluster, keys: readonly string[]): Promise<boolean> {
  for (const node of cluster.nodes.values()) {
    if (node.state !== 'up' || node.disk.hintCounts().size > 0) return false;
  }
  for (const key of keys) {
    const { primaries } = preferenceListForKey(cluster.ring, key);
    const copies: (VersionedObject | undefined)[] = [];
    for (const node of cluster.nodes.values()) {
      const object = await node.disk.get(key);
      if (object !== undefined || primaries.includes(node.id)) copies.push(object);
    }
    if (!copies.every((c) => sameVersion(c, copies[0]))) return false;
  }
  return true;
}

export async function replicaVersionsOf(cluster: SimCluster, keys: readonly string[]): Promise<ReplicaVersion[]> {
  const out: ReplicaVersion[] = [];
  for (const key of keys) {
    for (const node of cluster.nodes.values()) {
      const object = await node.disk.get(key);
      out.push({ key, node: node.id, version: object === undefined ? null : objectDigest(object).slice(0, 16) });
    }
  }
  return out;
}
