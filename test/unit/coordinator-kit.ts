// Shared by the coordinator's unit tests: client ops, what a read returned, and who replicates a key.
import assert from 'node:assert/strict';
import { liveValues } from '../../src/core/dvv.js';
import { preferenceListForKey } from '../../src/core/ring.js';
import type { ClientOp, ClientResult, QuorumSpec } from '../../src/core/rpc.js';
import type { CausalContext, NodeId } from '../../src/core/types.js';
import type { fakeCluster } from './fakes.js';

export const text = (s: string) => new TextEncoder().encode(s);
export const put = (key: string, value: string, w: QuorumSpec = 'quorum', context?: CausalContext, timeoutMs = 2000): ClientOp => ({
  op: 'put', key, data: text(value), contentType: 'text/plain', context, w, pw: 0, timeoutMs,
});
export const get = (key: string, r: QuorumSpec = 'quorum', timeoutMs = 2000): ClientOp => ({ op: 'get', key, r, pr: 0, timeoutMs });
/** Values written here without a ttl are live at any instant. */
export const anyMs = 0;
export const values = (res: ClientResult, nowMs = anyMs) => {
  assert.ok(res.ok, `expected success, got ${JSON.stringify(res)}`);
  return liveValues(res.object, nowMs).map((v) => new TextDecoder().decode(v.data)).sort();
};

/** Tracks whether a promise has settled, without awaiting it. */
export function watch<T>(p: Promise<T>) {
  const state: { done: boolean; value?: T } = { done: false };
  void p.then((v) => Object.assign(state, { done: true, value: v }));
  return state;
}

export function replicasOf(c: ReturnType<typeof fakeCluster>, key: string): NodeId[] {
  return [...preferenceListForKey(c.ring, key).primaries];
}
