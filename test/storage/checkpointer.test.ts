// WAL checkpoints on a worker thread (src/storage/checkpointer.ts): the node's own connection
// checkpoints only to start a long WAL over, yet committed writes reach the database file and the
// WAL stays bounded, also under writes that never pause.
import assert from 'node:assert/strict';
import { openSync, closeSync, readSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { walRestartFramesMin } from '../../src/core/limits.js';
import { asPartitionId } from '../../src/core/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { waitFor } from '../kit/wait.js';
import { valueObject } from './conformance.js';

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** The WAL header's checkpoint sequence number: SQLite bumps it each time it starts the WAL over. */
function walCheckpointSequence(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}

describe('WAL checkpointer', () => {
  it('copies committed writes into the database file from its own thread, and the WAL is reused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvorum-ckpt-'));
    const problems: string[] = [];
    const storage = SqliteStorage.open({ dir, checkpoints: { onProblem: (m) => problems.push(m) } });
    const dbFile = join(dir, 'kvorum.db');
    const walFile = `${dbFile}-wal`;
    try {
      const value = new Uint8Array(4096).fill(7);
      let walMax = 0;
      for (let round = 0; round < 8; round++) {
        // ~2 MiB per round in 4 commits; the node's connection has automatic checkpoints off.
        for (let commit = 0; commit < 4; commit++) {
          await Promise.all(Array.from({ length: 128 }, (_, i) => storage.update(`r${round}-c${commit}-k${i}`, asPartitionId(1), () => valueObject(value))));
        }
        walMax = Math.max(walMax, sizeOf(walFile));
        const wanted = (round + 1) * 2 * 1024 * 1024;
        await waitFor(() => sizeOf(dbFile) >= wanted, { what: `the checkpointer to copy round ${round} into the database file`, timeoutMs: 15_000 });
      }
      // 16 MiB were written: without checkpoints reusing it, the WAL would hold all of them.
      assert.ok(walMax < 8 * 1024 * 1024, `the WAL grew to ${walMax} bytes`);
      assert.deepEqual(problems, []);
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts the WAL over under writes that never pause (the worker alone never could)', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvorum-ckpt-'));
    const problems: string[] = [];
    const storage = SqliteStorage.open({ dir, checkpoints: { onProblem: (m) => problems.push(m) } });
    const walFile = join(dir, 'kvorum.db-wal');
    try {
      const value = new Uint8Array(4096).fill(7);
      const write = (n: number) => Promise.all(Array.from({ length: 128 }, (_, i) => storage.update(`k${n}-${i}`, asPartitionId(1), () => valueObject(value))));
      await write(0);
      const first = walCheckpointSequence(walFile);
      // Each round is a commit right after the last: the worker's checkpoints always find new frames.
      // A 4 KiB row is 2+ pages: 3 * walRestartFramesMin rows are well past the point of a restart.
      let round = 1;
      while (walCheckpointSequence(walFile) === first && round * 128 < 3 * walRestartFramesMin) await write(round++);
      assert.notEqual(walCheckpointSequence(walFile), first, `the WAL never started over in ${round * 128} rows (${sizeOf(walFile)} bytes)`);
      assert.ok(sizeOf(walFile) < 3 * walRestartFramesMin * 4096, `the WAL grew to ${sizeOf(walFile)} bytes`);
      assert.deepEqual(problems, []);
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
