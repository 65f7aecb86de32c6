// Internal RPC bodies: msgpack, which carries binary values without base64 and encodes fast.
// A body is always a batch: an array of requests, answered by an array of outcomes in order.
// Decoding checks the result against the RPC schema: a peer's bytes are untrusted until then.
import { Packr } from 'msgpackr';
import { quotedTextCharsMax } from '../core/limits.js';
import type { RpcRequest } from '../core/rpc.js';
import { checkRpcBatch, checkRpcOutcomes, type RpcOutcome } from '../core/rpc-schema.js';
import type { Checked } from '../core/schemas.js';

export type { RpcOutcome } from '../core/rpc-schema.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export const rpcContentType = 'application/msgpack';

export function encodeRpc(message: readonly RpcRequest[] | readonly RpcOutcome[]): Buffer {
  return packr.pack(message);
}

function unpack(body: Uint8Array): Checked<unknown> {
  try {
    return { ok: true, value: packr.unpack(body) };
  } catch (err) {
    return { ok: false, problem: `not msgpack (${String((err as Error).message).slice(0, quotedTextCharsMax)})` };
  }
}

/** A request body: 1..rpcBatchMax requests that pass the RPC schema, or why not. */
export function decodeRpcBatch(body: Uint8Array): Checked<RpcRequest[]> {
  const unpacked = unpack(body);
  return unpacked.ok ? checkRpcBatch(unpacked.value) : unpacked;
}

/** A reply body: outcomes that pass the RPC schema, or why not. */
export function decodeRpcOutcomes(body: Uint8Array): Checked<RpcOutcome[]> {
  const unpacked = unpack(body);
  return unpacked.ok ? checkRpcOutcomes(unpacked.value) : unpacked;
}
