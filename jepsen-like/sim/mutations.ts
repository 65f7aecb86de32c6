// Hidden switches that break kvorum on purpose, outside src/core, to prove the simulator finds
// what it is meant to find. Selected with --mutation NAME or KVORUM_SIM_MUTATION=NAME.
//
// - ack-before-commit: the storage acknowledges an object write before its group commit, so a
//   crash loses writes the node already acknowledged (to its coordinator or to a client).
// - lying-replica: replicate calls are answered 'ack' by the network without reaching the replica,
//   so a coordinator counts a copy that does not exist.
// - uncovered-sibling: a read's answer gains a sibling its context does not cover, past the codec's
//   checks (as a bug in our own object handling would), so a merge breaks the DVV normal form: the
//   core's assertion must throw and the simulator must report it as a bug, with the seed.
// - early-switch: a node receiving a partition reports its transfer done to the claimant as soon
//   as it asks for the first page, so ownership switches before the data has moved (a receiver
//   that cut its streaming and Merkle check short would do the same). Only membership seeds move
//   partitions, so only they can catch it.
// - ttl-dropped: replicate calls carry the object with every value's expiry stripped (a codec or a
//   replica that forgot `expiresAtMs`), so the other replicas would serve an expired value as live
//   forever: the invariants must see a copy whose expiry differs from the one its write stamped.
import type { Transport } from '../../src/core/ports.js';
import type { ActorId, PartitionId } from '../../src/core/types.js';
import type { SimNode } from './node.js';
import type { World } from './world.js';

export const mutationNames = ['ack-before-commit', 'lying-replica', 'uncovered-sibling', 'early-switch', 'ttl-dropped'] as const;
export type Mutation = (typeof mutationNames)[number];

export function parseMutation(raw: string | undefined): Mutation | undefined {
  if (raw === undefined || raw === '') return undefined;
  if ((mutationNames as readonly string[]).includes(raw)) return raw as Mutation;
  throw new Error(`unknown mutation "${raw}" (known: ${mutationNames.join(', ')})`);
}

/** The mutation from the environment, for runs started without the flag (e.g. by a test runner). */
export function mutationFromEnv(): Mutation | undefined {
  return parseMutation(process.env['KVORUM_SIM_MUTATION']);
}

export function wrapTransport(transport: Transport, world: World, owner: SimNode, mutation: Mutation | undefined): Transport {
  if (mutation === 'uncovered-sibling') return withUncoveredSibling(transport);
  if (mutation === 'early-switch') return withEarlySwitch(transport, owner);
  if (mutation === 'ttl-dropped') return withoutExpiry(transport);
  if (mutation !== 'lying-replica') return transport;
  const gen = owner.gen;
  return {
    call(peer, request, timeoutMs) {
      if (request.type !== 'replicate') return transport.call(peer, request, timeoutMs);
      // The ack arrives after a plausible latency; the object never left this node.
      return new Promise((resolve) => world.schedule(world.prng.int(1, 5), () => resolve({ type: 'ack' }), owner, gen));
    },
  };
}

function withUncoveredSibling(transport: Transport): Transport {
  return {
    async call(peer, request, timeoutMs) {
      const reply = await transport.call(peer, request, timeoutMs);
      if (reply.type !== 'object' || !reply.object) return reply;
      const stray = { dot: [`${peer}.mutant` as ActorId, 1] as const, value: { kind: 'tombstone', deletedAtMs: 0 } as const };
      return { ...reply, object: { ...reply.object, siblings: [...reply.object.siblings, stray] } };
    },
  };
}

function withoutExpiry(transport: Transport): Transport {
  return {
    call(peer, request, timeoutMs) {
      if (request.type !== 'replicate') return transport.call(peer, request, timeoutMs);
      const siblings = request.object.siblings.map((s) => (s.value.kind === 'value' ? { ...s, value: { ...s.value, expiresAtMs: undefined } } : s));
      return transport.call(peer, { ...request, object: { ...request.object, siblings } }, timeoutMs);
    },
  };
}

function withEarlySwitch(transport: Transport, node: SimNode): Transport {
  return {
    call(peer, request, timeoutMs) {
      if (request.type === 'transferPage' && request.afterKey === undefined) reportDoneNow(transport, node, request.partition as PartitionId, timeoutMs);
      return transport.call(peer, request, timeoutMs);
    },
  };
}

/** The report the receiver would send once it held the whole partition, sent before it holds any of it. */
function reportDoneNow(transport: Transport, node: SimNode, partition: PartitionId, timeoutMs: number): void {
  const state = node.core?.membership.state();
  if (state === undefined) return;
  const op = { op: 'transferDone', partition, node: node.id, target: state.target[partition]! } as const;
  transport.call(state.claimant, { type: 'admin', op, forwarded: true }, timeoutMs).catch(() => {});
}
