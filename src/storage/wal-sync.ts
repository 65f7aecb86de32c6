// `--sync full` without an fsync on the event loop. SQLite commits with synchronous=NORMAL (in WAL
// mode: no sync per commit; it still syncs the WAL header when it restarts the log, and the WAL
// before every checkpoint), and this fsyncs the WAL file on libuv's thread pool. One fsync at a
// time; it covers every batch committed before it began, and those batches are acknowledged when
// it completes. Batches committed meanwhile wait for the next one: a group commit of fsyncs, while
// the event loop goes on committing. What a commit wrote but no fsync has covered yet is visible
// to scans (and may reach other replicas: more copies, never fewer), but no write is acknowledged
// and no read of its key answers before the fsync (SqliteStorage.unstaged).
import { close, fsync, openSync } from 'node:fs';
import type { Batch } from './sqlite-batch.js';

export class WalSync {
  /** Committed, not yet covered by a started fsync. */
  private waiting: Batch[] = [];
  /** Covered by the fsync running now. */
  private syncing: Batch[] = [];
  private drained: Array<() => void> = [];
  /**
   * Set by the first failed fsync, for ever: the kernel may have dropped the dirty pages it could
   * not write, so a later fsync that succeeds proves nothing about them (PostgreSQL's "fsyncgate").
   * Writes are refused from then on; a restart recovers from what is on disk.
   */
  failure: Error | undefined;

  /** `sync`: fs.fsync, or a stand-in in tests. */
  constructor(
    private readonly fd: number,
    private readonly sync: (fd: number, done: (err: Error | null) => void) => void = fsync,
  ) {}

  /** Opens `walPath` (the database's `-wal` file, which SQLite keeps while any connection is open). */
  static open(walPath: string): WalSync {
    return new WalSync(openSync(walPath, 'r'));
  }

  /** Settles `batch` (committed) once an fsync begun after its commit has completed, or failed. */
  add(batch: Batch): void {
    if (this.failure) return batch.reject(this.failure);
    this.waiting.push(batch);
    this.next();
  }

  /** A committed batch that writes `key` and waits for its fsync, if any. */
  pendingWith(key: string): Batch | undefined {
    return this.syncing.find((b) => b.objects.has(key)) ?? this.waiting.find((b) => b.objects.has(key));
  }

  /** Waits for every batch added so far to settle, then closes the file (fd -1: none, in tests). */
  async close(): Promise<void> {
    if (this.syncing.length > 0 || this.waiting.length > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.fd >= 0) await new Promise<void>((resolve) => close(this.fd, () => resolve()));
  }

  private next(): void {
    if (this.syncing.length > 0) return;
    if (this.waiting.length === 0) {
      for (const resolve of this.drained.splice(0)) resolve();
      return;
    }
    const covered = (this.syncing = this.waiting);
    this.waiting = [];
    this.sync(this.fd, (err) => {
      this.syncing = [];
      if (err) this.fail(err, covered);
      else for (const batch of covered) batch.resolve();
      this.next();
    });
  }

  private fail(err: Error, covered: Batch[]): void {
    this.failure ??= new Error(`storage: fsync of the WAL failed (${err.message}); writes are refused until the node restarts`);
    for (const batch of [...covered, ...this.waiting.splice(0)]) batch.reject(this.failure);
  }
}
