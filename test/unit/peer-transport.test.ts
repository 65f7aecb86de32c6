// The internal RPC transport against real servers on 127.0.0.1: batching, per-request failure
// isolation, credentials, unreachable and silent peers, over the channel and over HTTP (a peer
// without the channel: an older node).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { rpcRoutes } from '../../src/api/rpc-routes.js';
import type { RpcHandler } from '../../src/core/rpc-handler.js';
import { TransportError } from '../../src/core/ports.js';
import type { RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { asNodeId } from '../../src/core/types.js';
import { PeerTransport } from '../../src/transport/peer-transport.js';
import { decodeRpcBatch, encodeRpc } from '../../src/transport/codec.js';
import { encodeFrame, frameKind, FrameReader } from '../../src/transport/frames.js';
import { freePorts } from '../kit/ports.js';

const peer = asNodeId('p1');
const secret = 'test-secret';

/** Listens on a free port of 127.0.0.1; its base URL. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** An HTTP server answering 404 to the channel upgrade, as a node without the channel does. */
function withoutChannel(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  return createServer((req, res) => {
    if (req.headers.upgrade !== undefined) return void res.writeHead(404).end();
    handler(req, res);
  });
}

describe('peer transport', () => {
  let app: FastifyInstance;
  let url: string;
  let httpRequests = 0;
  let upgrades = 0;
  let framesReceived = 0;
  const handled: RpcRequest[] = [];

  before(async () => {
    app = Fastify();
    // Counts the channels opened and the frames that arrive on them.
    app.server.prependListener('upgrade', (_req, socket: import('node:stream').Duplex) => {
      upgrades++;
      const tap = new FrameReader();
      socket.on('data', (chunk: Buffer) => (framesReceived += tap.push(chunk).length));
    });
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

  it('sends calls made in one turn as one batch over one channel and answers each', async () => {
    const transport = new PeerTransport(new Map([[peer, url]]), secret);
    try {
      const [upgradesBefore, framesBefore, httpBefore] = [upgrades, framesReceived, httpRequests];
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => transport.call(peer, { type: 'read', key: `k${i}` }, 1000)));
      assert.deepEqual(replies, Array(10).fill({ type: 'object', object: null }));
      await Promise.all(Array.from({ length: 3 }, (_, i) => transport.call(peer, { type: 'read', key: `again${i}` }, 1000)));
      assert.equal(framesReceived - framesBefore, 2, 'one frame per turn');
      assert.equal(upgrades - upgradesBefore, 1, 'one channel, kept open');
      assert.equal(httpRequests - httpBefore, 0, 'no HTTP request per batch');
    } finally {
      await transport.close();
    }
  });

  it('a peer without the channel is sent one HTTP request per batch', async () => {
    let posts = 0;
    const old = withoutChannel((req, res) => {
      posts++;
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/msgpack' }).end(encodeRpc([{ ok: { type: 'pong', node: 'p1' } }, { ok: { type: 'pong', node: 'p1' } }])));
    });
    const transport = new PeerTransport(new Map([[peer, await listen(old)]]), secret);
    try {
      const replies = await Promise.all([transport.call(peer, { type: 'ping' }, 1000), transport.call(peer, { type: 'ping' }, 1000)]);
      assert.deepEqual(replies, [{ type: 'pong', node: 'p1' }, { type: 'pong', node: 'p1' }]);
      assert.equal(posts, 1);
    } finally {
      await transport.close();
      await closeServer(old);
    }
  });

  it('a failing request fails alone, not its batch', async () => {
    const transport = new PeerTransport(new Map([[peer, url]]), secret);
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
    const transport = new PeerTransport(new Map([[peer, url]]), 'wrong');
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
    const transport = new PeerTransport(new Map([[peer, `http://127.0.0.1:${closedPort}`]]), secret);
    try {
      await assert.rejects(transport.call(peer, { type: 'ping' }, 1000), (e: unknown) => e instanceof TransportError && e.reason === 'unreachable');
      await assert.rejects(transport.call(asNodeId('nobody'), { type: 'ping' }, 1000), (e: unknown) => e instanceof TransportError && e.reason === 'unreachable');
    } finally {
      await transport.close();
    }
  });

  it('a peer whose channel falls silent times out, and the next call opens a fresh channel', async () => {
    let opened = 0;
    const silent: Server = createServer();
    silent.on('upgrade', (_req, socket: import('node:stream').Duplex) => {
      opened++;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: kvorum-rpc/1\r\n\r\n');
      socket.resume(); // reads every frame, answers none: a paused process, a link that swallows packets
      socket.on('end', () => socket.destroy());
    });
    const transport = new PeerTransport(new Map([[peer, await listen(silent)]]), secret);
    const timedOut = (e: unknown) => e instanceof TransportError && e.reason === 'timeout';
    try {
      await assert.rejects(transport.call(peer, { type: 'ping' }, 200), timedOut);
      await assert.rejects(transport.call(peer, { type: 'ping' }, 200), timedOut);
      assert.equal(opened, 2);
    } finally {
      await transport.close();
      await closeServer(silent);
    }
  });

  it('a peer that never answers the upgrade times out', async () => {
    const silent: Server = createServer(() => {});
    const transport = new PeerTransport(new Map([[peer, await listen(silent)]]), secret);
    try {
      await assert.rejects(transport.call(peer, { type: 'ping' }, 200), (e: unknown) => e instanceof TransportError && e.reason === 'timeout');
    } finally {
      await transport.close();
      await closeServer(silent);
    }
  });

  it('retries once on a new channel when one breaks under an idempotent batch, never under a forward', async () => {
    // Like a peer that restarted: its channel dies as the next batch arrives.
    let mode: 'answer' | 'next-batch-dies' | 'every-batch-dies' = 'answer';
    let destroyed = 0;
    const restarting: Server = createServer();
    restarting.on('upgrade', (_req, socket: import('node:stream').Duplex) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: kvorum-rpc/1\r\n\r\n');
      const reader = new FrameReader();
      socket.on('end', () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        for (const frame of reader.push(chunk)) {
          if (mode !== 'answer') {
            if (mode === 'next-batch-dies') mode = 'answer';
            destroyed++;
            return void socket.destroy();
          }
          const batch = decodeRpcBatch(frame.body);
          assert.ok(batch.ok);
          socket.write(encodeFrame(frame.id, frameKind.outcomes, encodeRpc(batch.value.map(() => ({ ok: { type: 'pong', node: 'p1' } as const })))));
        }
      });
    });
    const transport = new PeerTransport(new Map([[peer, await listen(restarting)]]), secret);
    const lost = (e: unknown) => e instanceof TransportError && e.reason === 'unreachable';
    try {
      assert.deepEqual(await transport.call(peer, { type: 'ping' }, 1000), { type: 'pong', node: 'p1' });
      mode = 'next-batch-dies';
      assert.deepEqual(await transport.call(peer, { type: 'ping' }, 1000), { type: 'pong', node: 'p1' }, 'the ping is retried on a new channel');
      assert.equal(destroyed, 1);
      mode = 'every-batch-dies';
      await assert.rejects(transport.call(peer, { type: 'ping' }, 1000), lost);
      assert.equal(destroyed, 3, 'retried once, not more');
      const forward = { type: 'forward', request: { op: 'get', key: 'k', r: 'quorum', pr: 0, timeoutMs: 500 } } as unknown as RpcRequest;
      await assert.rejects(transport.call(peer, forward, 1000), lost);
      assert.equal(destroyed, 4, 'a forward is never sent twice');
    } finally {
      await transport.close();
      await closeServer(restarting);
    }
  });

  it('over HTTP too: retries once on a new connection when a pooled one fails under an idempotent batch, never under a forward', async () => {
    // Like a peer that restarted: a kept-alive connection dies as its next request arrives.
    const served = new WeakMap<object, number>();
    let mode: 'second-request-dies' | 'every-request-dies' = 'second-request-dies';
    let destroyed = 0;
    const restarting: Server = withoutChannel((req, res) => {
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
    const transport = new PeerTransport(new Map([[peer, `http://127.0.0.1:${(restarting.address() as AddressInfo).port}`]]), secret);
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
