// Real `kvorum start` processes on 127.0.0.1 whose node-to-node traffic goes through one LinkProxy
// per directed link, so the nemesis can cut A->B without touching B; clients talk to nodes
// directly. Every node is known to the cluster by the URL it listens on (the ring carries one URL
// per member, the same on every node); link-hook.mjs, loaded into each node, sends its connections
// to another node's port through the proxy A->B instead, following a per-node map file the cluster
// rewrites when a node joins. Nodes can join later (`addJoiner`, started with --join) and leave
// for good (`retire`, or stopping themselves once removed: state `gone`, never restarted).
// It kills, pauses, wipes and restarts only the pids it started, and stops all of them (SIGCONT
// first) on stop(), on process exit and on SIGINT/SIGTERM.
// With --netns (netns.ts) there are no proxies and no hook: every node runs in its own network
// namespace under `ip netns exec`, on port 7070 of its own address, and links are cut by packet
// filters there (setLink); the caller owns the namespaces. Node processes, ports and the health
// wait are the test kit's (test/kit/), as for the tests' clusters.
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitHealthy } from '../test/kit/http.js';
import { kvorumStartArgs } from '../test/kit/node-args.js';
import { freePorts } from '../test/kit/ports.js';
import { forgetTempDir, Proc, registerTempDir } from '../test/kit/proc.js';
import { sleep, within } from '../test/kit/wait.js';
import type { Netns } from './netns.js';
import { LinkProxy, pass, type LinkMode } from './proxy.js';

const linkHook = fileURLToPath(new URL('./link-hook.mjs', import.meta.url));

export interface ProcessClusterOptions {
  readonly nodes: number;
  readonly n: number;
  /** Node logs go to `${logDir}/<id>.log`. */
  readonly logDir: string;
  /** Flags appended to every node's command line (convergence knobs, log level). */
  readonly extraArgs: readonly string[];
  readonly healthDeadlineMs?: number;
  /**
   * --netns: each node runs in its namespace (`ip netns exec`), listens on 0.0.0.0:netnsPort there
   * and advertises its namespace address; links are cut by the namespaces' packet filters, not by
   * proxies. The caller creates and destroys it.
   */
  readonly netns?: Netns;
}

/** Every node's port with --netns: the same on each, as on separate hosts. */
export const netnsPort = 7070;

/** `gone`: out of the cluster for good (removed and stopped itself, or retired): never restarted. */
export type NodeState = 'up' | 'killed' | 'paused' | 'gone';

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** A node added later: the member URL its first start joins through (--join); undefined for the first nodes (--peers). */
  joinUrl: string | undefined;
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
  /** The first nodes' --peers: every one of them, by the URL it listens on. */
  private readonly peers: string;
  private stopped = false;
  /** Nodes between spawn and /health 200. */
  private readonly starting = new Set<string>();

  private constructor(
    private readonly opts: ProcessClusterOptions,
    private readonly root: string,
    ports: number[],
  ) {
    this.nodes = ports.map((port, i) => this.newNode(`n${i + 1}`, port, undefined));
    this.peers = this.nodes.map((n) => `${n.id}=${n.url}`).join(',');
    mkdirSync(join(root, 'links'), { recursive: true });
  }

  private newNode(id: string, port: number, joinUrl: string | undefined): ClusterNode {
    const host = this.opts.netns?.address(id) ?? '127.0.0.1';
    return { id, port, url: `http://${host}:${port}`, dataDir: join(this.root, id), joinUrl, state: 'killed', proc: undefined };
  }

  static async start(opts: ProcessClusterOptions): Promise<ProcessCluster> {
    mkdirSync(opts.logDir, { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const root = await mkdtemp(join(tmpdir(), 'kvorum-jepsen-'));
      registerTempDir(root);
      const ports = opts.netns ? new Array<number>(opts.nodes).fill(netnsPort) : await freePorts(opts.nodes);
      const cluster = new ProcessCluster(opts, root, ports);
      track(cluster);
      try {
        if (!opts.netns) for (const node of cluster.nodes) await cluster.wire(node);
        cluster.writeLinks();
        await Promise.all(cluster.nodes.map((node) => cluster.startNode(node)));
        return cluster;
      } catch (err) {
        await cluster.stop();
        // A port picked free may have been taken before the node bound it: try new ports.
        if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
      }
    }
  }

  /** Proxies both ways between `node` and every other node that is not gone (those it has already are kept). */
  private async wire(node: ClusterNode): Promise<void> {
    for (const other of this.nodes) {
      if (other === node || other.state === 'gone') continue;
      for (const [a, b] of [[node, other], [other, node]] as const) {
        const label = `${a.id}->${b.id}`;
        if (!this.proxies.has(label)) this.proxies.set(label, await LinkProxy.start(label, b.port));
      }
    }
  }

  private linksFile(node: ClusterNode): string {
    return join(this.root, 'links', `${node.id}.json`);
  }

  /** Rewrites every node's link map (target port -> proxy port), each file replaced at once. */
  private writeLinks(): void {
    for (const a of this.nodes) {
      const map: Record<string, number> = {};
      for (const b of this.nodes) {
        const proxy = this.proxies.get(`${a.id}->${b.id}`);
        if (proxy) map[String(b.port)] = proxy.port;
      }
      const file = this.linksFile(a);
      writeFileSync(`${file}.tmp`, JSON.stringify(map));
      renameSync(`${file}.tmp`, file);
    }
  }

  /** The namespaces of a --netns run (packet-level faults need them). */
  requireNetns(): Netns {
    if (!this.opts.netns) throw new Error('packet-level faults (loss, bandwidth, latency, link-down) need --netns');
    return this.opts.netns;
  }

  node(id: string): ClusterNode {
    const found = this.nodes.find((n) => n.id === id);
    if (!found) throw new Error(`no node ${id}`);
    return found;
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  /** Nodes whose process runs (up or paused) and that are not gone. */
  running(): ClusterNode[] {
    return this.nodes.filter((n) => n.state !== 'gone' && n.proc?.running === true);
  }

  /** Running, not paused, and done starting (healthy): what the nemeses may hit and ask. */
  ready(): ClusterNode[] {
    return this.running().filter((n) => n.state === 'up' && !this.starting.has(n.id));
  }

  link(from: string, to: string): LinkProxy {
    const proxy = this.proxies.get(`${from}->${to}`);
    if (!proxy) throw new Error(`no link ${from}->${to}`);
    return proxy;
  }

  setLink(from: string, to: string, mode: LinkMode): void {
    const netns = this.opts.netns;
    if (netns) netns.setLink(from, to, mode.kind === 'pass' ? 'pass' : mode.kind === 'refuse' ? 'refuse' : 'drop');
    else this.link(from, to).setMode(mode);
  }

  private argsFor(node: ClusterNode): string[] {
    const membership = node.joinUrl === undefined ? { peers: this.peers } : { join: node.joinUrl };
    const common = { id: node.id, port: node.port, dataDir: node.dataDir, ...membership, n: this.opts.n, extraArgs: this.opts.extraArgs };
    // In its namespace a node binds every address there and gives out its namespace address.
    if (this.opts.netns) return kvorumStartArgs({ ...common, host: '0.0.0.0', advertise: node.url });
    return kvorumStartArgs({ ...common, execArgs: ['--import', linkHook] });
  }

  private logFile(node: ClusterNode): string {
    return join(this.opts.logDir, `${node.id}.log`);
  }

  /**
   * Adds node `id` (or takes an earlier failed attempt's again: same port, same data dir) and
   * starts it with --join through `through`; resolves once it is healthy. Throws if it exits first
   * (the join was refused or could not be asked): it is then `gone` until the next attempt.
   */
  async addJoiner(id: string, through: ClusterNode): Promise<ClusterNode> {
    if (this.stopped) throw new Error('cluster stopped');
    const netns = this.opts.netns;
    // With --netns a joiner needs a namespace of its own, made with the others (Netns.create).
    if (netns && !netns.has(id)) throw new Error(`no namespace for joining node ${id}`);
    let node = this.nodes.find((n) => n.id === id);
    if (node === undefined) {
      const [port] = netns ? [netnsPort] : await freePorts(1);
      node = this.newNode(id, port!, through.url);
      this.nodes.push(node);
    }
    node.joinUrl = through.url;
    node.state = 'killed';
    if (!netns) await this.wire(node);
    this.writeLinks();
    try {
      await this.startNode(node);
    } catch (err) {
      await this.retire(id);
      throw err;
    }
    if ((node.state as NodeState) === 'gone') throw new Error(`${id} stopped right after starting`);
    return node;
  }

  /** Spawns the node (appending to its log) and waits until /health answers 200. */
  async startNode(node: ClusterNode): Promise<void> {
    if (this.stopped) throw new Error('cluster stopped');
    if (node.state === 'gone') return;
    if (node.proc?.running && node.state !== 'killed') throw new Error(`${node.id} is still running`);
    const log = this.logFile(node);
    appendFileSync(log, `\n=== harness: starting ${node.id} at ${new Date().toISOString()}\n`);
    const netns = this.opts.netns;
    const proc = new Proc(node.id, this.argsFor(node), netns
      ? { logFile: log, prefix: netns.execPrefix(node.id) }
      : { logFile: log, env: { KVORUM_JEPSEN_LINKS: this.linksFile(node) } });
    node.proc = proc;
    node.state = 'up';
    void proc.exited.then(({ code, signal }) => {
      // Exiting 0 on its own: the node was removed from the cluster and stopped itself.
      if (node.proc === proc && node.state !== 'gone') node.state = code === 0 && node.state === 'up' ? 'gone' : 'killed';
      try {
        appendFileSync(log, `=== harness: ${node.id} exited (code ${code}, signal ${signal}) at ${new Date().toISOString()}\n`);
      } catch {
        // the run directory is gone: nothing to note
      }
    });
    this.starting.add(node.id);
    try {
      await this.waitHealthy(node, proc);
    } finally {
      this.starting.delete(node.id);
    }
  }

  private async waitHealthy(node: ClusterNode, proc: Proc): Promise<void> {
    const deadlineMs = this.opts.healthDeadlineMs ?? 20_000;
    try {
      await waitHealthy(node.url, deadlineMs, () => proc.running);
    } catch (err) {
      if (proc.running) throw new Error(`${node.id} not healthy after ${deadlineMs} ms`, { cause: err });
      if (node.state === 'gone') return; // retired (killed for good) while it was starting
      // A removed node restarted (it did not hear of its removal while down) learns it and stops: not an error.
      if ((await proc.exited).code === 0) {
        node.state = 'gone';
        return;
      }
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
    if (node.state !== 'gone') node.state = 'killed';
  }

  /** Kills the node for good: it is never restarted (the membership nemesis then removes it). */
  async retire(id: string): Promise<void> {
    await this.kill(id);
    this.node(id).state = 'gone';
  }

  async restart(id: string): Promise<void> {
    const node = this.node(id);
    if (node.state === 'paused') await this.resume(id);
    if (node.state === 'up' || node.state === 'gone') return;
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

  /** Every link back to pass, every paused node resumed, every killed node restarted (gone ones stay gone). */
  async healAll(): Promise<void> {
    for (const proxy of this.proxies.values()) proxy.setMode(pass);
    this.opts.netns?.healAll();
    for (const node of this.nodes) if (node.state === 'paused') await this.resume(node.id);
    await Promise.all(this.nodes.filter((n) => n.state === 'killed').map((n) => this.restart(n.id)));
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
