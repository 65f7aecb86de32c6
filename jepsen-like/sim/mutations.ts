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
import type { Transport } from '../../src/core/ports.js';
import type { ActorId } from '../../src/core/types.js';
import type { EventOwner } from './queue.js';
import type { World } from './world.js';

export const mutationNames = ['ack-before-commit', 'lying-replica', 'uncovered-sibling'] as const;
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

export function wrapTransport(transport: Transport, world: World, owner: EventOwner, mutation: Mutation | undefined): Transport {
  if (mutation === 'uncovered-sibling') return withUncoveredSibling(transport);
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
