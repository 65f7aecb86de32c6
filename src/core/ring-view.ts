// From the versioned ring (ring-state.ts) to the Ring the data path reads: who serves each
// partition now and who is receiving it. Derived once per ring change.
import { genesisRing, settledContent, type RingState } from './ring-state.js';
import { stripedOwners, type Ring } from './ring.js';
import type { NodeId } from './types.js';

export function ringViewOf(state: RingState): Ring {
  // Members that may serve a partition or stand in for one (hold hints): valid and leaving ones.
  const members = state.members.filter((m) => m.status === 'valid' || m.status === 'leaving').map((m) => m.id);
  const pending = state.target.map((t, p) => t.filter((id) => !state.replicas[p]!.includes(id)));
  return { partitions: state.partitions, n: state.n, members, owners: state.owners, replicas: state.replicas, pending };
}

/**
 * The first ring of a cluster bootstrapped with --peers: every peer valid, owners striped as the
 * ring was before membership existed (so data directories from then stay where they are), the
 * claimant the first member by id.
 */
export function genesisFromPeers(peers: ReadonlyMap<NodeId, string>, partitions: number, n: number): RingState {
  const ids = [...peers.keys()].sort();
  const members = ids.map((id) => ({ id, url: peers.get(id)!, status: 'valid' as const }));
  return genesisRing(settledContent({ claimant: ids[0]!, partitions, n, members, owners: stripedOwners(ids, partitions) }));
}

/** A new cluster's first ring for in-process clusters (simulator, tests), whose members have no URL. */
export const genesisOfIds = (ids: readonly NodeId[], partitions: number, n: number): RingState =>
  genesisFromPeers(new Map(ids.map((id) => [id, `inprocess://${id}`])), partitions, n);
