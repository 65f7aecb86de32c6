// Ports: everything the core needs from the outside world. Real implementations live in node/,
// transport/ and storage/; the simulator supplies fake ones. The core never reaches around them.
import type { NodeId, PartitionId, VersionedObject } from './types.js';
import type { RpcRequest, RpcResponse } from './rpc.js';
import type { CodedFailure, FailureCode } from './errors.js';
import type { TreeView } from './merkle.js';

export interface Timer {
  cancel(): void;
}

export interface Runtime {
  /** Milliseconds on a monotonic clock: for timeouts and intervals. */
  now(): number;
  /** Whole milliseconds since the epoch, as the system clock gives them: only for ages that must survive a restart (tombstones, hints) and dots. */
  wallClockMs(): number;
  setTimer(delayMs: number, fire: () => void): Timer;
  /** Uniform in [0, 1). */
  random(): number;
}

/** Thrown (or rejected with) by a Transport when the peer could not be reached or did not answer in time. */
export class TransportError extends Error implements CodedFailure {
  constructor(
    readonly peer: NodeId,
    readonly reason: 'unreachable' | 'timeout' | 'unauthorized' | 'protocol',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }

  get failureCode(): FailureCode {
    return `peer_${this.reason}`;
  }
}

export interface Transport {
  /** Sends one request to a peer; resolves with its answer or rejects with a TransportError. */
  call(peer: NodeId, request: RpcRequest, timeoutMs: number): Promise<RpcResponse>;
}

/** One stored key, as a scan returns it. */
export interface StoredEntry {
  readonly key: string;
  readonly object: VersionedObject;
}

/** What Storage.listKeys reads: the keys of one partition starting with `prefix`, after `afterKey`. */
export interface KeyScan {
  /** 0..keyBytesMax bytes of UTF-8; '' for every key. */
  readonly prefix: string;
  /** Start strictly after this key (from the start of the prefix's range when undefined). */
  readonly afterKey: string | undefined;
  /** Stop once this many rows were read, live or not (>= 1). */
  readonly rowsMax: number;
  /** Stop once this many live keys were found (>= 1). */
  readonly keysMax: number;
  /** Whether a stored object is listed (dvv.ts hasLiveValue at the reader's clock). */
  readonly isLive: (object: VersionedObject) => boolean;
}

/** What Storage.listKeys found. */
export interface KeyScanPage {
  /** The live keys read, in key order (by UTF-8 bytes). */
  readonly keys: string[];
  /**
   * The last key read when the scan stopped at `rowsMax` or `keysMax` (more of the range may
   * follow: scan again after it); undefined when it reached the end of the range.
   */
  readonly next: string | undefined;
}

/** A hint: a write held for `target`, a primary that did not take it, until it can be handed off. */
export interface HintEntry {
  readonly target: NodeId;
  readonly key: string;
  readonly partition: PartitionId;
  readonly object: VersionedObject;
  /** Changes every time the hint is merged into; a removal names the version it delivered. */
  readonly version: number;
  /** Wall-clock time the hint was first stored (kept when later writes merge into it). */
  readonly createdAtMs: number;
}

/**
 * A stored row the engine could not serve (undecodable bytes, or a key or partition no valid
 * write could have stored), moved aside into a quarantine the engine never empties by itself.
 * Reads, scans and listings then behave as if the row were absent.
 */
export interface QuarantinedRow {
  readonly kind: 'object' | 'hint';
  /** The row's key column when it is text (possibly not a valid key: too long); undefined otherwise. */
  readonly key: string | undefined;
  /** Hints only: the node the hint was held for. */
  readonly target?: NodeId;
  /** Why the row was refused, for the operator. */
  readonly reason: string;
}

/**
 * A node's local replica store. `update` is the only write of objects: it runs `change`
 * atomically against the current object (no other update of the same key can interleave) and
 * resolves only once the result is durable. `change` returns the new object, `undefined` to leave
 * the key as it was, or `null` to delete the key. Hints live in the same store (same durability).
 * Writes staged in the same event-loop turn commit in the same transaction.
 */
export interface Storage {
  /** Stable for the life of the data directory; a wiped directory gets a new one. */
  readonly incarnation: string;
  get(key: string): Promise<VersionedObject | undefined>;
  /** Resolves with the object now stored (undefined if none), once durable. */
  update(
    key: string,
    partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | null | undefined,
  ): Promise<VersionedObject | undefined>;
  /** Keys of one partition in ascending key order (by UTF-8 bytes), after `afterKey`, at most `limit`. */
  scanPartition(partition: PartitionId, afterKey: string | undefined, limit: number): Promise<StoredEntry[]>;
  /**
   * Committed objects only, like scanPartition (it first waits for the writes issued before it):
   * the keys of `partition` in the scan's range, in key order, those `isLive` refuses left out,
   * reading at most `rowsMax` rows. Rows quarantined on the way count as read and are left out.
   */
  listKeys(partition: PartitionId, scan: KeyScan): Promise<KeyScanPage>;
  /** Merges into the hint for (target, key), creating it if needed; resolves once durable. */
  updateHint(
    target: NodeId,
    key: string,
    partition: PartitionId,
    createdAtMs: number,
    change: (current: VersionedObject | undefined) => VersionedObject,
  ): Promise<void>;
  /** Up to `limit` hints for `target`, oldest first. */
  listHints(target: NodeId, limit: number): Promise<HintEntry[]>;
  /** Removes the hint if it is still at `version` (nothing merged into it since); true if removed. Durable on resolve. */
  removeHint(target: NodeId, key: string, version: number): Promise<boolean>;
  /** Whether a hint for `key` (for any target) is stored or staged to be. */
  hasHint(key: string): Promise<boolean>;
  /**
   * Durable hints per target (targets with none are absent), a snapshot kept in memory: cheap to
   * call. A hint counts from the moment the updateHint that created it resolves until the
   * removeHint that removed it resolves; a write still in flight is never counted, in every engine,
   * so a caller that limits hints holds a place for its own writes in flight.
   */
  hintCounts(): ReadonlyMap<NodeId, number>;
  /**
   * Registers `listener`, called synchronously each time a row is quarantined, from inside the
   * read, scan or listing that met it (after the row has left the store).
   */
  onQuarantine(listener: (row: QuarantinedRow) => void): void;
  // Meta records: small named byte records kept beside the data (the ring this node last saw,
  // transfer cursors), so they live and die with it. Names are at most `metaNameCharsMax` characters
  // and bytes at most `metaBytesMax`; larger ones are a caller's bug, rejected with a RangeError.
  /** The record stored under `name`, if any. Its bytes are returned as stored: the caller decodes and validates them. */
  getMeta(name: string): Promise<Uint8Array | undefined>;
  /**
   * Stores (or with `undefined` deletes) the record under `name`; resolves once durable. Committed with
   * the writes staged in the same turn, like `update`.
   */
  putMeta(name: string, bytes: Uint8Array | undefined): Promise<void>;
  /**
   * Deletes up to `limit` stored objects of `partition` (in key order), durable on resolve; returns how
   * many it deleted (0 once the partition is empty). Hints are untouched. Ordered with `update`: an
   * update of the same key staged before it is deleted, one staged after it survives. For a node that
   * stopped replicating the partition (after a transfer): callers repeat it until it returns 0. Every
   * engine deletes at most `storageBatchMax` per call; a `limit` below 1 is a caller's bug (a
   * RangeError), as its 0 would read as an empty partition.
   */
  dropPartition(partition: PartitionId, limit: number): Promise<number>;
  // Anti-entropy trees (core/merkle.ts): the engine keeps each partition's tree with its committed
  // objects, from the leaf (leafOf) and version hash (versionHash) of each stored version, so a tree
  // is never rebuilt by reading every key and costs the same memory whatever the key count.
  /**
   * The tree of the committed objects of `partition` (empty if none): a live view, moved by every
   * commit, delete, drop and quarantine as it becomes durable, never by a staged write. Cheap to call.
   */
  tree(partition: PartitionId): TreeView;
  /**
   * (key, version hash) of the committed objects of `partition` in tree leaf `leaf`, in key order:
   * exactly the pairs `tree(partition)` counts in that leaf. A leaf out of 0..255 is a RangeError.
   */
  leafKeys(partition: PartitionId, leaf: number): Promise<Array<[key: string, hash: bigint]>>;
  /**
   * The version hash (versionHash) of the object `get(key)` would return now, `key` being of
   * `partition`, without reading the object itself; undefined if none. For digest reads: only its
   * equality with another replica's matters.
   */
  versionHashOf(key: string, partition: PartitionId): Promise<bigint | undefined>;
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
