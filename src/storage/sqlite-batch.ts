// SqliteStorage's group commit: the writes staged since the last commit, committed together in one
// transaction, and what a commit does to the committed hint counts.
import type { NodeId, PartitionId } from '../core/types.js';
import { byUtf8 } from './sorted-keys.js';
import type { BatchWrites, HintRow, ObjectWrite } from './sqlite-tables.js';

export interface StagedHint {
  /** Whether the hint is in the committed table: with `next`, tells how the commit moves counts. */
  existed: boolean;
  next: HintRow | null;
}

/** Writes staged since the last commit; `committed` settles when their transaction does. */
export interface Batch extends BatchWrites {
  readonly objects: Map<string, ObjectWrite>;
  readonly hints: Map<NodeId, Map<string, StagedHint>>;
  readonly meta: Map<string, Uint8Array | null>;
  hintWrites: number;
  readonly committed: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

export function emptyBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const committed = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  committed.catch(() => {}); // failures reach each write's own promise; avoid an unhandled twin
  return { objects: new Map(), hints: new Map(), meta: new Map(), hintWrites: 0, committed, resolve, reject };
}

/** Rows the batch writes: what storageBatchMax bounds. */
export const batchWrites = (batch: Batch): number => batch.objects.size + batch.hintWrites + batch.meta.size;

/** Stages a hint write in `batch`; `entry` is kept if the key already has one there, its `next` moved on. */
export function stageHintIn(batch: Batch, target: NodeId, key: string, entry: StagedHint, next: HintRow | null): void {
  let forTarget = batch.hints.get(target);
  if (!forTarget) batch.hints.set(target, (forTarget = new Map()));
  if (!forTarget.has(key)) {
    forTarget.set(key, entry);
    batch.hintWrites++;
  }
  entry.next = next;
}

/** Moves the committed hint counts per target by what a committed `batch` did. */
export function countCommittedHints(counts: Map<NodeId, number>, batch: Batch): void {
  for (const [target, staged] of batch.hints) {
    let delta = 0;
    for (const { existed, next } of staged.values()) delta += (next ? 1 : 0) - (existed ? 1 : 0);
    moveHintCount(counts, target, delta);
  }
}

/** Moves `target`'s committed hint count by `delta`; a target with none left has no entry. */
export function moveHintCount(counts: Map<NodeId, number>, target: NodeId, delta: number): void {
  const count = (counts.get(target) ?? 0) + delta;
  if (count > 0) counts.set(target, count);
  else counts.delete(target);
}

/**
 * The first `n` keys of `partition` in key order, the `staged` writes applied over the committed
 * keys `committedKeys(limit)` lists (the first `limit`, in key order).
 */
export function firstKeysWithStaged(staged: Batch['objects'], partition: PartitionId, n: number, committedKeys: (limit: number) => string[]): string[] {
  // Each staged write hides at most one committed row: this many rows hold the first n left.
  const committed = committedKeys(n + staged.size).filter((key) => !staged.has(key));
  const stagedHere: string[] = [];
  for (const [key, w] of staged) if (w.bytes !== null && w.partition === partition) stagedHere.push(key);
  if (stagedHere.length === 0) return committed.slice(0, n);
  return [...committed, ...stagedHere].sort(byUtf8).slice(0, n);
}
