// The rings the nodes hold, read off their cores (or, for a node that is down, off its disk):
// observers, not actors, so they never draw from the PRNG and never send a message.
import { movingPartitions } from '../../src/core/membership-plan.js';
import type { RingState } from '../../src/core/ring-state.js';
import { ringViewOf } from '../../src/core/ring-view.js';
import { partitionOf, type Ring } from '../../src/core/ring.js';
import type { NodeId, PartitionId } from '../../src/core/types.js';
import type { SimCluster } from './cluster.js';
import type { SimNode } from './node.js';

/** The ring a node acts on now, or the one it would start from. */
export function ringStateOf(node: SimNode): RingState {
  return node.core?.membership.state() ?? node.storedRing ?? node.startRing!;
}

/** The partition of `key` (fixed for the cluster's life: only who holds it changes). */
export function partitionOfKey(cluster: SimCluster, key: string): PartitionId {
  return partitionOf({ partitions: cluster.config.partitions } as Ring, key);
}

/** Who must end up holding `partition`: its replicas and target in every active node's ring, less nodes gone for good. */
export function replicasNow(cluster: SimCluster, partition: PartitionId): NodeId[] {
  const out = new Set<NodeId>();
  for (const node of cluster.activeNodes()) {
    const state = ringStateOf(node);
    for (const id of [...state.replicas[partition]!, ...state.target[partition]!]) if (!cluster.retired.has(id)) out.add(id);
  }
  return [...out];
}

export type Settled = { readonly ring: Ring; readonly state: RingState } | { readonly problem: string };

/** The ring once every active node runs, holds the same one, and nothing in it moves; else what is missing. */
export function settledRing(cluster: SimCluster): Settled {
  const nodes = cluster.activeNodes();
  const down = nodes.filter((n) => n.state !== 'up' || n.core === undefined).map((n) => n.id);
  if (down.length > 0) return { problem: `not running: ${down.join(',')}` };
  const states = nodes.map((n) => n.core!.membership.state());
  const versions = new Set(states.map((s) => JSON.stringify(s.version)));
  if (versions.size > 1) return { problem: `${versions.size} ring versions: ${nodes.map((n, i) => `${n.id}@${versionText(states[i]!)}`).join(' ')}` };
  const state = states[0]!;
  const moving = movingPartitions(state);
  if (moving.length > 0) return { problem: `${moving.length} partition(s) still moving (${moving.slice(0, 8).join(',')}...)` };
  return { ring: ringViewOf(state), state };
}

/** The ring's members and their status, for reports. */
export function membersText(state: RingState): string {
  return state.members.map((m) => `${m.id}:${m.status}`).join(' ');
}

const versionText = (state: RingState) => state.version.map(([id, c]) => `${id}.${c}`).join('+') || 'genesis';
