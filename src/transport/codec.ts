// Internal RPC bodies: msgpack, which carries binary values without base64 and encodes fast.
import { Packr } from 'msgpackr';
import type { RpcRequest, RpcResponse } from '../core/rpc.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export const rpcContentType = 'application/msgpack';

export function encodeRpc(message: RpcRequest | RpcResponse): Buffer {
  return packr.pack(message);
}

export function decodeRpc<T extends RpcRequest | RpcResponse>(body: Uint8Array): T {
  return packr.unpack(body) as T;
}
