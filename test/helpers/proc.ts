// Child processes started by tests: output kept (last lines), exit observable with a deadline, and
// registered with the watchdog so they are stopped even if this test process dies first.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unwatchDir, unwatchPid, watchDir, watchPid } from '../../jepsen-like/watchdog.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = join(repoRoot, 'dist', 'cli', 'kvorum.js');

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

/** A child process with its output kept (last lines) and its exit observable with a deadline. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  private readonly lines: string[] = [];

  constructor(
    readonly label: string,
    args: readonly string[],
    private readonly sink: string[] = [],
  ) {
    const env = { ...process.env };
    delete env['KVORUM_SECRET']; // a secret comes from the flags a test passes, never from the environment
    this.child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
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
    for (const [name, stream] of [['out', this.child.stdout], ['err', this.child.stderr]] as const) {
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
  }

  private push(stream: string, line: string): void {
    const entry = `[${this.label} ${stream}] ${line}`;
    this.lines.push(entry);
    if (this.lines.length > logLinesKept) this.lines.shift();
    this.sink.push(entry);
    if (this.sink.length > logLinesKept * 4) this.sink.shift();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined && liveChildren.has(this.child);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running && this.pid !== undefined) process.kill(this.pid, signal);
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

  logs(): string {
    return this.lines.join('\n');
  }
}
