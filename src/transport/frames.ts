// Framing of the peer channel (peer-channel.ts, api/rpc-channel.ts): after an HTTP upgrade, both
// directions carry frames of [body length: u32 BE][id: u32 BE][kind: u8][body]. A request frame's
// body is an RPC batch exactly as the HTTP route takes it; its answer has the same id, out of order.
import { rpcBodyBytesMax } from '../core/limits.js';

export const frameHeaderBytes = 9;

export const frameKind = {
  /** Request: an RPC batch (msgpack). */
  batch: 0,
  /** Answer: the batch's outcomes (msgpack). */
  outcomes: 1,
  /** Answer: the batch was refused whole (UTF-8 text saying why); nothing in it ran. */
  refused: 2,
} as const;
export type FrameKind = (typeof frameKind)[keyof typeof frameKind];

export interface Frame {
  readonly id: number;
  readonly kind: number;
  readonly body: Buffer;
}

/** One frame as bytes (header and body in one buffer: one write). */
export function encodeFrame(id: number, kind: FrameKind, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes + body.byteLength);
  out.writeUInt32BE(body.byteLength, 0);
  out.writeUInt32BE(id >>> 0, 4);
  out.writeUInt8(kind, 8);
  out.set(body, frameHeaderBytes);
  return out;
}

/**
 * Reassembles frames from a byte stream's chunks. A frame announcing more than `bodyBytesMax` is
 * a protocol error (thrown as FrameError): the stream cannot be resynchronised, so its connection
 * must be closed. Holds at most one frame's bytes beyond what the caller has taken.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly bodyBytesMax = rpcBodyBytesMax) {}

  /** Adds a chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < frameHeaderBytes) return frames;
      const head = this.peek(frameHeaderBytes);
      const bodyBytes = head.readUInt32BE(0);
      if (bodyBytes > this.bodyBytesMax) throw new FrameError(`a frame of ${bodyBytes} bytes, over the limit of ${this.bodyBytesMax}`);
      if (this.buffered < frameHeaderBytes + bodyBytes) return frames;
      const bytes = this.take(frameHeaderBytes + bodyBytes);
      frames.push({ id: bytes.readUInt32BE(4), kind: bytes.readUInt8(8), body: bytes.subarray(frameHeaderBytes) });
    }
  }

  /** The first `n` buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  /** Removes and returns the first `n` buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
}
