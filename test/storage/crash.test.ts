// Kills a writing process with SIGKILL and checks that every write it acknowledged (objects and
// meta records) survived, and that the persisted anti-entropy trees are exactly those of the rows.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { asPartitionId } from '../../src/core/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { assertTreesMatchRows } from './conformance-tree.js';
import { forgetTempDir, Proc, registerTempDir } from '../kit/proc.js';
import { within } from '../kit/wait.js';

const writerPath = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const acksBeforeKill = 2000;
const deadlineMs = 30_000;

describe('SqliteStorage crash safety', () => {
  it('keeps every acknowledged write after SIGKILL', { timeout: 2 * deadlineMs }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvorum-crash-'));
    registerTempDir(dir);
    const acked: string[] = [];
    const unexpected: string[] = [];
    let enough!: () => void;
    const enoughAcks = new Promise<void>((resolve) => (enough = resolve));
    const writer = new Proc('writer', ['--import', 'tsx', writerPath, dir], {
      onLine: (line, stream) => {
        const key = /^ack (k\d+)$/.exec(line)?.[1];
        if (stream === 'out' && key === undefined) unexpected.push(line);
        if (key !== undefined) acked.push(key);
        if (acked.length >= acksBeforeKill) enough();
      },
    });
    try {
      // The writer exiting first is a failure too: race the acks against its exit.
      const early = writer.closed.then((s) => `writer exited early (${s.signal ?? s.code}) after ${acked.length} acks:\n${writer.logs()}`);
      let problem: string | undefined = `no ${acksBeforeKill} acks in ${deadlineMs} ms`;
      await within(Promise.race([enoughAcks.then(() => (problem = undefined)), early.then((why) => (problem = why))]), deadlineMs);
      assert.equal(problem, undefined, problem);
      writer.kill('SIGKILL');
      // 'closed' comes after stdout has been read to the end, so no ack is missed.
      assert.ok(await within(writer.closed, deadlineMs), 'the writer died in time');
      assert.equal((await writer.closed).signal, 'SIGKILL');
      assert.deepEqual(unexpected, [], 'the writer prints only acks on stdout');

      assert.equal(new Set(acked).size, acked.length, 'each key acknowledged once');
      const raw = new Database(join(dir, 'kvorum.db'));
      try {
        assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
      } finally {
        raw.close();
      }
      const storage = SqliteStorage.open({ dir });
      try {
        const decoder = new TextDecoder();
        for (const key of acked) {
          const value = (await storage.get(key))?.siblings[0]?.value;
          assert.ok(value?.kind === 'value', `acknowledged ${key} is present`);
          assert.equal(decoder.decode(value.data), `value of ${key}`);
          const meta = await storage.getMeta(key);
          assert.ok(meta !== undefined, `acknowledged meta record ${key} is present`);
          assert.equal(decoder.decode(meta), `value of ${key}`);
        }
        // The persisted trees moved in the transactions that committed, and only in those.
        const used = Array.from({ length: 64 }, (_, p) => asPartitionId(p));
        await assertTreesMatchRows(storage, 'after SIGKILL', used);
      } finally {
        await storage.close();
      }
    } finally {
      writer.kill('SIGKILL'); // by pid, only if it still runs
      await rm(dir, { recursive: true, force: true });
      forgetTempDir(dir);
    }
  });
});
