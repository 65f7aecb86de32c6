// SqliteStorage's group commit: the batch staged during one turn of the event loop, committed in
// one transaction at the end of the turn (or as soon as it is full), and acknowledged then, or
// with `sync: 'full'` once an fsync of the WAL covers it (wal-sync.ts).
import { storageBatchMax } from '../core/limits.js';
import { batchWrites, emptyBatch, type Batch } from './sqlite-batch.js';
import type { WalSync } from './wal-sync.js';

export class GroupCommit {
  /** Writes staged since the last commit, if any. */
  staged: Batch | undefined;

  /**
   * `commit` runs one batch's transaction (throwing if it failed); `afterCommit` runs after each
   * successful one; `walSync`, with `sync: 'full'`, holds batches back until an fsync covers them.
   */
  constructor(
    private readonly commit: (batch: Batch) => void,
    private readonly afterCommit: () => void,
    // Not readonly: a test stands in a WalSync whose fsyncs it completes itself.
    private walSync: WalSync | undefined,
  ) {}

  /** The staged batch, creating it (and scheduling its commit) if needed. */
  stage(): Batch {
    if (this.staged) return this.staged;
    const batch = emptyBatch();
    this.staged = batch;
    // setImmediate runs after pending I/O callbacks, so a burst of requests shares one commit.
    setImmediate(() => this.staged === batch && this.flush());
    return batch;
  }

  /**
   * Flushes the batch if `writes` more would overfill it. Called before reading: if that commit
   * fails, the value read must not come from its writes.
   */
  makeRoom(writes = 1): void {
    const batch = this.staged;
    if (batch && batchWrites(batch) + writes > storageBatchMax) this.flush();
  }

  /** Commits the staged batch in one transaction. On failure its writes are dropped, not retried. */
  flush(): void {
    const batch = this.staged;
    if (!batch) return;
    this.staged = undefined;
    const failure = this.walSync?.failure;
    if (failure) return batch.reject(failure);
    try {
      this.commit(batch);
    } catch (err) {
      batch.reject(err);
      return;
    }
    if (this.walSync) this.walSync.add(batch);
    else batch.resolve();
    this.afterCommit();
  }

  /**
   * Resolves once `key` has no staged write (each batch's commit, failed or not, ends its writes)
   * and, with `sync: 'full'`, no committed write waiting for its fsync.
   */
  async unstaged(key: string): Promise<void> {
    // A batch leaves both places when it settles; `waited` keeps a bug there from spinning here.
    for (let waited: Batch | undefined; ; ) {
      const pending = this.staged?.objects.has(key) ? this.staged : this.walSync?.pendingWith(key);
      if (!pending || pending === waited) return;
      await pending.committed.catch(() => {});
      waited = pending;
    }
  }

  /** Commits what is staged and waits until every committed batch is acknowledged. */
  async close(): Promise<void> {
    this.flush();
    await this.walSync?.close();
  }
}
