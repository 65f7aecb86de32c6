// A node's backups (POST /admin/backup, docs/api.md section 3, Backups): one at a time, copied
// online into a temp file in the data directory, checksummed, handed to the route to stream, and
// removed once streamed, failed or abandoned (backupDurationMsMax after it began).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyBaseLogger } from 'fastify';
import { backupDurationMsMax, backupFreeBytesMargin } from '../core/limits.js';
import type { NodeId } from '../core/types.js';
import type { BackupOutcome, BackupSource, TakenBackup } from '../api/backup-route.js';
import { filesystemBytes } from '../api/metrics-host.js';
import { stampCopy } from '../storage/sqlite-backup.js';
import type { SqliteStorage } from '../storage/sqlite.js';

const tempPrefix = 'kvorum-backup-';
const tempSuffix = '.tmp';

export interface BackupDeps {
  readonly self: NodeId;
  readonly dataDir: string;
  readonly storage: SqliteStorage;
  readonly ringVersion: () => number;
  readonly log: FastifyBaseLogger;
}

export class NodeBackups implements BackupSource {
  private running = false;

  /** Removes a temp copy a killed node left behind at once: it may be as large as the database. */
  constructor(private readonly deps: BackupDeps) {
    try {
      this.removeLeftovers();
    } catch (err) {
      deps.log.warn({ err }, 'could not remove a backup temp file left in the data directory');
    }
  }

  /** Takes a copy, unless one is running (backup_in_progress) or it cannot be taken (backup_failed). */
  async take(): Promise<BackupOutcome> {
    if (this.running) return { ok: false, code: 'backup_in_progress', message: 'A backup of this node is already being taken; try again once it ends.' };
    this.running = true;
    const path = join(this.deps.dataDir, `${tempPrefix}${randomBytes(6).toString('hex')}${tempSuffix}`);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`the backup took longer than ${backupDurationMsMax} ms`)), backupDurationMsMax).unref();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      rmSync(path, { force: true });
      this.running = false;
    };
    try {
      this.removeLeftovers();
      this.checkRoom();
      return { ok: true, backup: await this.copy(path, timeout.signal, release) };
    } catch (err) {
      release();
      const message = `The backup could not be taken: ${(err as Error).message}`;
      this.deps.log.warn({ err }, 'backup failed');
      return { ok: false, code: 'backup_failed', message };
    }
  }

  private async copy(path: string, signal: AbortSignal, release: () => void): Promise<TakenBackup> {
    const started = performance.now();
    // The earliest moment the copy can reflect: the safe side for restore's tombstone-grace check.
    const takenAtMs = Date.now();
    const ringVersion = this.deps.ringVersion();
    const { pages } = await this.deps.storage.backup(path, signal);
    stampCopy(path, { node: this.deps.self, takenAtMs, ringVersion });
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash, { signal });
    const backup = { path, bytes: statSync(path).size, pages, sha256: hash.digest('hex'), node: this.deps.self, ringVersion, takenAtMs };
    const copyMs = Math.round(performance.now() - started);
    this.deps.log.info({ bytes: backup.bytes, pages, copyMs, ringVersion }, 'backup copied');
    return { ...backup, copyMs, signal, release };
  }

  /** A backup's temp file left by a node that stopped mid-backup (only one runs at a time: any found is stale). */
  private removeLeftovers(): void {
    for (const name of readdirSync(this.deps.dataDir)) {
      if (name.startsWith(tempPrefix) && name.endsWith(tempSuffix)) rmSync(join(this.deps.dataDir, name), { force: true });
    }
  }

  /** Refuses a copy the disk has no room for (with a margin): a full disk would stop the node's own writes. */
  private checkRoom(): void {
    const needed = this.deps.storage.sizeBytes() + backupFreeBytesMargin;
    const free = filesystemBytes(this.deps.dataDir)?.freeBytes;
    if (free === undefined) throw new Error(`the free space of ${this.deps.dataDir} cannot be read`);
    if (free < needed) throw new Error(`the data directory has ${free} bytes free, the copy needs ${needed} (its size plus a ${backupFreeBytesMargin}-byte margin)`);
  }
}
