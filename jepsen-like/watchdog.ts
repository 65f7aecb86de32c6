// A tiny detached watchdog: if this process dies without cleaning up (SIGKILL, crash, its test
// runner gone), the pipe to the watchdog closes and it stops every child pid we registered and
// have not seen exit: SIGCONT and SIGTERM (a `kvorum cluster` supervisor then stops its own
// nodes), SIGKILL 3 s later, each only after checking /proc that the pid still runs the command we
// started (no pid reuse); then it removes the registered temp dirs. Used by the jepsen-like
// harness and the tests' cluster helper; normal cleanup is theirs, this is the last line of defence.
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
const ours = (pid, marker) => {
  try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes(marker); }
  catch (e) { return e.code === 'ENOENT' && !fs.existsSync('/proc/self') ? true : false; }
};
const signal = (sig) => { for (const [pid, marker] of pids) if (ours(pid, marker)) { try { process.kill(pid, sig); } catch {} } };
const childrenOf = (pid) => {
  try { return fs.readFileSync('/proc/' + pid + '/task/' + pid + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean).map(Number); }
  catch { return []; }
};
process.stdin.on('end', () => {
  const removeDirs = () => { for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} } };
  if (pids.size === 0) { removeDirs(); process.exit(0); }
  // A supervisor's nodes too (their command lines contain its data dir).
  for (const [pid, marker] of [...pids]) for (const child of childrenOf(pid)) pids.set(child, marker);
  signal('SIGCONT'); // a paused (SIGSTOPped) node handles SIGTERM only once continued
  signal('SIGTERM');
  setTimeout(() => { signal('SIGKILL'); setTimeout(() => { removeDirs(); process.exit(0); }, 200); }, 3000);
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
