// Ports: everything the core needs from the outside world. Real implementations live in node/,
// transport/ and storage/; the simulator supplies fake ones. The core never reaches around them.
import type { NodeId, PartitionId, VersionedObject } from './types.js';
import type { RpcRequest, RpcResponse } from './rpc.js';

export interface Timer {
  cancel(): void;
}

export interface Runtime {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimer(delayMs: number, fire: () => void): Timer;
  /** Uniform in [0, 1). */
  random(): number;
}

/** Thrown (or rejected with) by a Transport when the peer could not be reached or did not answer in time. */
export class TransportError extends Error {
  constructor(
    readonly peer: NodeId,
    readonly reason: 'unreachable' | 'timeout' | 'unauthorized' | 'protocol',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  /** Sends one request to a peer; resolves with its answer or rejects with a TransportError. */
  call(peer: NodeId, request: RpcRequest, timeoutMs: number): Promise<RpcResponse>;
}

/**
 * A node's local replica store. `update` is the only write: it runs `change` atomically against
 * the current object (no other update of the same key can interleave) and resolves only once the
 * result is durable. Returning `undefined` from `change` leaves the key as it was.
 */
export interface Storage {
  /** Stable for the life of the data directory; a wiped directory gets a new one. */
  readonly incarnation: string;
  get(key: string): Promise<VersionedObject | undefined>;
  update(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | undefined,
  ): Promise<VersionedObject | undefined>;
  close(): Promise<void>;
}

/** Structured logging, pino-compatible: `log.info({ key }, 'message')`. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
