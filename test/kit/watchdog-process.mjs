// The watchdog program (started by watchdog.ts, detached, one per harness process). It reads lines
// `op\tpid\tmarker` on stdin: `add` a child pid (marker: a string of its command line, its data
// dir), `del` it once it exited, `dir`/`undir` a temp dir to remove. When stdin ends (the harness
// exited or died), it stops every pid still registered and the children of each (a `kvorum
// cluster` supervisor's nodes): SIGCONT (a paused node handles SIGTERM only once continued), then
// SIGTERM, SIGKILL 3 s later, each only after checking /proc that the pid still runs the command
// we started (no pid reuse); then it removes the registered dirs and exits.
import { existsSync, readFileSync, rmSync } from 'node:fs';

const killGraceMs = 3000;
const pids = new Map();
const dirs = new Set();

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
    const [op, pid, marker] = pending.slice(0, end).split('\t');
    pending = pending.slice(end + 1);
    if (op === 'add') pids.set(Number(pid), marker);
    else if (op === 'del') pids.delete(Number(pid));
    else if (op === 'dir') dirs.add(marker);
    else if (op === 'undir') dirs.delete(marker);
  }
});

/** True if `pid` still runs a command line containing `marker` (or if there is no /proc to ask). */
function ours(pid, marker) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch (err) {
    return err.code === 'ENOENT' && !existsSync('/proc/self');
  }
}

function signalAll(signal) {
  for (const [pid, marker] of pids) {
    if (!ours(pid, marker)) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function removeDirsAndExit() {
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  process.exit(0);
}

process.stdin.on('end', () => {
  if (pids.size === 0) removeDirsAndExit();
  // A supervisor's nodes too (their command lines contain its data dir).
  for (const [pid, marker] of [...pids]) for (const child of childrenOf(pid)) pids.set(child, marker);
  signalAll('SIGCONT');
  signalAll('SIGTERM');
  setTimeout(() => {
    signalAll('SIGKILL');
    setTimeout(removeDirsAndExit, 200);
  }, killGraceMs);
});
