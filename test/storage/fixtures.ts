// Helpers shared by the Storage conformance suites (conformance*.ts) and the engine tests.
import assert from 'node:assert/strict';
import type { Storage } from '../../src/core/ports.js';
import type { ActorId, Sibling, VersionedObject } from '../../src/core/types.js';

export interface StorageHandle {
  storage: Storage;
  /** Opens the same data again (after `storage` is closed); only persistent engines have it. */
  reopen?: () => Promise<Storage>;
  /**
   * Kills the process `storage` runs in (writes not yet resolved may be lost) and opens the same data
   * again; only engines that can simulate a crash in-process have it (the simulator's storage).
   */
  crash?: () => Promise<Storage>;
  /**
   * The engine runs a write's `change` when its batch commits, not when it is staged (the
   * simulator's storage): an object handed in is used as it is then, so the caller must not reuse it.
   */
  changeRunsAtCommit?: true;
  /** Closes every storage still open (close must be idempotent) and frees the store's resources. */
  cleanup: () => Promise<void>;
}

export type OpenStore = () => Promise<StorageHandle>;
/** Runs a test body against a fresh store of the engine under test. */
export type WithStore = (fn: (h: StorageHandle) => Promise<void>) => Promise<void>;

/** Runs `fn` against a fresh store and always cleans it up. */
export async function withStore(open: OpenStore, fn: (h: StorageHandle) => Promise<void>): Promise<void> {
  const h = await open();
  try {
    await fn(h);
  } finally {
    await h.cleanup();
  }
}

export const actorA = 'a.1' as ActorId;
export const encoder = new TextEncoder();

export function valueSibling(actor: ActorId, counter: number, data: Uint8Array, contentType = 'text/plain'): Sibling {
  return { dot: [actor, counter], value: { kind: 'value', data, contentType } };
}

export function tombstoneSibling(actor: ActorId, counter: number, deletedAtMs: number): Sibling {
  return { dot: [actor, counter], value: { kind: 'tombstone', deletedAtMs } };
}

/** One value sibling written by `actor` as its `counter`-th write. */
export function valueObject(data: Uint8Array, contentType = 'text/plain', counter = 1): VersionedObject {
  return { context: { vv: [[actorA, counter]], cloud: [] }, siblings: [valueSibling(actorA, counter, data, contentType)] };
}

/** A value object holding the UTF-8 of `text`. */
export const textObject = (text: string): VersionedObject => valueObject(encoder.encode(text));

/** A change that adds one sibling, keeping those already there. */
export function appendSibling(counter: number) {
  return (current: VersionedObject | undefined): VersionedObject => ({
    context: { vv: [[actorA, counter]], cloud: [] },
    siblings: [...(current?.siblings ?? []), valueSibling(actorA, counter, encoder.encode(`v${counter}`))],
  });
}

/** Plain-data view of an object: engines may hand back Buffers, which deepStrictEqual tells apart. */
function comparable(o: VersionedObject | undefined): unknown {
  if (o === undefined) return undefined;
  return {
    context: { vv: o.context.vv.map(([a, n]) => [a, n]), cloud: o.context.cloud.map(([a, n]) => [a, n]) },
    siblings: o.siblings.map(({ dot, value }) => {
      if (value.kind === 'tombstone') return { dot: [dot[0], dot[1]], value: { kind: 'tombstone', deletedAtMs: value.deletedAtMs } };
      assert.ok(value.data instanceof Uint8Array, 'sibling data must be a Uint8Array');
      const expiry = value.expiresAtMs === undefined ? {} : { expiresAtMs: value.expiresAtMs };
      return { dot: [dot[0], dot[1]], value: { kind: 'value', data: Array.from(value.data), contentType: value.contentType, ...expiry } };
    }),
  };
}

export function assertSameObject(actual: VersionedObject | undefined, expected: VersionedObject | undefined, message?: string): void {
  assert.deepStrictEqual(comparable(actual), comparable(expected), message);
}

/** The order scanPartition promises: memcmp of UTF-8 bytes (SQLite's BINARY collation). */
export const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
