// One long-lived connection to one peer carrying framed RPC batches both ways (frames.ts), many
// in flight at once, answered in any order. It replaces one HTTP request per batch: no HTTP
// parsing, routing or headers per batch on either side. Opened by an HTTP upgrade on the peer's
// own port (so it goes wherever the peer's URL goes, with the same credential check), over
// net.connect looked up at call time (the jepsen-like harness redirects it through its proxies).
// To an https peer the channel is TLS over that same net.connect socket.
import net, { type Socket } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { TransportError } from '../core/ports.js';
import { quotedTextCharsMax } from '../core/limits.js';
import type { NodeId } from '../core/types.js';
import { encodeFrame, FrameError, frameKind, FrameReader, type Frame } from './frames.js';

export const channelPath = '/internal/channel';
export const channelProtocol = 'kvorum-rpc/1';
/** The upgrade answer's status line and headers, at most: more is not a kvorum node. */
const handshakeBytesMax = 16 * 1024;

interface InFlight {
  resolve(outcomes: Buffer): void;
  reject(err: TransportError): void;
  readonly timer: NodeJS.Timeout;
  /** Bytes received on the channel when the frame was sent: a timeout with none since means the peer is silent. */
  readonly receivedAtSend: number;
}

/** Why the channel could not be opened because the peer does not speak it (an older node): use HTTP. */
export class ChannelUnsupported extends Error {
  override readonly name = 'ChannelUnsupported';
}

export class PeerChannel {
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private received = 0;
  private closedWith: TransportError | undefined;

  private constructor(
    readonly peer: NodeId,
    private readonly socket: Socket,
    private readonly reader: FrameReader,
  ) {}

  /**
   * Connects and upgrades; rejects with ChannelUnsupported when the peer answers 404, else a TransportError.
   * `tlsOptions` (CA, our certificate) are for an https URL; without them the system's CAs check the peer.
   */
  static open(peer: NodeId, url: string, authorization: string | undefined, connectTimeoutMs: number, tlsOptions?: ConnectionOptions): Promise<PeerChannel> {
    const { hostname, port, protocol } = new URL(url);
    const host = hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const socket = connectTo(host, port, protocol === 'https:' ? (tlsOptions ?? {}) : undefined);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new TransportError(peer, 'timeout', `${peer}: no channel within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('error', (err: Error & { code?: string }) => fail(new TransportError(peer, 'unreachable', `${peer}: ${err.code ?? err.name}: ${err.message}`)));
      socket.once('close', () => fail(new TransportError(peer, 'unreachable', `${peer}: closed the connection during the channel handshake`)));
      socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => socket.write(upgradeRequest(host, port, authorization)));
      readHandshake(socket, peer, (result) => {
        if (result instanceof Error) return fail(result);
        clearTimeout(timer);
        socket.removeAllListeners('error').removeAllListeners('close');
        const channel = new PeerChannel(peer, socket, new FrameReader());
        channel.listen(result);
        resolve(channel);
      });
    });
  }

  /** Whether the channel can carry more calls (not closed by either side). */
  get open(): boolean {
    return this.closedWith === undefined;
  }

  /** Sends one batch (msgpack bytes); resolves with the outcomes' bytes. */
  send(batch: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(id, timeoutMs), timeoutMs);
      this.inFlight.set(id, { resolve, reject, timer, receivedAtSend: this.received });
      this.socket.write(encodeFrame(id, frameKind.batch, batch));
    });
  }

  /** Closes the channel; calls in flight fail as unreachable. */
  close(why = 'channel closed'): void {
    this.fail(new TransportError(this.peer, 'unreachable', `${this.peer}: ${why}`));
    this.socket.destroy();
  }

  private listen(leftover: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: Error & { code?: string }) => this.close(`${err.code ?? err.name}: ${err.message}`));
    this.socket.on('close', () => this.close('the peer closed the channel'));
    if (leftover.length > 0) this.onData(leftover);
  }

  private onData(chunk: Buffer): void {
    this.received += chunk.length;
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.fail(new TransportError(this.peer, 'protocol', `${this.peer} sent ${err.message}`));
      this.socket.destroy();
      return;
    }
    for (const frame of frames) this.answer(frame);
  }

  private answer(frame: Frame): void {
    const call = this.inFlight.get(frame.id);
    if (!call) return; // timed out already: the answer is late, not wrong
    this.inFlight.delete(frame.id);
    clearTimeout(call.timer);
    if (frame.kind === frameKind.outcomes) return call.resolve(frame.body);
    const text = frame.kind === frameKind.refused ? frame.body.toString('utf8', 0, quotedTextCharsMax) : `a frame of unknown kind ${frame.kind}`;
    call.reject(new TransportError(this.peer, 'protocol', `${this.peer} refused the call: ${text}`));
  }

  /**
   * A call timed out. If nothing at all arrived since it was sent the peer is silent (paused, or a
   * link that swallows packets): the connection is dropped so the next call opens a fresh one,
   * as an HTTP client drops a connection whose request timed out.
   */
  private timedOut(id: number, timeoutMs: number): void {
    const call = this.inFlight.get(id);
    if (!call) return;
    this.inFlight.delete(id);
    call.reject(new TransportError(this.peer, 'timeout', `${this.peer} did not answer within ${timeoutMs} ms`));
    if (this.received === call.receivedAtSend) this.close(`silent for ${timeoutMs} ms`);
  }

  private fail(err: TransportError): void {
    this.closedWith ??= err;
    for (const [id, call] of this.inFlight) {
      this.inFlight.delete(id);
      clearTimeout(call.timer);
      call.reject(err);
    }
  }
}

/** A plain connection, or with `tlsOptions` a TLS one over it whose certificate must name `host` (its DNS name or IP). */
function connectTo(host: string, port: string, tlsOptions: ConnectionOptions | undefined): Socket {
  const raw = net.connect({ host, port: Number(port || (tlsOptions ? 443 : 80)), noDelay: true });
  if (tlsOptions === undefined) return raw;
  const secure = tls.connect({ ...tlsOptions, socket: raw, host, servername: net.isIP(host) === 0 ? host : undefined });
  // The TCP socket's failures end the TLS one (and reach its listeners), never go unhandled; and
  // the TCP socket never outlives the TLS one (a handshake that timed out).
  raw.on('error', (err) => secure.destroy(err));
  secure.once('close', () => raw.destroy());
  return secure;
}

function upgradeRequest(host: string, port: string, authorization: string | undefined): string {
  const lines = [`GET ${channelPath} HTTP/1.1`, `host: ${host.includes(':') ? `[${host}]` : host}${port ? `:${port}` : ''}`, 'connection: upgrade', `upgrade: ${channelProtocol}`];
  if (authorization !== undefined) lines.push(`authorization: ${authorization}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Reads the peer's answer to the upgrade; calls `done` with the bytes after it, or why it failed. */
function readHandshake(socket: Socket, peer: NodeId, done: (result: Buffer | Error) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > handshakeBytesMax) finish(new TransportError(peer, 'protocol', `${peer} sent an upgrade answer over ${handshakeBytesMax} bytes`));
      return;
    }
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1', 0, Math.min(end, 64)))?.[1];
    if (status === '101') return finish(head.subarray(end + 4));
    if (status === '404') return finish(new ChannelUnsupported(`${peer} has no ${channelPath}`));
    if (status === '401') return finish(new TransportError(peer, 'unauthorized', `${peer} refused our cluster credential`));
    if (status === '403') return finish(new TransportError(peer, 'unauthorized', `${peer} refused our TLS client certificate (--tls-peer-auth)`));
    finish(new TransportError(peer, 'protocol', `${peer} answered the channel upgrade with ${JSON.stringify(head.toString('latin1', 0, Math.min(end, quotedTextCharsMax)))}`));
  };
  const finish = (result: Buffer | Error) => {
    socket.removeListener('data', onData);
    done(result);
  };
  socket.on('data', onData);
}
