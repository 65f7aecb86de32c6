// Internal RPC bodies: msgpack, which carries binary values without base64 and encodes fast.
// A body is always a batch: an array of requests, answered by an array of outcomes in order.
import { Packr } from 'msgpackr';
import type { RpcRequest, RpcResponse } from '../core/rpc.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export const rpcContentType = 'application/msgpack';

/** One request's outcome inside a batch response. */
export type RpcOutcome = { readonly ok: RpcResponse } | { readonly error: string };

export function encodeRpc(message: readonly RpcRequest[] | readonly RpcOutcome[]): Buffer {
  return packr.pack(message);
}

export function decodeRpc<T extends readonly RpcRequest[] | readonly RpcOutcome[]>(body: Uint8Array): T {
  return packr.unpack(body) as T;
}
