// The framing of floor-socket.ts's peer messages: a 4-byte big-endian length, then the payload.
// A reader that cuts a TCP byte stream into frames (no copy unless a frame spans two reads), and
// a sender that, like a batching peer transport, sends every frame queued in one event-loop turn
// with one socket.write.
import type { Socket } from 'node:net';

export const lengthPrefixBytes = 4;

/** A frame of `payloadBytes` bytes, its first 4 bytes the sequence number `seq`, the rest `fill`. */
export function buildFrame(seq: number, payloadBytes: number, fill?: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(lengthPrefixBytes + payloadBytes);
  frame.writeUInt32BE(payloadBytes, 0);
  if (fill !== undefined) fill.copy(frame, lengthPrefixBytes, 0, payloadBytes);
  else frame.fill(0, lengthPrefixBytes);
  frame.writeUInt32BE(seq >>> 0, lengthPrefixBytes);
  return frame;
}

/** Cuts a byte stream into frames and hands each payload (a view, valid during the call) to `onFrame`. */
export class FrameReader {
  private pending: Buffer | undefined;

  constructor(
    private readonly onFrame: (payload: Buffer) => void,
    private readonly maxPayloadBytes: number,
  ) {}

  push(chunk: Buffer): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    // Bounded: every iteration consumes a whole frame, or stops.
    while (buf.length - at >= lengthPrefixBytes) {
      const length = buf.readUInt32BE(at);
      if (length > this.maxPayloadBytes) throw new Error(`frame of ${length} bytes, at most ${this.maxPayloadBytes} expected`);
      const end = at + lengthPrefixBytes + length;
      if (end > buf.length) break;
      this.onFrame(buf.subarray(at + lengthPrefixBytes, end));
      at = end;
    }
    this.pending = at === buf.length ? undefined : buf.subarray(at);
  }
}

/** Queues frames and writes those of one event-loop turn with one socket.write (setImmediate). */
export class CoalescingSender {
  private queued: Buffer[] = [];
  private scheduled = false;
  /** socket.write calls so far. */
  writes = 0;

  constructor(private readonly socket: Socket) {}

  send(frame: Buffer): void {
    this.queued.push(frame);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.queued;
    this.queued = [];
    if (frames.length === 0 || this.socket.destroyed) return;
    this.writes++;
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  };
}
