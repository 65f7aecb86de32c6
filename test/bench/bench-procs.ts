// The benches' processes: the no-op server, the load generators and any other child (the kit's
// Proc: watched, killed by pid if we die), anything else registered for cleanup (kvorum clusters,
// etcd), the temp dir, the CPU time of a set of pids, and one measured load phase. Cleanup runs
// once, on the normal end, on an error and on SIGINT/SIGTERM.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../kit/paths.js';
import { Proc } from '../kit/proc.js';
import { resultMarker, startMarker, type LoadResult, type LoadSpec } from './common.js';

const loadScript = join(repoRoot, 'test/bench/load.ts');
const noopScript = join(repoRoot, 'test/bench/noop-server.ts');
/** SIGTERM first; SIGKILL what still runs after this. */
export const stopGraceMs = 5000;
const listenDeadlineMs = 15_000;
const failedOutputLines = 40;

const children = new Set<Proc>();
/** Stops something the bench started (a cluster); run at cleanup, newest first, unless already done. */
const stoppers = new Set<() => Promise<void>>();
let tmpDir: string | undefined;

export function benchTmpDir(): string {
  tmpDir ??= mkdtempSync(join(os.tmpdir(), 'kvorum-bench-'));
  return tmpDir;
}

/** Registers `stop` for cleanup; the returned function runs it now (once) and unregisters it. */
export function onCleanup(stop: () => Promise<void>): () => Promise<void> {
  stoppers.add(stop);
  return async () => {
    if (!stoppers.delete(stop)) return;
    await stop();
  };
}

/** Starts `node args...` as a watched child of the bench: stopped by pid at cleanup if still running. */
export function startChild(name: string, args: string[], onLine?: (line: string) => void): Proc {
  const child = new Proc(name, args, onLine ? { onLine } : {});
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

async function stopProc(child: Proc): Promise<void> {
  child.kill('SIGTERM');
  await child.waitExit(stopGraceMs).catch(() => child.kill('SIGKILL'));
}

/** Stops the child the bench started with this pid (SIGTERM, SIGKILL after stopGraceMs); a no-op if it has exited. */
export async function stopChild(pid: number): Promise<void> {
  const child = [...children].find((c) => c.pid === pid);
  if (child !== undefined) await stopProc(child);
}

async function stopAll(): Promise<void> {
  const stopping = [...children].map(stopProc);
  const registered = [...stoppers].reverse();
  stoppers.clear();
  await Promise.all([...stopping, ...registered.map((stop) => stop().catch((err: unknown) => console.error(`cleanup: ${String(err)}`)))]);
}

function removeTmp(): void {
  if (tmpDir === undefined) return;
  rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

let cleaningUp: Promise<void> | undefined;
export function cleanup(): Promise<void> {
  cleaningUp ??= stopAll().finally(removeTmp);
  return cleaningUp;
}

let interrupted = false;
export const wasInterrupted = (): boolean => interrupted;

/** Installs the last-resort handlers: remove the temp dir on exit, clean up and exit on SIGINT/SIGTERM. */
export function installCleanupHandlers(): void {
  process.on('exit', removeTmp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping every child and removing ${tmpDir ?? 'temp dirs'}`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user+system) the processes have used so far; undefined where /proc is not available. */
export function cpuSeconds(pids: readonly number[]): number | undefined {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after "(comm)": state is the 1st, utime the 12th, stime the 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return undefined;
    }
  }
  return ticks / clockTicks;
}

/**
 * Like cpuSeconds, to the nanosecond instead of in clock ticks (10 ms): the sum over the processes'
 * threads of their time on a CPU (/proc/PID/task/TID/schedstat), user and system. A thread that has
 * exited no longer counts (Node's threads live as long as the process). Undefined without schedstat.
 */
export function cpuSecondsExact(pids: readonly number[]): number | undefined {
  let ns = 0;
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
      ns += Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return undefined;
    }
    for (const tid of tids) {
      if (tid === String(pid)) continue;
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread has just exited
      }
    }
  }
  return Number.isFinite(ns) ? ns / 1e9 : undefined;
}

export function failed(label: string, logs: string, why: string): Error {
  return new Error(`${label} ${why}; its last output:\n  ${logs.split('\n').slice(-failedOutputLines).join('\n  ') || '(none)'}`);
}

/** Starts noop-server.ts answering GETs with `valueBytes`-byte bodies. */
export function startNoop(valueBytes: number): Promise<{ pid: number; url: string }> {
  return startServer('noop-server', ['--import', 'tsx', noopScript, '--value-bytes', String(valueBytes)]);
}

/** Starts a server script that prints `{"port":N}` on stdout once it listens on 127.0.0.1:N. */
export function startServer(name: string, args: string[]): Promise<{ pid: number; url: string; port: number }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const child = startChild(name, args, (line) => {
      const m = /^\{"port":(\d+)\}$/.exec(line);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ pid: child.pid!, url: `http://127.0.0.1:${m[1]}`, port: Number(m[1]) });
      }
    });
    const timer = setTimeout(() => !done && ((done = true), reject(failed(child.label, child.logs(), `did not print its port within ${listenDeadlineMs / 1000} s`))), listenDeadlineMs);
    void child.exited.then(({ code }) => !done && ((done = true), clearTimeout(timer), reject(failed(child.label, child.logs(), `exited (code ${code}) before listening`))));
  });
}

/**
 * Runs load.ts with `spec` in its own process and returns its result. `onStart` and `onEnd` are
 * called as its load starts and as its result line arrives (the load has ended), before it exits.
 */
export async function runLoad(spec: LoadSpec, onStart?: () => void, onEnd?: () => void): Promise<LoadResult> {
  let line: string | undefined;
  const child = startChild(`load ${spec.method}`, ['--import', 'tsx', loadScript, JSON.stringify(spec)], (l) => {
    if (l === startMarker) onStart?.();
    if (!l.startsWith(resultMarker)) return;
    line = l;
    onEnd?.();
  });
  // closed, not exited: the result line must have been read from its stdout.
  const { code } = await child.closed;
  if (code !== 0 || line === undefined) throw failed(child.label, child.logs(), `exited with code ${code} without a result`);
  return JSON.parse(line.slice(resultMarker.length)) as LoadResult;
}

export interface Measured {
  readonly r: LoadResult;
  /** CPU seconds the target's server processes used while the load ran (start to result line). */
  readonly serverCpu: number | undefined;
}

/** Runs one measured phase and the target's server CPU use while its load runs. */
export async function measured(spec: LoadSpec, serverPids: readonly number[]): Promise<Measured> {
  let before: number | undefined;
  let after: number | undefined;
  const r = await runLoad(
    spec,
    () => (before = cpuSeconds(serverPids)),
    () => (after = cpuSeconds(serverPids)),
  );
  return { r, serverCpu: before === undefined || after === undefined ? undefined : after - before };
}
