// Kills a writing process with SIGKILL and checks that every write it acknowledged survived.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { repoRoot } from '../kit/paths.js';

const writerPath = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const acksBeforeKill = 2000;
const deadlineMs = 30_000;

describe('SqliteStorage crash safety', () => {
  it('keeps every acknowledged write after SIGKILL', { timeout: 2 * deadlineMs }, async () => {
    const deadline = Date.now() + deadlineMs;
    /** Fails instead of hanging if `p` has not settled by the test's deadline. */
    async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`deadline passed while ${what}`)), Math.max(0, deadline - Date.now()));
      });
      try {
        return await Promise.race([p, late]);
      } finally {
        clearTimeout(timer);
      }
    }

    const dir = await mkdtemp(join(tmpdir(), 'kvorum-crash-'));
    const child = spawn(process.execPath, ['--import', 'tsx', writerPath, dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const acked: string[] = [];
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
      // 'close' comes after stdout has been fully read, so no ack is missed.
      const closed = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
      const enoughAcks = new Promise<void>((resolve, reject) => {
        let partial = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? ''; // an unterminated line is not (yet) an ack
          for (const line of lines) {
            const m = /^ack (k\d+)$/.exec(line);
            if (m?.[1] === undefined) reject(new Error(`unexpected writer output: ${line}`));
            else acked.push(m[1]);
          }
          if (acked.length >= acksBeforeKill) resolve();
        });
        void closed.then((signal) => reject(new Error(`writer exited early (${signal}) after ${acked.length} acks: ${stderr}`)));
      });

      await bounded(enoughAcks, `waiting for ${acksBeforeKill} acks`);
      assert.ok(child.kill('SIGKILL'), 'SIGKILL delivered');
      assert.equal(await bounded(closed, 'waiting for the writer to die'), 'SIGKILL');

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
        }
      } finally {
        await storage.close();
      }
    } finally {
      // Only the child started above; kill() is a no-op once it has exited.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
