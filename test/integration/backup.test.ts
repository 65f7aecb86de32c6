// Backups under load (docs/api.md section 3, Backups): `kvorum admin backup` of n3 while w=2 writes
// go on gives a sound copy; n3 is stopped, its data directory wiped, `kvorum restore` puts the copy
// back, and once n3 runs again its own replica converges to every acknowledged write, those made
// after the backup included. Also: one backup at a time (409), the temp file removed after a
// download and after an abandoned one, a corrupted file and a non-empty directory refused.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { inspectBackup } from '../../src/storage/sqlite-backup.js';
import { http } from '../kit/http.js';
import { cliPath } from '../kit/paths.js';
import { runNode, type NodeRun } from '../kit/run-node.js';
import { startCluster, withLogs, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { replicaCopy, singleValue, waitAllUp } from '../helpers/convergence.js';

const cluster = await startCluster({
  nodes: 3,
  extraArgs: ['--log-level', 'warn', '--anti-entropy-interval-ms', '200', '--handoff-interval-ms', '200'],
});
const [n1, n2, n3] = cluster.nodes as [TestNode, TestNode, TestNode];
const dir = await mkdtemp(join(tmpdir(), 'kvorum-backup-test-'));
const cliDeadlineMs = 60_000;
const cli = (args: readonly string[]): Promise<NodeRun> => runNode([cliPath, ...args], { deadlineMs: cliDeadlineMs });
const value = (key: string) => `${key}:${'v'.repeat(400)}`;

/** PUTs new keys with w=2 through n1 and n2 (4 at a time) until stopped; `acked` holds every key a 2xx answered. */
function writeLoad() {
  const acked: string[] = [];
  let stopped = false;
  let next = 0;
  const worker = async () => {
    while (!stopped && next < 200_000) {
      const key = `load-${next++}`;
      const via = next % 2 === 0 ? n1 : n2;
      const res = await http('PUT', `${via.url}/kv/${key}?w=2`, { body: value(key), headers: { 'content-type': 'text/plain' } }).catch(() => undefined);
      if (res && res.status < 300) acked.push(key);
    }
  };
  const done = Promise.all([worker(), worker(), worker(), worker()]);
  return { acked, stop: async () => ((stopped = true), await done) };
}

/** A `meta` row of a database file (read-only; the node may have it open). */
function metaOf(file: string, name: string): string | undefined {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], string>('SELECT value FROM meta WHERE name = ?').pluck().get(name);
  } finally {
    db.close();
  }
}

const backupTemps = async (node: TestNode) => (await readdir(node.dataDir)).filter((f) => f.startsWith('kvorum-backup-'));

describe('backup and restore (3 nodes, N=3, writes with w=2)', () => {
  after(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('backs n3 up under load, restores it into a wiped directory, and n3 converges to every acknowledged write', () =>
    withLogs(cluster.logs, async () => {
      await waitAllUp(cluster);
      const load = writeLoad();
      await waitFor(() => load.acked.length >= 300, { timeoutMs: 30_000, what: '300 acknowledged writes' });
      const file = join(dir, 'n3.db');
      const backup = await cli(['admin', 'backup', '--url', n3.url, '--out', file]);
      const ackedAtBackup = load.acked.length;
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout.toString(), /node n3, .*integrity ok/);
      if (process.env['KVORUM_BACKUP_FIGURES']) console.log(`# ${backup.stdout.toString().trim()} (${ackedAtBackup} writes acknowledged then)`);
      const inspected = inspectBackup(file);
      assert.ok(inspected.ok, JSON.stringify(inspected));
      assert.equal(inspected.summary.node, 'n3');
      assert.ok(inspected.summary.keys > 0, 'the copy holds keys');
      assert.deepEqual(await readdir(dir), ['n3.db'], 'no .partial left');
      await waitFor(async () => (await backupTemps(n3)).length === 0, { what: 'the node to remove its temp copy' });
      await waitFor(() => load.acked.length >= ackedAtBackup + 300, { timeoutMs: 30_000, what: '300 more acknowledged writes after the backup' });

      const liveDb = join(n3.dataDir, 'kvorum.db');
      const originalIncarnation = metaOf(liveDb, 'incarnation');
      n3.kill('SIGTERM');
      await n3.waitExit(20_000);
      await load.stop();
      const notEmpty = await cli(['restore', '--from', file, '--data-dir', n3.dataDir]);
      assert.equal(notEmpty.code, 1);
      assert.match(notEmpty.stderr, /not empty/);
      await rm(n3.dataDir, { recursive: true, force: true });
      const restored = await cli(['restore', '--from', file, '--data-dir', n3.dataDir, '--id', 'n3']);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout.toString(), /kvorum start --id n3/);
      await n3.restart();
      // n3 runs on the restored file, under a DVV actor of its own (neither the original's nor the copy's).
      assert.equal(metaOf(liveDb, 'backup_node'), 'n3');
      assert.ok(metaOf(liveDb, 'restored_at_ms'));
      const incarnations = new Set([originalIncarnation, metaOf(file, 'incarnation'), metaOf(liveDb, 'incarnation')]);
      assert.equal(incarnations.size, 3, `incarnations ${[...incarnations].join(', ')}`);

      const missing = new Set(load.acked);
      await waitFor(
        async () => {
          const batch = [...missing].slice(0, 64);
          await Promise.all(batch.map(async (key) => singleValue(await replicaCopy(n3, key)) === value(key) && missing.delete(key)));
          return missing.size === 0;
        },
        { timeoutMs: 90_000, intervalMs: 20, what: `n3's own replica to hold every acknowledged key (${load.acked.length} keys)` },
      );
    }));

  it('takes one backup at a time (409 backup_in_progress) and removes the temp copy when a download is abandoned', () =>
    withLogs(cluster.logs, async () => {
      // ~24 MB of values: more than the socket buffers take, so an unread download holds its copy.
      for (let i = 0; i < 24; i++) {
        const res = await http('PUT', `${n1.url}/kv/big-${i}?w=2`, { body: Buffer.alloc(1_000_000, i), timeoutMs: 30_000 });
        assert.ok(res.status < 300, res.text());
      }
      const aborted = new AbortController();
      const first = await fetch(`${n1.url}/admin/backup`, { method: 'POST', signal: aborted.signal });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('content-type'), 'application/octet-stream');
      assert.match(first.headers.get('x-kvorum-backup-sha256') ?? '', /^[0-9a-f]{64}$/);
      // The first answer is not read: its temp copy stays until the download ends.
      const second = await http('POST', `${n1.url}/admin/backup`);
      assert.equal(second.status, 409, second.text());
      assert.equal(second.json().error, 'backup_in_progress');
      assert.equal((await backupTemps(n1)).length, 1, 'the unread download keeps its temp copy');
      aborted.abort();
      await waitFor(async () => (await backupTemps(n1)).length === 0, { timeoutMs: 15_000, what: 'the abandoned copy to be removed' });
      const third = await http('POST', `${n1.url}/admin/backup`, { timeoutMs: 30_000 });
      assert.equal(third.status, 200, 'a backup can be taken again');
    }));

  it('refuses a corrupted backup file and a non-empty data directory without --force', () =>
    withLogs(cluster.logs, async () => {
      const good = join(dir, 'n3.db');
      const bytes = await readFile(good);
      const corrupted = join(dir, 'corrupted.db');
      // Garbage over the middle pages (b-tree pages of the tables and indexes).
      const middle = Math.floor(bytes.length / 2 / 4096) * 4096;
      bytes.fill(0x5a, middle, Math.min(bytes.length, middle + 8 * 4096));
      await writeFile(corrupted, bytes);
      const target = join(dir, 'restore-target');
      const bad = await cli(['restore', '--from', corrupted, '--data-dir', target]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /not a sound backup/);
      const notDb = join(dir, 'not-a-db');
      await writeFile(notDb, 'hello');
      assert.equal((await cli(['restore', '--from', notDb, '--data-dir', target])).code, 1);
      await rm(target, { recursive: true, force: true });
      await writeFile(join(dir, 'other'), 'x');
      const occupied = await cli(['restore', '--from', good, '--data-dir', dir]);
      assert.equal(occupied.code, 1);
      assert.match(occupied.stderr, /not empty.*--force/);
      const tooOld = await cli(['restore', '--from', good, '--data-dir', target, '--tombstone-grace-ms', '1']);
      assert.equal(tooOld.code, 1);
      assert.match(tooOld.stderr, /older than the tombstone grace/);
      const wrongNode = await cli(['restore', '--from', good, '--data-dir', target, '--id', 'n1']);
      assert.equal(wrongNode.code, 1);
      assert.match(wrongNode.stderr, /of node n3, not n1/);
      assert.equal((await cli(['restore', '--from', good, '--data-dir', target])).code, 0);
      await writeFile(join(target, 'kvorum.db-wal'), 'a stale WAL of the database replaced');
      assert.equal((await cli(['restore', '--from', good, '--data-dir', target])).code, 1, 'not empty now');
      const forced = await cli(['restore', '--from', good, '--data-dir', target, '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual(await readdir(target), ['kvorum.db'], 'the stale WAL is gone');
      assert.ok(inspectBackup(join(target, 'kvorum.db')).ok);

      // A snapshot of a running node's directory: the database with a -wal that holds recent commits.
      const live = join(dir, 'live');
      await mkdir(live);
      await copyFile(good, join(live, 'kvorum.db'));
      const open = new Database(join(live, 'kvorum.db'));
      open.pragma('journal_mode = WAL');
      open.pragma('wal_autocheckpoint = 0');
      open.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('only_in_the_wal', 'yes')").run();
      const snapshot = join(dir, 'snapshot');
      await mkdir(snapshot);
      await copyFile(join(live, 'kvorum.db'), join(snapshot, 'kvorum.db'));
      await copyFile(join(live, 'kvorum.db-wal'), join(snapshot, 'kvorum.db-wal'));
      open.close();
      const fromSnapshot = join(dir, 'from-snapshot');
      const snap = await cli(['restore', '--from', join(snapshot, 'kvorum.db'), '--data-dir', fromSnapshot]);
      assert.equal(snap.code, 0, snap.stderr);
      assert.equal(metaOf(join(fromSnapshot, 'kvorum.db'), 'only_in_the_wal'), 'yes', 'the WAL was folded in');
      assert.deepEqual(await readdir(fromSnapshot), ['kvorum.db']);
    }));
});
