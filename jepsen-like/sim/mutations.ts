// Hidden switches that break kvorum on purpose, outside src/core, to prove the simulator finds
// what it is meant to find. Selected with --mutation NAME or KVORUM_SIM_MUTATION=NAME.
//
// - ack-before-commit: the storage acknowledges an object write before its group commit, so a
//   crash loses writes the node already acknowledged (to its coordinator or to a client).
// - lying-replica: replicate calls are answered 'ack' by the network without reaching the replica,
//   so a coordinator counts a copy that does not exist.
import type { Transport } from '../../src/core/runtime.js';
import type { EventOwner } from './queue.js';
import type { World } from './world.js';

export const mutationNames = ['ack-before-commit', 'lying-replica'] as const;
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
