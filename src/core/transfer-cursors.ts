// Where a transfer stands, kept in the storage's meta records so that a receiver that crashes
// resumes from the last page it made durable. A record is for one target replica set: a cursor
// left from another plan is ignored. Records read back are checked before use.
import { z } from 'zod';
import { keySchema, nodeIdSchema } from './schemas.js';
import type { RingStore } from './membership.js';
import { replicationFactorMax } from './limits.js';
import type { NodeId, PartitionId } from './types.js';

export type TransferState = 'queued' | 'streaming' | 'verifying' | 'done' | 'failed';

export interface TransferProgress {
  readonly partition: PartitionId;
  /** The target replica set this transfer is for. */
  readonly target: readonly NodeId[];
  from: NodeId | undefined;
  state: TransferState;
  keys: number;
  bytes: number;
  afterKey: string | undefined;
  /** Every page received: what is left is the Merkle check. */
  streamed: boolean;
  startedAtMs: number | undefined;
  doneAtMs: number | undefined;
  error: string | undefined;
}

const cursorSchema = z.object({
  target: z.array(nodeIdSchema).max(replicationFactorMax),
  keys: z.int().min(0),
  bytes: z.int().min(0),
  afterKey: keySchema.optional(),
  streamed: z.boolean(),
  done: z.boolean(),
  startedAtMs: z.int().min(0).optional(),
});

const nameOf = (partition: PartitionId) => `transfer/${partition}`;

export class TransferCursors {
  constructor(private readonly store: RingStore) {}

  /** The progress kept for this partition and target, or a fresh one. */
  async load(partition: PartitionId, target: readonly NodeId[]): Promise<TransferProgress> {
    const fresh: TransferProgress = {
      partition, target, from: undefined, state: 'queued', keys: 0, bytes: 0, afterKey: undefined, streamed: false, startedAtMs: undefined, doneAtMs: undefined, error: undefined,
    };
    const bytes = await this.store.getMeta(nameOf(partition));
    if (bytes === undefined) return fresh;
    let parsed;
    try {
      parsed = cursorSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      return fresh;
    }
    if (!parsed.success || parsed.data.target.join() !== target.join()) return fresh;
    const kept = parsed.data;
    return { ...fresh, keys: kept.keys, bytes: kept.bytes, afterKey: kept.afterKey, streamed: kept.streamed || kept.done, startedAtMs: kept.startedAtMs };
  }

  save(progress: TransferProgress): Promise<void> {
    const { target, keys, bytes, afterKey, streamed, startedAtMs } = progress;
    const record = { target, keys, bytes, afterKey, streamed, done: progress.state === 'done', startedAtMs };
    return this.store.putMeta(nameOf(progress.partition), new TextEncoder().encode(JSON.stringify(record)));
  }

  clear(partition: PartitionId): Promise<void> {
    return this.store.putMeta(nameOf(partition), undefined);
  }
}
