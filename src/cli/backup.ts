// `kvorum admin backup` (download a node's online backup, atomically, and check it) and `kvorum
// restore` (put a checked backup in place as a node's database). docs/api.md section 3, Backups.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, createWriteStream, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { backupDurationMsMax, tombstoneGraceMsDefault } from '../core/limits.js';
import { inspectBackup, renewIdentity, type BackupSummary } from '../storage/sqlite-backup.js';
import { ConfigError } from '../node/config.js';
import { backupHeaders } from '../api/backup-route.js';

/** fsyncs a file or a directory (a rename is durable once its directory is synced). */
function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function describe(summary: BackupSummary, bytes: number): string {
  const taken = summary.takenAtMs === undefined ? 'unknown time' : new Date(summary.takenAtMs).toISOString();
  return `node ${summary.node ?? '?'}, ring version ${summary.ringVersion ?? '?'}, taken at ${taken}: ${bytes} bytes, ${summary.pages} pages, ${summary.keys} keys (tombstones included), ${summary.hints} hints`;
}

/** Streams the body to `partial`, hashing it on the way; the file is readable by its owner only (it holds every value). */
async function download(body: ReadableStream<Uint8Array>, partial: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream), tap, createWriteStream(partial, { mode: 0o600 }));
  syncPath(partial);
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * POST /admin/backup on `url`, written to OUT.partial, fsynced, checked (the node's SHA-256,
 * integrity_check, kvorum's tables), then renamed to OUT. Exit 0 with a summary, 1 on any failure
 * (OUT.partial removed, OUT untouched).
 */
export async function adminBackup(url: string, out: string | undefined, authorization: Record<string, string>): Promise<number> {
  if (out === undefined) throw new ConfigError('usage: kvorum admin backup --url URL --out FILE [--token T]');
  const partial = `${out}.partial`;
  const started = performance.now();
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/admin/backup`, { method: 'POST', headers: authorization, signal: AbortSignal.timeout(backupDurationMsMax) });
    if (res.status !== 200 || res.body === null) {
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      console.error(`kvorum admin backup: ${String(json['error'] ?? res.status)}: ${String(json['message'] ?? res.statusText)}`);
      return 1;
    }
    const { sha256, bytes } = await download(res.body, partial);
    if (sha256 !== res.headers.get(backupHeaders.sha256)) throw new Error(`the download's SHA-256 ${sha256} is not the node's ${String(res.headers.get(backupHeaders.sha256))}`);
    const checked = inspectBackup(partial);
    if (!checked.ok) throw new Error(`the downloaded file is not a sound backup: ${checked.problem}`);
    renameSync(partial, out);
    syncPath(dirname(resolve(out)));
    console.log(`backup written to ${out}: ${describe(checked.summary, bytes)}; sha256 ${sha256}; integrity ok; ${Math.round(performance.now() - started)} ms`);
    return 0;
  } catch (err) {
    rmSync(partial, { force: true });
    console.error(`kvorum admin backup: ${(err as Error).message}`);
    return 1;
  }
}

interface RestoreOptions {
  readonly from: string;
  readonly dataDir: string;
  readonly force: boolean;
  readonly id: string | undefined;
  readonly graceMs: number;
  readonly allowOld: boolean;
}

function parseRestore(args: string[]): RestoreOptions {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      'data-dir': { type: 'string' },
      force: { type: 'boolean', default: false },
      id: { type: 'string' },
      'tombstone-grace-ms': { type: 'string', default: String(tombstoneGraceMsDefault) },
      'allow-older-than-grace': { type: 'boolean', default: false },
    },
  });
  const graceMs = Number(values['tombstone-grace-ms']);
  if (values.from === undefined || values['data-dir'] === undefined) {
    throw new ConfigError('usage: kvorum restore --from FILE --data-dir DIR [--id ID] [--force] [--tombstone-grace-ms MS] [--allow-older-than-grace]');
  }
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new ConfigError('--tombstone-grace-ms must be a non-negative integer (the cluster\'s setting)');
  return { from: values.from, dataDir: values['data-dir'], force: values.force, id: values.id, graceMs, allowOld: values['allow-older-than-grace'] };
}

/** Why the backup must not be restored as asked, or undefined. */
function refusal(summary: BackupSummary, opts: RestoreOptions): string | undefined {
  if (opts.id !== undefined && summary.node !== opts.id) return `the backup is of node ${String(summary.node)}, not ${opts.id}`;
  if (opts.allowOld) return undefined;
  if (summary.takenAtMs === undefined) return 'the file carries no backup time (it was not made by kvorum admin backup): its age against the tombstone grace cannot be checked (--allow-older-than-grace to restore anyway)';
  const ageMs = Date.now() - summary.takenAtMs;
  if (ageMs > opts.graceMs) {
    return `the backup is ${ageMs} ms old, older than the tombstone grace (${opts.graceMs} ms): tombstones reaped since could let deleted keys come back from it (--allow-older-than-grace to restore anyway, docs/api.md, Backups)`;
  }
  return undefined;
}

/** Why `dir` cannot take the database, or undefined: not empty without --force, or a node still has its database open. */
function dirRefusal(dir: string, force: boolean): string | undefined {
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  if (entries.length > 0 && !force) return `${dir} is not empty (${entries.slice(0, 5).join(', ')}): --force replaces its database`;
  const current = join(dir, 'kvorum.db');
  if (!existsSync(current)) return undefined;
  // A running node holds its database open: exclusive locking cannot be had then.
  const db = new Database(current, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return undefined;
  } catch (err) {
    return `the database in ${dir} is in use (${(err as Error).message}): stop its node first`;
  } finally {
    db.close();
  }
}

/** Copies the backup into `dir` under a temp name, gives it a new incarnation, then renames it into place. */
function putInPlace(from: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `kvorum-restore-${randomBytes(6).toString('hex')}.tmp`);
  try {
    copyFileSync(from, temp);
    // A new DVV actor for this directory (as every backup copy gets): never the incarnation of another directory.
    renewIdentity(temp, { restored_at_ms: String(Date.now()) });
    syncPath(temp);
    // The old database's WAL must not be applied to the new file.
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(join(dir, `kvorum.db${suffix}`), { force: true });
    renameSync(temp, join(dir, 'kvorum.db'));
    syncPath(dir);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * A raw copy of a data directory (a volume snapshot: kvorum.db with its kvorum.db-wal) is folded into
 * one file first, in a temp directory: SQLite recovers the WAL when it opens the copy. Without its
 * WAL the database file alone may miss commits or be half checkpointed. Backups need no folding.
 */
function folded(from: string): { path: string; cleanup: () => void } {
  if (!existsSync(`${from}-wal`)) return { path: from, cleanup: () => {} };
  const temp = mkdtempSync(join(tmpdir(), 'kvorum-restore-'));
  const path = join(temp, 'kvorum.db');
  copyFileSync(from, path);
  copyFileSync(`${from}-wal`, `${path}-wal`);
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  return { path, cleanup: () => rmSync(temp, { recursive: true, force: true }) };
}

/** `kvorum restore`: exit 0 restored, 1 refused (nothing changed), 2 usage. */
export function restore(args: string[]): number {
  const opts = parseRestore(args);
  let source: { path: string; cleanup: () => void };
  try {
    source = folded(opts.from);
  } catch (err) {
    console.error(`kvorum restore: ${opts.from} with its -wal cannot be recovered: ${(err as Error).message}`);
    return 1;
  }
  try {
    return restoreFrom(source.path, opts);
  } finally {
    source.cleanup();
  }
}

function restoreFrom(from: string, opts: RestoreOptions): number {
  const checked = inspectBackup(from);
  if (!checked.ok) {
    console.error(`kvorum restore: ${opts.from} is not a sound backup: ${checked.problem}`);
    return 1;
  }
  const problem = refusal(checked.summary, opts) ?? dirRefusal(opts.dataDir, opts.force);
  if (problem !== undefined) {
    console.error(`kvorum restore: refused: ${problem}; nothing was changed`);
    return 1;
  }
  putInPlace(from, opts.dataDir);
  const node = checked.summary.node ?? 'ID';
  console.log(`restored ${opts.from} into ${opts.dataDir}: ${describe(checked.summary, statSync(from).size)}`);
  console.log(`next: start the node with the same id and data directory, e.g. kvorum start --id ${node} --data-dir ${opts.dataDir} (and its usual flags).`);
  console.log('It rejoins with the ring it had stored; hints, read repair and anti-entropy bring it up to date. Restore one node at a time and let it converge first.');
  return 0;
}
