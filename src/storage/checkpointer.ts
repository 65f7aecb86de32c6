// Keeps WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit
// that crosses the WAL size threshold, on the thread that commits: a node's event loop stalled for
// the copy and (with --sync full) an fsync of the database file, ~20 ms, at every ~4 MiB of writes.
// With the checkpointer the node's connection checkpoints by itself only rarely; a worker thread with
// its own connection does, every checkpointIntervalMs. But SQLite restarts the WAL from its start only
// when a write begins with every frame checkpointed, which never happens while writes go on during
// the worker's checkpoints: under sustained writes the WAL grew without bound (400 MB in 10 s of
// the bench). So once the worker reports a WAL of walRestartFramesMin frames, the node's connection
// checkpoints what is left (the frames since the worker's last round) itself, and its next commit
// starts the WAL over. If the worker ever stops, the node's connection takes automatic checkpoints
// back, so the WAL never grows without bound.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { checkpointIntervalMs, failureRepeatIntervalMs, walAutocheckpointPages, walRestartFramesMin } from '../core/limits.js';

export interface CheckpointerEvents {
  /** The worker failed (it then stops and the node checkpoints by itself) or a checkpoint failed (it tries again). */
  readonly onProblem: (message: string) => void;
}

/**
 * The worker thread: its own connection, PASSIVE checkpoints (they never wait for the node's reads
 * or writes) every intervalMs; a failed one is reported and tried again next round. Plain
 * JavaScript evaluated in the worker, so it runs the same from dist/ and from src/ under tsx.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log });
  } catch (err) {
    parentPort.postMessage({ failed: String(err && err.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private stopping = false;
  private running = true;
  private reportedAtMs = -Infinity;
  private heldBack = 0;
  /** Frames in the WAL at the worker's last round. */
  private walFrames = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly db: Database.Database,
    private readonly events: CheckpointerEvents,
  ) {}

  /** Starts checkpointing `db` (open on `path`) from a worker thread. */
  static start(db: Database.Database, path: string, events: CheckpointerEvents): Checkpointer {
    db.pragma('wal_autocheckpoint = 0');
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(workerSource, { eval: true, workerData: { path, driver, intervalMs: checkpointIntervalMs } });
    const checkpointer = new Checkpointer(worker, db, events);
    worker.on('message', (m: { failed?: string; log?: number }) => {
      if (m.failed !== undefined) checkpointer.failed(m.failed);
      if (typeof m.log === 'number') checkpointer.walFrames = m.log;
    });
    worker.on('error', (err) => events.onProblem(`WAL checkpointer failed: ${err.message}`));
    worker.on('exit', (code) => checkpointer.exited(code));
    worker.unref();
    return checkpointer;
  }

  /**
   * Called after a commit: once the WAL is long, checkpoints the rest of it on this thread (only
   * the frames since the worker's last round, so a short stall, once per walRestartFramesMin), so
   * the next commit starts it over. A failure costs only a longer WAL: reported, and the worker goes on.
   */
  restartLongWal(): void {
    if (!this.running || this.walFrames < walRestartFramesMin) return;
    this.walFrames = 0;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      this.failed(`on the node's thread: ${(err as Error).message}`);
    }
  }

  /** Stops the worker; resolves once it has closed its connection. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.ref(); // unref'd while it runs (it must not keep a process alive), awaited now
    this.worker.postMessage('stop');
    await exited;
  }

  /** A round failed: reported at most once per failureRepeatIntervalMs (rounds repeat 4 times a second). */
  private failed(message: string): void {
    this.heldBack++;
    const now = performance.now();
    if (now - this.reportedAtMs < failureRepeatIntervalMs) return;
    this.events.onProblem(`WAL checkpoint failed (${this.heldBack} rounds since the last report): ${message}`);
    this.reportedAtMs = now;
    this.heldBack = 0;
  }

  private exited(code: number): void {
    this.running = false;
    if (this.stopping || !this.db.open) return;
    this.db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
    this.events.onProblem(`WAL checkpointer stopped (exit ${code}); the node checkpoints by itself from now on`);
  }
}
