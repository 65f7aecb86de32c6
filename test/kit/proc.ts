// Child processes started by tests, benches and the jepsen runner (node running a script): output
// kept (last lines, or appended to a log file), exit observable with a deadline, and registered
// with the watchdog so they are stopped even if this process dies first. Kill only by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { repoRoot } from './paths.js';
import { unwatchDir, unwatchPid, watchDir, watchPid } from './watchdog.js';

const logLinesKept = 200;

/** A temp dir the watchdog removes if this process dies before its cleanup; forget it once removed. */
export const registerTempDir = watchDir;
export const forgetTempDir = unwatchDir;

/** Every child any harness in this process started and has not seen exit: SIGKILLed if we die. */
const liveChildren = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGCONT');
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ProcOptions {
  /** Every output line is also appended here (one sink shared by a cluster's processes, last lines kept). */
  readonly sink?: string[];
  /** Output is appended to this file instead of being kept in memory (logs() is then empty). */
  readonly logFile?: string;
  /** Called with every output line as it arrives, and the stream it came on (not with logFile). */
  readonly onLine?: (line: string, stream: 'out' | 'err') => void;
  /** Variables added to the child's environment (jepsen-like's link hook reads its map's path there). */
  readonly env?: Readonly<Record<string, string>>;
  /** A command that runs node for us and execs it (jepsen-like's `ip netns exec NS`): the pid stays node's. */
  readonly prefix?: readonly string[];
}

/** A child process (node running `args`) with its output kept and its exit observable with a deadline. */
export class Proc {
  readonly child: ChildProcess;
  /** Resolves when the process exited. */
  readonly exited: Promise<ExitStatus>;
  /** Resolves when the process exited and its output was read to the end. */
  readonly closed: Promise<ExitStatus>;
  private readonly lines: string[] = [];

  constructor(
    readonly label: string,
    args: readonly string[],
    private readonly opts: ProcOptions = {},
  ) {
    const env = { ...process.env, ...opts.env };
    delete env['KVORUM_SECRET']; // a secret comes from the flags a harness passes, never from the environment
    const fd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a');
    try {
      const [command, ...prefixArgs] = [...(opts.prefix ?? []), process.execPath];
      this.child = spawn(command!, [...prefixArgs, ...args], { cwd: repoRoot, stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'], env });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    liveChildren.add(this.child);
    // The data dir (or, failing that, the whole command line) identifies the process in /proc.
    const marker = args.find((a) => a.startsWith(tmpdir())) ?? args.join('\0');
    if (this.child.pid !== undefined) watchPid(this.child.pid, marker);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        liveChildren.delete(this.child);
        if (this.child.pid !== undefined) unwatchPid(this.child.pid);
        resolve({ code, signal });
      });
      // spawn failure (no 'exit' then)
      this.child.once('error', (err) => {
        this.push('harness', `spawn error: ${err.message}`);
        liveChildren.delete(this.child);
        resolve({ code: null, signal: null });
      });
    });
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => resolve({ code, signal }));
      this.child.once('error', () => resolve({ code: null, signal: null }));
    });
    for (const [name, stream] of [['out', this.child.stdout], ['err', this.child.stderr]] as const) this.readLines(name, stream);
  }

  private readLines(name: 'out' | 'err', stream: NodeJS.ReadableStream | null): void {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.push(name, line);
    });
    stream?.on('end', () => {
      if (partial) this.push(name, partial);
      partial = '';
    });
  }

  private push(stream: 'out' | 'err' | 'harness', line: string): void {
    if (stream !== 'harness') this.opts.onLine?.(line, stream);
    const entry = `[${this.label} ${stream}] ${line}`;
    this.lines.push(entry);
    if (this.lines.length > logLinesKept) this.lines.shift();
    const sink = this.opts.sink;
    if (sink === undefined) return;
    sink.push(entry);
    if (sink.length > logLinesKept * 4) sink.shift();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined && liveChildren.has(this.child);
  }

  /** Signals the process by pid if it still runs (a no-op once it has exited). */
  kill(signal: NodeJS.Signals): void {
    if (!this.running || this.pid === undefined) return;
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // exited, not yet reported
    }
  }

  /** Resolves with the exit status, or rejects if the process is still running after `deadlineMs`. */
  async waitExit(deadlineMs: number): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label} (pid ${this.pid}) still running after ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of its output (empty when it writes to a log file). */
  logs(): string {
    return this.lines.join('\n');
  }
}
