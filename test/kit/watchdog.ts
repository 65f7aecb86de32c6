// A tiny detached watchdog: if this process dies without cleaning up (SIGKILL, crash, its test
// runner gone), the pipe to the watchdog closes and it stops every child pid we registered and
// have not seen exit: SIGCONT and SIGTERM (a `kvorum cluster` supervisor then stops its own
// nodes), SIGKILL 3 s later, each only after checking /proc that the pid still runs the command we
// started (no pid reuse); then it removes the registered temp dirs. The program is
// watchdog-process.mjs; this is its client. Used by every harness that starts processes (proc.ts,
// jepsen's cluster); normal cleanup is theirs, this is the last line of defence.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const watchdogProgram = fileURLToPath(new URL('./watchdog-process.mjs', import.meta.url));

let watchdog: ChildProcess | undefined;

function send(op: 'add' | 'del' | 'dir' | 'undir', pid: number, marker = ''): void {
  if (!watchdog) {
    watchdog = spawn(process.execPath, [watchdogProgram], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog.stdin?.on('error', () => undefined);
  }
  watchdog.stdin?.write(`${op}\t${pid}\t${marker.replace(/[\t\n]/g, ' ')}\n`);
}

/** `marker` is a string of the child's command line that identifies it (its data dir). */
export const watchPid = (pid: number, marker: string) => send('add', pid, marker);
export const unwatchPid = (pid: number) => send('del', pid);
export const watchDir = (dir: string) => send('dir', 0, dir);
export const unwatchDir = (dir: string) => send('undir', 0, dir);
