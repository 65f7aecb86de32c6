// A replicate call an attacker would send through internal RPC: tests that refuse it (no secret, no
// client certificate) check that its key was not stored.
import { encodeRpc } from '../../src/transport/codec.js';
import type { RpcRequest } from '../../src/core/rpc.js';
import type { ActorId, VersionedObject } from '../../src/core/types.js';

function evilObject(): VersionedObject {
  const actor = 'evil.1' as ActorId;
  return {
    context: { vv: [[actor, 1]], cloud: [] },
    siblings: [{ dot: [actor, 1], value: { kind: 'value', data: Buffer.from('evil'), contentType: 'text/plain' } }],
  };
}

/** An encoded batch of one replicate of `key`. */
export const replicate = (key: string): Buffer => encodeRpc([{ type: 'replicate', key, object: evilObject() } satisfies RpcRequest]);
