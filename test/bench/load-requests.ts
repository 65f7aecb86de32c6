// The HTTP request the load generator sends for one key, and whether its answer means success, for
// each API it can drive: kvorum's `/kv/<key>` (the no-op server has the same routes) and etcd's v3
// JSON gateway (grpc-gateway: keys and values base64 in a JSON body, POST for reads too). Used by
// both the closed-loop (autocannon) and the open-loop (paced) generator in load.ts.
import { valueFor, type LoadApi } from './common.js';

export interface HttpRequest {
  readonly method: 'PUT' | 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | string;
}

/** etcd 3.4 serves the v3 API's JSON gateway under /v3/ (and the older /v3beta/). */
export const etcdPutPath = '/v3/kv/put';
export const etcdRangePath = '/v3/kv/range';

const octetStream = { 'content-type': 'application/octet-stream' };
const json = { 'content-type': 'application/json' };
const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('base64');

/** The request writing (PUT) or reading (GET) `key`; `query` (kvorum) without the `?`. */
export function requestFor(api: LoadApi, method: 'PUT' | 'GET', key: string, valueBytes: number, query: string): HttpRequest {
  if (api === 'etcd') {
    // A range is linearizable unless the body asks for `serializable`: the read goes through the leader's quorum.
    return method === 'PUT'
      ? { method: 'POST', path: etcdPutPath, headers: json, body: JSON.stringify({ key: b64(key), value: b64(valueFor(key, valueBytes)) }) }
      : { method: 'POST', path: etcdRangePath, headers: json, body: JSON.stringify({ key: b64(key) }) };
  }
  const path = `/kv/${key}${query === '' ? '' : `?${query}`}`;
  return method === 'PUT' ? { method: 'PUT', path, headers: octetStream, body: valueFor(key, valueBytes) } : { method: 'GET', path, headers: {} };
}

/**
 * Whether a 2xx answer's body shows the operation was done. kvorum answers a failure with a non-2xx
 * status, so its 2xx always counts. etcd's gateway answers errors non-2xx too, but a range of a
 * missing key is a 200 without `kvs`, and a put's 200 carries the raft header.
 */
export function bodySucceeded(api: LoadApi, method: 'PUT' | 'GET', body: string): boolean {
  if (api === 'kvorum') return true;
  return method === 'PUT' ? body.includes('"header"') : body.includes('"kvs"');
}

/** Whether `bodySucceeded` needs the answer's body (autocannon only collects it for an `onResponse`). */
export const needsBody = (api: LoadApi): boolean => api === 'etcd';
