// K real `kvorum start` processes on 127.0.0.1, wired so that node-to-node traffic goes through one
// LinkProxy per directed link (A's --peers names the proxy A->B for every other node B) while
// clients talk to nodes directly. It kills, pauses, wipes and restarts only the pids it started,
// and stops all of them (SIGCONT first) on stop(), on process exit and on SIGINT/SIGTERM. Node
// processes, ports and the health wait are the test kit's (test/kit/), as for the tests' clusters.
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitHealthy } from '../test/kit/http.js';
import { kvorumStartArgs } from '../test/kit/node-args.js';
import { freePorts } from '../test/kit/ports.js';
import { forgetTempDir, Proc, registerTempDir } from '../test/kit/proc.js';
import { sleep, within } from '../test/kit/wait.js';
import { LinkProxy, pass, type LinkMode } from './proxy.js';

export interface ProcessClusterOptions {
  readonly nodes: number;
  readonly n: number;
  /** Node logs go to `${logDir}/<id>.log`. */
  readonly logDir: string;
  /** Flags appended to every node's command line (convergence knobs, log level). */
  readonly extraArgs: readonly string[];
  readonly healthDeadlineMs?: number;
}

export type NodeState = 'up' | 'killed' | 'paused';

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  state: NodeState;
  /** The node's current (or last) process. */
  proc: Proc | undefined;
}

const live = new Set<ProcessCluster>();
process.once('exit', () => {
  for (const c of live) c.killAllSync();
});
// Installed only while a cluster runs, so that importing this module changes no signal behaviour.
const onSignal = (sig: NodeJS.Signals) => {
  for (const c of live) c.killAllSync();
  process.exit(sig === 'SIGINT' ? 130 : 143);
};
function track(cluster: ProcessCluster): void {
  if (live.size === 0) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, onSignal);
  live.add(cluster);
}
function untrack(cluster: ProcessCluster): void {
  live.delete(cluster);
  if (live.size === 0) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
}

export class ProcessCluster {
  readonly nodes: ClusterNode[];
  /** proxies.get(`${a}->${b}`): the link node a uses to reach node b. */
  private readonly proxies = new Map<string, LinkProxy>();
  private stopped = false;

  private constructor(
    private readonly opts: ProcessClusterOptions,
    private readonly root: string,
    ports: number[],
  ) {
    this.nodes = ports.map((port, i) => {
      const id = `n${i + 1}`;
      return { id, port, url: `http://127.0.0.1:${port}`, dataDir: join(root, id), state: 'killed', proc: undefined };
    });
  }

  static async start(opts: ProcessClusterOptions): Promise<ProcessCluster> {
    mkdirSync(opts.logDir, { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const root = await mkdtemp(join(tmpdir(), 'kvorum-jepsen-'));
      registerTempDir(root);
      const cluster = new ProcessCluster(opts, root, await freePorts(opts.nodes));
      track(cluster);
      try {
        for (const a of cluster.nodes) {
          for (const b of cluster.nodes) {
            if (a !== b) cluster.proxies.set(`${a.id}->${b.id}`, await LinkProxy.start(`${a.id}->${b.id}`, b.port));
          }
        }
        await Promise.all(cluster.nodes.map((node) => cluster.startNode(node)));
        return cluster;
      } catch (err) {
        await cluster.stop();
        // A port picked free may have been taken before the node bound it: try new ports.
        if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
      }
    }
  }

  node(id: string): ClusterNode {
    const found = this.nodes.find((n) => n.id === id);
    if (!found) throw new Error(`no node ${id}`);
    return found;
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  link(from: string, to: string): LinkProxy {
    const proxy = this.proxies.get(`${from}->${to}`);
    if (!proxy) throw new Error(`no link ${from}->${to}`);
    return proxy;
  }

  setLink(from: string, to: string, mode: LinkMode): void {
    this.link(from, to).setMode(mode);
  }

  private argsFor(node: ClusterNode): string[] {
    const peers = this.nodes.map((b) => `${b.id}=${b === node ? b.url : this.link(node.id, b.id).url}`).join(',');
    return kvorumStartArgs({ id: node.id, port: node.port, dataDir: node.dataDir, peers, n: this.opts.n, extraArgs: this.opts.extraArgs });
  }

  private logFile(node: ClusterNode): string {
    return join(this.opts.logDir, `${node.id}.log`);
  }

  /** Spawns the node (appending to its log) and waits until /health answers 200. */
  async startNode(node: ClusterNode): Promise<void> {
    if (this.stopped) throw new Error('cluster stopped');
    if (node.proc?.running && node.state !== 'killed') throw new Error(`${node.id} is still running`);
    const log = this.logFile(node);
    appendFileSync(log, `\n=== harness: starting ${node.id} at ${new Date().toISOString()}\n`);
    const proc = new Proc(node.id, this.argsFor(node), { logFile: log });
    node.proc = proc;
    node.state = 'up';
    void proc.exited.then(({ code, signal }) => {
      if (node.proc === proc) node.state = 'killed';
      try {
        appendFileSync(log, `=== harness: ${node.id} exited (code ${code}, signal ${signal}) at ${new Date().toISOString()}\n`);
      } catch {
        // the run directory is gone: nothing to note
      }
    });
    await this.waitHealthy(node, proc);
  }

  private async waitHealthy(node: ClusterNode, proc: Proc): Promise<void> {
    const deadlineMs = this.opts.healthDeadlineMs ?? 20_000;
    try {
      await waitHealthy(node.url, deadlineMs, () => proc.running);
    } catch (err) {
      if (proc.running) throw new Error(`${node.id} not healthy after ${deadlineMs} ms`, { cause: err });
      const tail = readFileSync(this.logFile(node), 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`${node.id} exited before becoming healthy (log ${this.logFile(node)}):\n${tail}`);
    }
  }

  /** SIGKILL and wait (bounded) for the exit. */
  async kill(id: string): Promise<void> {
    const node = this.node(id);
    const proc = node.proc;
    if (proc?.running) {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await within(proc.exited, 5000);
    }
    node.state = 'killed';
  }

  async restart(id: string): Promise<void> {
    const node = this.node(id);
    if (node.state === 'paused') await this.resume(id);
    if (node.state === 'up') return;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startNode(node);
      } catch (err) {
        // Something bound the port while the node was down: wait for it to go away.
        if (attempt >= 5 || !/EADDRINUSE/.test((err as Error).message)) throw err;
        await sleep(1000);
      }
    }
  }

  pause(id: string): void {
    const node = this.node(id);
    if (node.state !== 'up' || !node.proc) return;
    node.proc.kill('SIGSTOP');
    node.state = 'paused';
  }

  async resume(id: string): Promise<void> {
    const node = this.node(id);
    if (node.state !== 'paused' || !node.proc) return;
    node.proc.kill('SIGCONT');
    node.state = 'up';
  }

  /** Kill, delete the data dir (the node comes back empty, same id). Restart separately. */
  async wipe(id: string): Promise<void> {
    await this.kill(id);
    await rm(this.node(id).dataDir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Every link back to pass, every paused node resumed, every killed node restarted. */
  async healAll(): Promise<void> {
    for (const proxy of this.proxies.values()) proxy.setMode(pass);
    for (const node of this.nodes) if (node.state === 'paused') await this.resume(node.id);
    await Promise.all(this.nodes.filter((n) => n.state === 'killed').map((n) => this.startNode(n)));
  }

  /** Synchronous last resort (process exit): SIGCONT + SIGKILL every child still running. */
  killAllSync(): void {
    for (const node of this.nodes) {
      try {
        node.proc?.kill('SIGCONT');
        node.proc?.kill('SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      rmSync(this.root, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }

  /** Stops every node it started, closes the proxies, removes the data dirs. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.nodes.map((n) => this.kill(n.id)));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    await rm(this.root, { recursive: true, force: true, maxRetries: 3 });
    forgetTempDir(this.root);
    untrack(this);
  }
}
