// Test harness for integration tests: real `kvorum start` processes on free 127.0.0.1 ports, each
// with its own temp data dir, plus small polling and HTTP helpers. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unwatchDir, unwatchPid, watchDir, watchPid } from '../../jepsen-like/watchdog.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = join(repoRoot, 'dist', 'cli', 'kvorum.js');

const logLinesKept = 200;
const healthDeadlineMs = 20_000;

// ---------------------------------------------------------------------------------------------
// Polling

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** What is being waited for, for the error message. */
  readonly what: string;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Thrown by a waitFor condition to stop waiting at once (the awaited thing can no longer happen). */
export class GiveUp extends Error {
  override readonly name = 'GiveUp';
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or the deadline passes,
 * then throws an error naming `what` (and the last error the condition threw, if any). A condition
 * that throws counts as "not yet", except for GiveUp, which ends the wait with that error.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      if (err instanceof GiveUp) throw new Error(`gave up waiting for ${opts.what}: ${err.message}`);
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await pause(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  text(): string;
  json<T = any>(): T;
}

export interface HttpOptions {
  /** A string is sent as UTF-8 bytes with no implicit Content-Type. */
  readonly body?: Buffer | Uint8Array | string;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** One HTTP request with global fetch and a per-request deadline. Never follows redirects. */
export async function http(method: string, url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Buffers, not strings: fetch would add `Content-Type: text/plain;charset=UTF-8` to a string body.
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: opts.headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    const wrapped = new Error(`${method} ${url} failed: ${detail}`) as Error & { code?: string };
    wrapped.code = cause?.code ?? (err as Error).name;
    throw wrapped;
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body: bytes,
    text: () => bytes.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new Error(`${method} ${url}: expected JSON, got ${res.status} ${JSON.stringify(bytes.toString('utf8').slice(0, 300))}`);
      }
    },
  };
}

/** True when nothing accepts TCP connections on host:port (connection refused). */
export function portRefuses(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err.code === 'ECONNREFUSED');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Ports

function listenOn(port: number, host = '127.0.0.1'): Promise<import('node:net').Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: import('node:net').Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct ports the OS says are free: all held open at once, then released together. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOn(0));
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

/** A base port P such that P..P+count-1 are all free right now (retrying other bases if not). */
export async function freeConsecutivePorts(count: number, attempts = 50): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const held: import('node:net').Server[] = [];
    try {
      for (let i = 0; i < count; i++) held.push(await listenOn(base + i));
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(held.map(closeServer));
    }
  }
  throw new Error(`no ${count} consecutive free ports found after ${attempts} attempts`);
}

// ---------------------------------------------------------------------------------------------
// Child processes

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

// ---------------------------------------------------------------------------------------------
// Cluster

export interface TestNode {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The pid of the current process, undefined once it has exited. */
  pid(): number | undefined;
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
  /**
   * Starts the node again (same id, port, data dir, flags) and waits for /health 200. With
   * `wipeData`, its data directory is removed first: the node comes back empty, same id.
   */
  restart(opts?: RestartOptions): Promise<void>;
  waitExit(deadlineMs: number): Promise<ExitStatus>;
  logs(): string;
}

export interface TestCluster {
  readonly nodes: TestNode[];
  /** Node by id (throws if unknown). */
  node(id: string): TestNode;
  /** The last lines of every node's output, interleaved in arrival order. */
  logs(): string;
  /** SIGKILLs the processes it started that still run, then removes the temp dirs. */
  stop(): Promise<void>;
}

export interface RestartOptions {
  /** Remove the node's data directory before starting it (it restarts empty, with the same id). */
  readonly wipeData?: boolean;
}

export interface ClusterOptions {
  readonly nodes: number;
  readonly n?: number;
  readonly secret?: string;
  /** Flags appended to every node's `kvorum start` command line. */
  readonly extraArgs?: readonly string[];
  /** Flags appended after `extraArgs` for one node (by id n1..nK and index), e.g. per-node settings. */
  readonly nodeArgs?: (id: string, index: number) => readonly string[];
  readonly healthDeadlineMs?: number;
}

export async function waitHealthy(url: string, deadlineMs = healthDeadlineMs, alive?: () => boolean): Promise<void> {
  await waitFor(
    async () => {
      if (alive && !alive()) throw new GiveUp(`the process serving ${url} exited`);
      const res = await http('GET', `${url}/health`, { timeoutMs: 1000 });
      return res.status === 200;
    },
    { timeoutMs: deadlineMs, intervalMs: 100, what: `GET ${url}/health to answer 200` },
  );
}

/**
 * Starts `opts.nodes` nodes (n1..nK) and waits until every one answers /health 200. Ports are
 * free when picked but could be taken before a node binds (another test's connection): then the
 * whole cluster is started again on new ports, up to 3 times.
 */
export async function startCluster(opts: ClusterOptions): Promise<TestCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err as { portInUse?: boolean }).portInUse) throw err;
    }
  }
}

async function startClusterOnce(opts: ClusterOptions): Promise<TestCluster> {
  const ports = await freePorts(opts.nodes);
  const ids = ports.map((_, i) => `n${i + 1}`);
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const peers = ids.map((id, i) => `${id}=${urls[i]}`).join(',');
  const root = await mkdtemp(join(tmpdir(), 'kvorum-it-'));
  registerTempDir(root);
  const sink: string[] = [];
  const procs: Proc[] = [];
  const allProcs: Proc[] = [];

  const argsFor = (i: number): string[] => {
    const args = [cliPath, 'start', '--id', ids[i]!, '--listen', `127.0.0.1:${ports[i]}`, '--data-dir', join(root, ids[i]!), '--peers', peers];
    if (opts.n !== undefined) args.push('--n', String(opts.n));
    if (opts.secret !== undefined) args.push('--secret', opts.secret);
    args.push(...(opts.extraArgs ?? []));
    args.push(...(opts.nodeArgs?.(ids[i]!, i) ?? []));
    return args;
  };
  const spawnNode = (i: number): Proc => {
    const proc = new Proc(ids[i]!, argsFor(i), sink);
    procs[i] = proc;
    allProcs.push(proc);
    return proc;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const proc of allProcs) proc.kill('SIGKILL');
    await Promise.all(allProcs.map((p) => p.waitExit(5000).catch(() => undefined)));
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
    forgetTempDir(root);
  };

  const nodes: TestNode[] = ids.map((id, i) => ({
    id,
    url: urls[i]!,
    port: ports[i]!,
    dataDir: join(root, id),
    pid: () => (procs[i]!.running ? procs[i]!.pid : undefined),
    running: () => procs[i]!.running,
    kill: (signal) => procs[i]!.kill(signal),
    waitExit: (deadlineMs) => procs[i]!.waitExit(deadlineMs),
    logs: () => procs[i]!.logs(),
    restart: async (restartOpts) => {
      if (procs[i]!.running) throw new Error(`restart ${id}: it is still running (pid ${procs[i]!.pid}); kill it first`);
      if (restartOpts?.wipeData) await rm(join(root, id), { recursive: true, force: true, maxRetries: 3 });
      const proc = spawnNode(i);
      await waitHealthy(urls[i]!, opts.healthDeadlineMs ?? healthDeadlineMs, () => proc.running);
    },
  }));

  const cluster: TestCluster = {
    nodes,
    node: (id) => {
      const found = nodes.find((n) => n.id === id);
      if (!found) throw new Error(`no node ${id}`);
      return found;
    },
    logs: () => sink.join('\n'),
    stop,
  };

  try {
    ids.forEach((_, i) => spawnNode(i));
    await Promise.all(urls.map((u, i) => waitHealthy(u, opts.healthDeadlineMs ?? healthDeadlineMs, () => procs[i]!.running)));
  } catch (err) {
    const logs = cluster.logs();
    await stop();
    const failure = new Error(`${(err as Error).message}\n--- node output ---\n${logs}`) as Error & { portInUse?: boolean };
    failure.portInUse = /EADDRINUSE/.test(logs);
    throw failure;
  }
  return cluster;
}

/** Runs `fn`; if it throws, prints the recent node output (from `logs`) before rethrowing. */
export async function withLogs<T>(logs: () => string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    let output: string;
    try {
      output = logs();
    } catch {
      output = '(no output available)';
    }
    console.error(`--- recent node output (test failed: ${(err as Error).message?.split('\n')[0]}) ---\n${output}\n--- end ---`);
    throw err;
  }
}
