// Online backups of a node's database (docs/api.md section 3, Backups) and the checks a backup file
// passes before it is trusted. The copy uses SQLite's online backup API through the node's own
// connection: better-sqlite3 copies backupStepPages per step between turns of the event loop, and
// SQLite applies the node's commits made meanwhile to the copy too (same connection), so the copy
// is the database as it stood when the last step ran, while the node keeps serving writes.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { backupStepPages } from '../core/limits.js';
import { schemaVersion } from './sqlite-tables.js';

/** Meta rows (the `meta` table) a backup copy carries about where and when it was taken. */
export const backupMeta = { node: 'backup_node', takenAtMs: 'backup_taken_at_ms', ringVersion: 'backup_ring_version' } as const;

/** Tables every kvorum database of this schema holds; a file without them is not one. */
const expectedTables = ['objects', 'hints', 'meta', 'meta_records', 'leaf_hashes', 'quarantine'];

export interface BackupStamp {
  readonly node: string;
  readonly takenAtMs: number;
  readonly ringVersion: number;
}

/** The one online copy of a database at a time (SqliteStorage.backup); stop() ends it and waits for it (a closing database). */
export class OnlineCopy {
  private copying: { readonly stop: AbortController; readonly done: Promise<unknown> } | undefined;

  /** Copies `db` to `path` (a file that must not exist), step by step; `signal` or stop() ends it between steps (it then rejects). */
  async run(db: Database.Database, path: string, signal: AbortSignal): Promise<{ pages: number }> {
    if (this.copying) throw new Error('storage: a backup is already being copied');
    const stop = new AbortController();
    const either = AbortSignal.any([signal, stop.signal]);
    const done = db.backup(path, {
      progress: () => {
        either.throwIfAborted();
        return backupStepPages;
      },
    });
    this.copying = { stop, done: done.catch(() => {}) };
    try {
      return { pages: (await done).totalPages };
    } finally {
      this.copying = undefined;
    }
  }

  async stop(): Promise<void> {
    const copying = this.copying;
    copying?.stop.abort(new Error('storage: closing'));
    await copying?.done;
  }
}

/**
 * Writes `rows` into the `meta` table of the database at `path`, with a NEW incarnation, in
 * rollback-journal mode (one self-contained file, no -wal to lose). The incarnation names a data
 * directory's DVV actor: a copy put back under the old one would stamp again, for writes made after
 * the copy, dots the cluster already holds for other values, and those writes would be lost.
 */
export function renewIdentity(path: string, rows: Readonly<Record<string, string>>): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    const set = db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)');
    db.transaction(() => {
      for (const [name, value] of Object.entries(rows)) set.run(name, value);
      set.run('incarnation', randomBytes(8).toString('hex'));
    })();
  } finally {
    db.close();
  }
}

/** Makes a backup copy self-describing (the stamp in its `meta` table) and gives it its own incarnation. */
export function stampCopy(path: string, stamp: BackupStamp): void {
  renewIdentity(path, { [backupMeta.node]: stamp.node, [backupMeta.takenAtMs]: String(stamp.takenAtMs), [backupMeta.ringVersion]: String(stamp.ringVersion) });
}

export interface BackupSummary {
  readonly pages: number;
  readonly pageBytes: number;
  /** Object rows: live keys and tombstones. */
  readonly keys: number;
  readonly hints: number;
  readonly node: string | undefined;
  readonly takenAtMs: number | undefined;
  readonly ringVersion: number | undefined;
}

/** Why `path` is not a sound kvorum database of this schema (integrity, tables, schema version), or its summary. */
export function inspectBackup(path: string): { ok: true; summary: BackupSummary } | { ok: false; problem: string } {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    return { ok: false, problem: `cannot open it: ${(err as Error).message}` };
  }
  try {
    return inspectOpen(db);
  } catch (err) {
    return { ok: false, problem: `not a readable SQLite database: ${(err as Error).message}` };
  } finally {
    db.close();
  }
}

function inspectOpen(db: Database.Database): { ok: true; summary: BackupSummary } | { ok: false; problem: string } {
  const integrity = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
  const problems = integrity.map((r) => r.integrity_check).filter((r) => r !== 'ok');
  if (problems.length > 0) return { ok: false, problem: `PRAGMA integrity_check: ${problems.slice(0, 5).join('; ')}` };
  const tables = new Set(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
  const missing = expectedTables.filter((t) => !tables.has(t));
  if (missing.length > 0) return { ok: false, problem: `not a kvorum database: no table ${missing.join(', ')}` };
  const meta = db.prepare<[string], string>('SELECT value FROM meta WHERE name = ?').pluck();
  const version = meta.get('schema_version');
  if (version !== schemaVersion) return { ok: false, problem: `schema_version ${String(version)}, this build reads ${schemaVersion}` };
  const count = (table: string) => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get() ?? 0;
  const number = (name: string) => {
    const text = meta.get(name);
    return text === undefined || !/^\d{1,16}$/.test(text) ? undefined : Number(text);
  };
  const summary: BackupSummary = {
    pages: db.pragma('page_count', { simple: true }) as number,
    pageBytes: db.pragma('page_size', { simple: true }) as number,
    keys: count('objects'),
    hints: count('hints'),
    node: meta.get(backupMeta.node),
    takenAtMs: number(backupMeta.takenAtMs),
    ringVersion: number(backupMeta.ringVersion),
  };
  return { ok: true, summary };
}
