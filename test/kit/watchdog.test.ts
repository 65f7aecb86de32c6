// The watchdog (watchdog.ts + watchdog-process.mjs) is the last line of defence: when a harness
// dies without cleaning up, the children it started are stopped and its temp dirs removed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './paths.js';
import { Proc } from './proc.js';
import { waitFor } from './wait.js';

/** False once `pid` no longer runs (gone, or a zombie waiting to be reaped). */
function runs(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('watchdog', { skip: !existsSync('/proc/self') && 'needs /proc' }, () => {
  it('stops a dead harness\'s children (SIGCONT first, so a paused one too) and removes its temp dirs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvorum-watchdog-'));
    let childPid: number | undefined;
    const harness = new Proc('harness', ['--import', 'tsx', join(repoRoot, 'test/kit/watchdog-fixture.ts'), dir], {
      onLine: (line) => void (childPid ??= (JSON.parse(line) as { childPid?: number }).childPid),
    });
    try {
      const pid = await waitFor(() => childPid, { timeoutMs: 20_000, what: 'the harness to print its child pid' });
      assert.ok(runs(pid), 'the child runs while its harness does');
      process.kill(pid, 'SIGSTOP');
      harness.kill('SIGKILL');
      await harness.waitExit(5000);
      await waitFor(() => !runs(pid), { timeoutMs: 10_000, what: `the watchdog to stop the paused child ${pid}` });
      await waitFor(() => !existsSync(dir), { timeoutMs: 5000, what: `the watchdog to remove ${dir}` });
    } finally {
      harness.kill('SIGKILL');
      if (childPid !== undefined && runs(childPid)) process.kill(childPid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
