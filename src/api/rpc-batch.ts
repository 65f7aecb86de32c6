// Runs one checked internal RPC batch, over HTTP (rpc-routes.ts) or the channel (rpc-channel.ts):
// each request on its own, so one failing does not fail the others.
import type { FailureLog } from '../core/failure-log.js';
import { rpcErrorTextCharsMax } from '../core/limits.js';
import type { RpcRequest, RpcResponse } from '../core/rpc.js';
import type { RpcHandler } from '../core/rpc-handler.js';
import type { RpcOutcome } from '../transport/codec.js';

export function runBatch(rpc: RpcHandler, batch: readonly RpcRequest[], failures: FailureLog): Promise<RpcOutcome[]> {
  return Promise.all(
    batch.map((message) =>
      rpc.handle(message).then(
        (ok: RpcResponse): RpcOutcome => ({ ok }),
        (err: unknown): RpcOutcome => {
          failures.failed('internal RPC', err, { type: message.type });
          return { error: String((err as Error).message).slice(0, rpcErrorTextCharsMax) };
        },
      ),
    ),
  );
}
