// A cluster of real `kvorum start` processes (n1..nK, peers wired directly) on free 127.0.0.1
// ports, each with its own temp data dir and its output kept in memory: what integration tests,
// the fuzzer and the benches start. Nodes can be killed and restarted on their own port. Every
// wait is bounded. (jepsen-like/cluster.ts wires nodes through link proxies instead, with the same
// Proc, ports and health wait.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { waitHealthy } from './http.js';
import { kvorumStartArgs } from './node-args.js';
import { freePorts } from './ports.js';
import { forgetTempDir, Proc, registerTempDir, type ExitStatus } from './proc.js';

const healthDeadlineMs = 20_000;

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
  /**
   * Starts a new node `id` with `--join` through `through` (a member's URL) on a free port and waits
   * for /health 200; it is then in `nodes` like the others. Flags as for every node, plus `args`.
   */
  join(id: string, through: string, args?: readonly string[]): Promise<TestNode>;
  /** SIGKILLs the processes it started that still run, then removes the temp dirs. */
  stop(): Promise<void>;
  /** With `https`: a dispatcher trusting its CA, for test/kit/http.ts `http(..., { dispatcher })`. */
  readonly dispatcher: Dispatcher | undefined;
}

export interface RestartOptions {
  /** Remove the node's data directory before starting it (it restarts empty, with the same id). */
  readonly wipeData?: boolean;
}

export interface TestClusterOptions {
  readonly nodes: number;
  readonly n?: number;
  readonly secret?: string;
  /** Flags appended to every node's `kvorum start` command line. */
  readonly extraArgs?: readonly string[];
  /** Flags appended after `extraArgs` for one node (by id n1..nK and index), e.g. per-node settings. */
  readonly nodeArgs?: (id: string, index: number) => readonly string[];
  readonly healthDeadlineMs?: number;
  /** Node's own flags for every node process, before the script (e.g. `--import` of a test hook). */
  readonly nodeExecArgs?: readonly string[];
  /**
   * HTTPS nodes: their URLs (in --peers and `nodes`) are https, and the kit trusts `ca` (PEM) when it
   * waits for /health. The nodes' --tls-* flags come from `extraArgs`/`nodeArgs` (test/kit/certs.ts).
   */
  readonly https?: { readonly ca: string | Buffer };
}

/**
 * Starts `opts.nodes` nodes (n1..nK) and waits until every one answers /health 200. Ports are
 * free when picked but could be taken before a node binds (another test's connection): then the
 * whole cluster is started again on new ports, up to 3 times.
 */
export async function startCluster(opts: TestClusterOptions): Promise<TestCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err as { portInUse?: boolean }).portInUse) throw err;
    }
  }
}

async function startClusterOnce(opts: TestClusterOptions): Promise<TestCluster> {
  const ports = await freePorts(opts.nodes);
  const ids = ports.map((_, i) => `n${i + 1}`);
  const scheme = opts.https ? 'https' : 'http';
  const dispatcher = opts.https ? new Agent({ connect: { ca: opts.https.ca } }) : undefined;
  const urls = ports.map((p) => `${scheme}://127.0.0.1:${p}`);
  /** Per node: its --join URL if it joined, else it starts with --peers. */
  const joins: (string | undefined)[] = [];
  /** Per node: flags of its own (a joined node's), kept for restarts. */
  const ownArgs: (readonly string[])[] = [];
  const peers = ids.map((id, i) => `${id}=${urls[i]}`).join(',');
  const root = await mkdtemp(join(tmpdir(), 'kvorum-it-'));
  registerTempDir(root);
  const sink: string[] = [];
  const procs: Proc[] = [];
  const allProcs: Proc[] = [];

  const argsFor = (i: number): string[] => {
    const extraArgs = [...(opts.extraArgs ?? []), ...(opts.nodeArgs?.(ids[i]!, i) ?? []), ...(ownArgs[i] ?? [])];
    const membership = joins[i] === undefined ? { peers } : { join: joins[i] };
    return kvorumStartArgs({ id: ids[i]!, port: ports[i]!, dataDir: join(root, ids[i]!), ...membership, n: opts.n, secret: opts.secret, extraArgs, execArgs: opts.nodeExecArgs });
  };
  const spawnNode = (i: number): Proc => {
    const proc = new Proc(ids[i]!, argsFor(i), { sink });
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
    await dispatcher?.close();
  };

  const testNode = (id: string, i: number): TestNode => ({
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
      await waitHealthy(urls[i]!, opts.healthDeadlineMs ?? healthDeadlineMs, () => proc.running, dispatcher);
    },
  });
  const nodes: TestNode[] = ids.map(testNode);
  const joinNode = async (id: string, through: string, args: readonly string[] = []): Promise<TestNode> => {
    const [port] = await freePorts(1);
    const i = ids.length;
    ids.push(id);
    ports.push(port!);
    urls.push(`${scheme}://127.0.0.1:${port}`);
    joins[i] = through;
    ownArgs[i] = args;
    const node = testNode(id, i);
    nodes.push(node);
    const proc = new Proc(id, argsFor(i), { sink });
    procs[i] = proc;
    allProcs.push(proc);
    await waitHealthy(urls[i]!, opts.healthDeadlineMs ?? healthDeadlineMs, () => proc.running, dispatcher);
    return node;
  };

  const cluster: TestCluster = {
    nodes,
    node: (id) => {
      const found = nodes.find((n) => n.id === id);
      if (!found) throw new Error(`no node ${id}`);
      return found;
    },
    logs: () => sink.join('\n'),
    join: joinNode,
    stop,
    dispatcher,
  };

  try {
    ids.forEach((_, i) => spawnNode(i));
    await Promise.all(urls.map((u, i) => waitHealthy(u, opts.healthDeadlineMs ?? healthDeadlineMs, () => procs[i]!.running, dispatcher)));
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
