// A tiny detached watchdog: if the runner dies without cleaning up (SIGKILL, crash), the pipe to
// the watchdog closes and it SIGCONTs then SIGKILLs every node pid we registered and have not seen
// exit, after checking /proc that the pid still runs our command (no pid reuse), then removes the
// temp dirs. Normal cleanup happens in cluster.ts; this is only the last line of defence.
import { spawn, type ChildProcess } from 'node:child_process';

const script = `
const fs = require('node:fs');
const pids = new Map();
const dirs = new Set();
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [op, pid, marker] = buf.slice(0, i).split('\\t');
    buf = buf.slice(i + 1);
    if (op === 'add') pids.set(Number(pid), marker);
    else if (op === 'del') pids.delete(Number(pid));
    else if (op === 'dir') dirs.add(marker);
    else if (op === 'undir') dirs.delete(marker);
  }
});
const ours = (pid, marker) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes(marker); } catch { return false; } };
process.stdin.on('end', () => {
  for (const [pid, marker] of pids) if (ours(pid, marker)) { try { process.kill(pid, 'SIGCONT'); process.kill(pid, 'SIGKILL'); } catch {} }
  setTimeout(() => { for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} } process.exit(0); }, 500);
});
`;

let watchdog: ChildProcess | undefined;

function send(op: 'add' | 'del' | 'dir' | 'undir', pid: number, marker = ''): void {
  if (!watchdog) {
    watchdog = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
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
