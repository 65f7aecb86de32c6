// The server side of the peer channel (transport/peer-channel.ts): `GET /internal/channel` with
// `Upgrade: kvorum-rpc/1` and the cluster credential turns the connection into a stream of framed
// RPC batches, each checked whole against the RPC schema before any of it runs, answered by id in
// any order. Other upgrade requests (h2c, websocket) are refused: this server speaks HTTP/1.1.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorCatalog } from '../core/errors.js';
import type { FailureLog } from '../core/failure-log.js';
import { channelBatchesInFlightMax, quotedTextCharsMax } from '../core/limits.js';
import type { RpcHandler } from '../core/rpc-handler.js';
import { decodeRpcBatch, encodeRpc } from '../transport/codec.js';
import { encodeFrame, FrameError, frameKind, FrameReader, type Frame } from '../transport/frames.js';
import { channelPath, channelProtocol } from '../transport/peer-channel.js';
import { rawErrorResponse } from './connection-errors.js';
import { runBatch } from './rpc-batch.js';

export interface ChannelOptions {
  readonly rpc: RpcHandler;
  readonly self: string;
  readonly failures: FailureLog;
  /** Whether the credential the upgrade request presents is the cluster's (true when no secret is set). */
  readonly authorized: (presented: string | undefined) => boolean;
  /** Whether the connection's TLS client certificate is one the CA signed, when --tls-peer-auth requires it. */
  readonly trustedPeer: (socket: unknown) => boolean;
  readonly stopping: () => boolean;
}

const switching = `HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${channelProtocol}\r\n\r\n`;

/** Serves channels on `server`; the returned function waits for their batches in flight, then closes them. */
export function serveChannels(server: Server, opts: ChannelOptions): () => Promise<void> {
  const open = new Map<Duplex, Set<Promise<void>>>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = refusalOf(req, opts);
    if (refusal) {
      socket.on('error', () => socket.destroy());
      socket.end(rawErrorResponse(refusal.code, refusal.message, opts.self));
      return;
    }
    const inFlight = new Set<Promise<void>>();
    open.set(socket, inFlight);
    socket.once('close', () => open.delete(socket));
    socket.write(switching);
    serve(socket, head, inFlight, opts);
  });
  return async () => {
    await Promise.all([...open.values()].flatMap((batches) => [...batches]));
    for (const socket of open.keys()) socket.destroy();
  };
}

function refusalOf(req: IncomingMessage, opts: ChannelOptions) {
  const path = (req.url ?? '').split('?')[0];
  const protocol = String(req.headers.upgrade ?? '').toLowerCase();
  if (path !== channelPath || protocol !== channelProtocol) {
    const what = JSON.stringify(protocol.slice(0, quotedTextCharsMax));
    return { code: 'bad_request', message: `This node does not upgrade HTTP connections (Upgrade: ${what}); send the request without an Upgrade header.` } as const;
  }
  if (!opts.trustedPeer(req.socket)) {
    opts.failures.report('rpc_untrusted_peer', 'internal RPC channel without a client certificate the CA signed refused', { remote: req.socket.remoteAddress });
    return { code: 'peer_certificate_required', message: errorCatalog.peer_certificate_required.message } as const;
  }
  const presented = req.headers.authorization;
  if (!opts.authorized(typeof presented === 'string' ? presented : undefined)) {
    opts.failures.report('rpc_unauthorized', 'internal RPC channel without a valid cluster credential refused', { remote: req.socket.remoteAddress });
    return { code: 'unauthorized', message: 'Internal RPC needs the cluster credential.' } as const;
  }
  if (opts.stopping()) return { code: 'shutting_down', message: 'This node is shutting down.' } as const;
  return undefined;
}

/** Reads frames off `socket` and answers each; stops reading while too many batches are in flight. */
function serve(socket: Duplex, head: Buffer, inFlight: Set<Promise<void>>, opts: ChannelOptions): void {
  const reader = new FrameReader();
  const onData = (chunk: Buffer) => {
    let frames: Frame[];
    try {
      frames = reader.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      // The stream cannot be resynchronised: nothing more from this connection can be trusted.
      opts.failures.report('rpc_refused', 'internal RPC channel refused', { remote: remoteOf(socket), problem: err.message });
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      const answered = answer(socket, frame, opts)
        .catch((err: unknown) => {
          opts.failures.failed('internal RPC channel', err, { remote: remoteOf(socket) });
          socket.destroy();
        })
        .finally(() => {
          inFlight.delete(answered);
          if (inFlight.size <= channelBatchesInFlightMax / 2 && socket.isPaused()) socket.resume();
        });
      inFlight.add(answered);
    }
    if (inFlight.size >= channelBatchesInFlightMax) socket.pause();
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.destroy()); // HTTP server sockets allow half-open: the peer hung up
  if (head.length > 0) onData(head);
}

async function answer(socket: Duplex, frame: Frame, opts: ChannelOptions): Promise<void> {
  const refuse = (why: string) => !socket.destroyed && socket.write(encodeFrame(frame.id, frameKind.refused, Buffer.from(why, 'utf8')));
  if (frame.kind !== frameKind.batch) return void refuse(`a frame of kind ${frame.kind} is not a request`);
  if (opts.stopping()) return void refuse('the node is shutting down');
  // The whole batch is checked before any of it runs: a refused batch changes nothing.
  const batch = decodeRpcBatch(frame.body);
  if (!batch.ok) {
    opts.failures.report('rpc_refused', 'internal RPC body refused', { remote: remoteOf(socket), problem: batch.problem });
    return void refuse(`Invalid internal RPC body: ${batch.problem}.`);
  }
  const outcomes = await runBatch(opts.rpc, batch.value, opts.failures);
  if (socket.destroyed) return;
  // Batches finishing in the same turn (one storage commit resolves many) go out in one write.
  socket.cork();
  socket.write(encodeFrame(frame.id, frameKind.outcomes, encodeRpc(outcomes)));
  process.nextTick(() => socket.uncork());
}

const remoteOf = (socket: Duplex) => (socket as Duplex & { remoteAddress?: string }).remoteAddress;
