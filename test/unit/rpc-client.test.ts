// The core's one RPC helper: the reply variant is checked against the request type, and the
// failure detector is fed the same way for every call (issue 11, point 2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError, type Transport } from '../../src/core/ports.js';
import type { RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { replyTypeOf, RpcClient, type PeerHealth } from '../../src/core/rpc-client.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';

const peer = asNodeId('n2');
const timeoutMs = 100;

/** A transport whose every call resolves with `answer`, or rejects with it if it is an error. */
function transportAnswering(answer: RpcResponse | TransportError | Error): Transport {
  return { call: async () => { if (answer instanceof Error) throw answer; return answer; } };
}

function recorder(): PeerHealth & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    heartbeat: (p: NodeId) => void events.push(`heartbeat ${p}`),
    reportSuccess: (p: NodeId) => void events.push(`up ${p}`),
    reportFailure: (p: NodeId) => void events.push(`down ${p}`),
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => assert.fail('expected a rejection'), (err: unknown) => err);
}

describe('RpcClient', () => {
  it('resolves with the expected variant and reports the peer up', async () => {
    const health = recorder();
    const client = new RpcClient(transportAnswering({ type: 'ack' }), () => health);
    const reply = await client.call(peer, { type: 'replicate', key: 'k', object: { context: { vv: [], cloud: [] }, siblings: [] } }, timeoutMs);
    assert.equal(reply.type, 'ack');
    assert.deepEqual(health.events, ['up n2']);
  });

  it('turns a reply of the wrong variant into a protocol error and reports nothing', async () => {
    const health = recorder();
    const client = new RpcClient(transportAnswering({ type: 'ack' }), () => health);
    const err = await rejection(client.call(peer, { type: 'read', key: 'k' }, timeoutMs));
    assert.ok(err instanceof TransportError);
    assert.equal(err.reason, 'protocol');
    assert.equal(err.peer, peer);
    assert.match(err.message, /expected object for read, got ack/);
    assert.deepEqual(health.events, []);
  });

  it('reports an unreachable peer down and rethrows the error unchanged', async () => {
    const health = recorder();
    const thrown = new TransportError(peer, 'unreachable', 'ECONNREFUSED');
    const client = new RpcClient(transportAnswering(thrown), () => health);
    assert.equal(await rejection(client.call(peer, { type: 'ping' }, timeoutMs)), thrown);
    assert.deepEqual(health.events, ['down n2']);
  });

  for (const reason of ['timeout', 'unauthorized', 'protocol'] as const) {
    it(`does not feed the detector on a ${reason} error`, async () => {
      const health = recorder();
      const thrown = new TransportError(peer, reason, reason);
      const client = new RpcClient(transportAnswering(thrown), () => health);
      assert.equal(await rejection(client.call(peer, { type: 'ping' }, timeoutMs)), thrown);
      assert.deepEqual(health.events, []);
    });
  }

  it('passes other errors through without feeding the detector', async () => {
    const health = recorder();
    const thrown = new Error('a bug');
    const client = new RpcClient(transportAnswering(thrown), () => health);
    assert.equal(await rejection(client.call(peer, { type: 'ping' }, timeoutMs)), thrown);
    assert.deepEqual(health.events, []);
  });

  it('works without a detector (it is looked up lazily, on each call)', async () => {
    let health: PeerHealth | undefined;
    const client = new RpcClient(transportAnswering({ type: 'pong', node: 'n2' }), () => health);
    assert.equal((await client.call(peer, { type: 'ping' }, timeoutMs)).node, 'n2');
    const late = recorder();
    health = late;
    await client.call(peer, { type: 'ping' }, timeoutMs);
    assert.deepEqual(late.events, ['heartbeat n2']);
  });

  it('reports a pong once, as a heartbeat, not also as a success', async () => {
    const health = recorder();
    const client = new RpcClient(transportAnswering({ type: 'pong', node: 'n2' }), () => health);
    await client.call(peer, { type: 'ping' }, timeoutMs);
    assert.deepEqual(health.events, ['heartbeat n2']);
  });

  it('has a reply type for every request type', () => {
    const requestTypes: Record<RpcRequest['type'], true> = {
      ping: true, replicate: true, read: true, readDigest: true, forward: true, aeRoots: true, aeBranches: true, aeLeaves: true, aeKeys: true, keyPending: true, reap: true, ringGossip: true, admin: true, transferPage: true, listKeys: true,
    };
    assert.deepEqual(Object.keys(replyTypeOf).sort(), Object.keys(requestTypes).sort());
  });
});
