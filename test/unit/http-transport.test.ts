// The internal RPC transport against a real HTTP server on 127.0.0.1: batching, per-request
// failure isolation, credentials, unreachable and silent peers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { rpcRoutes } from '../../src/api/rpc-routes.js';
import type { RpcHandler } from '../../src/core/rpc-handler.js';
import { TransportError } from '../../src/core/ports.js';
import type { RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { asNodeId } from '../../src/core/types.js';
import { HttpTransport } from '../../src/transport/http-transport.js';
import { encodeRpc } from '../../src/transport/codec.js';
import { freePorts } from '../kit/ports.js';

const peer = asNodeId('p1');
const secret = 'test-secret';

describe('http transport', () => {
  let app: FastifyInstance;
  let url: string;
  let httpRequests = 0;
  const handled: RpcRequest[] = [];

  before(async () => {
    app = Fastify();
    const rpc = {
      async handle(request: RpcRequest): Promise<RpcResponse> {
        handled.push(request);
        if (request.type === 'read' && request.key === 'boom') throw new Error('disk on fire');
        return request.type === 'read' ? { type: 'object', object: null } : { type: 'ack' };
      },
    } as unknown as RpcHandler;
    app.addHook('onRequest', async () => void httpRequests++);
    await app.register(rpcRoutes, { rpc, secret });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  it('sends calls made in one turn as one HTTP request and answers each', async () => {
    const transport = new HttpTransport(new Map([[peer, url]]), secret);
    try {
      const before = httpRequests;
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => transport.call(peer, { type: 'read', key: `k${i}` }, 1000)));
      assert.equal(httpRequests - before, 1);
      assert.deepEqual(replies, Array(10).fill({ type: 'object', object: null }));
    } finally {
      await transport.close();
    }
  });

  it('a failing request fails alone, not its batch', async () => {
    const transport = new HttpTransport(new Map([[peer, url]]), secret);
    try {
      const [bad, good] = await Promise.allSettled([
        transport.call(peer, { type: 'read', key: 'boom' }, 1000),
        transport.call(peer, { type: 'read', key: 'fine' }, 1000),
      ]);
      assert.ok(bad.status === 'rejected' && bad.reason instanceof TransportError && /disk on fire/.test(bad.reason.message));
      assert.equal(good.status, 'fulfilled');
    } finally {
      await transport.close();
    }
  });

  it('a wrong secret is refused with 401 and reaches no handler', async () => {
    const transport = new HttpTransport(new Map([[peer, url]]), 'wrong');
    const count = handled.length;
    try {
      await assert.rejects(transport.call(peer, { type: 'ping' }, 1000), (e: unknown) => e instanceof TransportError && e.reason === 'unauthorized');
      assert.equal(handled.length, count);
    } finally {
      await transport.close();
    }
  });

  it('an unknown or unreachable peer is an unreachable TransportError', async () => {
    const [closedPort] = await freePorts(1);
    const transport = new HttpTransport(new Map([[peer, `http://127.0.0.1:${closedPort}`]]), secret);
    try {
      await assert.rejects(transport.call(peer, { type: 'ping' }, 1000), (e: unknown) => e instanceof TransportError && e.reason === 'unreachable');
      await assert.rejects(transport.call(asNodeId('nobody'), { type: 'ping' }, 1000), (e: unknown) => e instanceof TransportError && e.reason === 'unreachable');
    } finally {
      await transport.close();
    }
  });

  it('a peer that accepts but never answers times out', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const transport = new HttpTransport(new Map([[peer, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`]]), secret);
    try {
      await assert.rejects(transport.call(peer, { type: 'ping' }, 200), (e: unknown) => e instanceof TransportError && e.reason === 'timeout');
    } finally {
      await transport.close();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('retries once on a new connection when a pooled one fails under an idempotent batch, never under a forward', async () => {
    // Like a peer that restarted: a kept-alive connection dies as its next request arrives.
    const served = new WeakMap<object, number>();
    let mode: 'second-request-dies' | 'every-request-dies' = 'second-request-dies';
    let destroyed = 0;
    const restarting: Server = createServer((req, res) => {
      const nth = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, nth);
      if (mode === 'every-request-dies' || nth === 2) {
        destroyed++;
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/msgpack' }).end(encodeRpc([{ ok: { type: 'pong', node: 'p1' } }])));
    });
    await new Promise<void>((resolve) => restarting.listen(0, '127.0.0.1', resolve));
    const transport = new HttpTransport(new Map([[peer, `http://127.0.0.1:${(restarting.address() as AddressInfo).port}`]]), secret);
    const lost = (e: unknown) => e instanceof TransportError && e.reason === 'unreachable';
    try {
      assert.deepEqual(await transport.call(peer, { type: 'ping' }, 1000), { type: 'pong', node: 'p1' });
      assert.deepEqual(await transport.call(peer, { type: 'ping' }, 1000), { type: 'pong', node: 'p1' }, 'the ping is retried on a new connection');
      assert.equal(destroyed, 1);
      mode = 'every-request-dies';
      await assert.rejects(transport.call(peer, { type: 'ping' }, 1000), lost);
      assert.equal(destroyed, 3, 'retried once, not more');
      const forward = { type: 'forward', request: { op: 'get', key: 'k', r: 'quorum', pr: 0, timeoutMs: 500 } } as unknown as RpcRequest;
      await assert.rejects(transport.call(peer, forward, 1000), lost);
      assert.equal(destroyed, 4, 'a forward is never sent twice');
    } finally {
      await transport.close();
      restarting.closeAllConnections();
      await new Promise<void>((resolve) => restarting.close(() => resolve()));
    }
  });
});
