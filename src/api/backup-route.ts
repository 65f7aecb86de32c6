// POST /admin/backup (docs/api.md section 3, Backups): an online copy of this node's database,
// streamed as it lies in a temp file (node/backups.ts), which is removed once the answer ends.
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { NodeId } from '../core/types.js';
import { backupSchema } from './admin-schemas.js';
import { sendError } from './errors.js';

/** Backup response headers (besides X-Kvorum-Node): what the CLI checks the download against. */
export const backupHeaders = {
  sha256: 'x-kvorum-backup-sha256',
  pages: 'x-kvorum-backup-pages',
  takenAtMs: 'x-kvorum-backup-taken-at-ms',
  ringVersion: 'x-kvorum-ring-version',
} as const;

/** A copy ready to stream. `release` removes it and lets the next backup begin (idempotent). */
export interface TakenBackup {
  readonly path: string;
  readonly bytes: number;
  readonly pages: number;
  readonly sha256: string;
  readonly node: NodeId;
  readonly ringVersion: number;
  readonly takenAtMs: number;
  readonly copyMs: number;
  /** Aborted when the backup ran out of time: the route stops streaming. */
  readonly signal: AbortSignal;
  release(): void;
}

export type BackupOutcome = { ok: true; backup: TakenBackup } | { ok: false; code: 'backup_in_progress' | 'backup_failed'; message: string };

/** What the route needs of node/backups.ts (NodeBackups). */
export interface BackupSource {
  take(): Promise<BackupOutcome>;
}

export interface BackupRouteOptions {
  /** Absent where no node stands behind the app (the OpenAPI document's): the route answers backup_failed. */
  readonly backups?: BackupSource;
}

export async function backupRoute(app: FastifyInstance, opts: BackupRouteOptions): Promise<void> {
  app.post('/admin/backup', { schema: backupSchema }, async (_request, reply) => {
    if (!opts.backups) return sendError(reply, 'backup_failed', 'This server keeps no database.');
    const outcome = await opts.backups.take();
    if (!outcome.ok) return sendError(reply, outcome.code, outcome.message);
    const { backup } = outcome;
    const stream = createReadStream(backup.path);
    // The temp file goes once the stream ends, fails or is destroyed (a client that went away:
    // fastify destroys it), or when the backup runs out of time.
    stream.once('close', () => backup.release());
    backup.signal.addEventListener('abort', () => stream.destroy(backup.signal.reason as Error), { once: true });
    return reply
      .type('application/octet-stream')
      .header('content-length', backup.bytes)
      .header(backupHeaders.sha256, backup.sha256)
      .header(backupHeaders.pages, backup.pages)
      .header(backupHeaders.takenAtMs, backup.takenAtMs)
      .header(backupHeaders.ringVersion, backup.ringVersion)
      .header('content-disposition', `attachment; filename="kvorum-backup-${backup.takenAtMs}.db"`)
      .send(stream);
  });
}
