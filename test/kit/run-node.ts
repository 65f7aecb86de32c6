// Runs one short-lived Node program to completion (the CLI, an example script) and collects its
// output; bounded: past the deadline it is killed by pid and the run fails.
import { spawn } from 'node:child_process';
import { repoRoot } from './paths.js';

export interface NodeRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface RunNodeOptions {
  readonly deadlineMs: number;
  readonly stdin?: Buffer | string;
  readonly env?: NodeJS.ProcessEnv;
}

/** `node ARGS` from the repository root, fed `stdin` (none: closed at once). */
export function runNode(args: readonly string[], opts: RunNodeOptions): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`node ${args.join(' ')}: still running after ${opts.deadlineMs} ms`));
    }, opts.deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.stdin);
  });
}
