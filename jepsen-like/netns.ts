// `--netns`: every node in its own Linux network namespace with its own address on a bridge this
// run creates in the root namespace (the bridge's address is the harness's way in), and faults at
// the packet level: partitions as nftables drop/reject rules in the sender's namespace, packet loss
// as `numgen random` drops, bandwidth limits as a tbf qdisc, latency/jitter as tc netem when the
// kernel has it (detected once, on a scratch veth; never pretended), and the link set down.
// Names carry this process's pid and a random /24 is picked among the unused ones, so parallel runs
// do not collide; a name that exists already is refused, never reused. Everything created is
// removed by destroy(), and synchronously on process exit and SIGINT/SIGTERM.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/** How a directed link is cut: drop (silence, callers time out) or refuse (TCP reset). */
export type CutMode = 'drop' | 'refuse';

/** The packet-level fault kinds this kernel may or may not have. */
export type NetFaultKind = 'loss' | 'bandwidth' | 'latency' | 'link-down';

export interface NetCapabilities {
  /** tc netem (latency, jitter): absent when the kernel lacks sch_netem. */
  readonly netem: boolean;
  /** Why netem is unavailable (tc's answer), when it is. */
  readonly netemProblem?: string;
  /** tbf (bandwidth limit). */
  readonly tbf: boolean;
  /** nftables with numgen and reject (partitions and random loss). */
  readonly nft: boolean;
  readonly nftProblem?: string;
}

export class NetnsError extends Error {}

/** Runs a command; throws NetnsError with its stderr unless it exits 0. */
function run(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new NetnsError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new NetnsError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Best effort (cleanup): never throws. */
function quietly(cmd: string, args: readonly string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
}

const has = (cmd: string) => spawnSync(cmd, ['-V'], { stdio: 'ignore' }).status === 0 || spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

/** Whether this process may create namespaces (root, `ip` present, netns allowed): the reason when not. */
export function netnsProblem(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!has('ip')) return 'the `ip` command (iproute2) is not installed';
  const probe = `kvprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns add is not permitted here: ${r.stderr.trim()}`;
  quietly('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Tries netem and tbf on a scratch veth pair in a scratch namespace, and nft with numgen there. */
export function detectCapabilities(): NetCapabilities {
  const ns = `kvcap${process.pid}`;
  if (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').some((l) => l.split(' ')[0] === ns)) throw new NetnsError(`namespace ${ns} exists already`);
  run('ip', ['netns', 'add', ns]);
  try {
    run('ip', ['-n', ns, 'link', 'add', 'cap0', 'type', 'veth', 'peer', 'name', 'cap1']);
    const tc = (qdisc: string[]) => spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', 'cap0', 'root', ...qdisc], { encoding: 'utf8' });
    const netem = tc(['netem', 'delay', '10ms', '5ms']);
    const tbf = tc(['tbf', 'rate', '1mbit', 'burst', '16kb', 'latency', '100ms']);
    const nft = has('nft') ? spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
      input: 'table inet probe {\n  chain o {\n    type filter hook output priority 0; policy accept;\n    meta l4proto tcp numgen random mod 100 < 1 reject with tcp reset\n  }\n}\n',
      encoding: 'utf8',
    }) : undefined;
    const nftOk = nft?.status === 0;
    return {
      netem: netem.status === 0,
      ...(netem.status === 0 ? {} : { netemProblem: netem.stderr.trim() || `tc exited ${netem.status}` }),
      tbf: tbf.status === 0,
      nft: nftOk,
      ...(nftOk ? {} : { nftProblem: nft === undefined ? 'the nft command is not installed (apt-get install nftables)' : nft.stderr.trim() }),
    };
  } finally {
    quietly('ip', ['netns', 'del', ns]);
  }
}

/** Which fault kinds the capabilities make real. */
export function availableNetFaults(c: NetCapabilities): NetFaultKind[] {
  return [...(c.nft ? (['loss'] as const) : []), ...(c.tbf ? (['bandwidth'] as const) : []), ...(c.netem ? (['latency'] as const) : []), 'link-down'];
}

interface Host {
  readonly id: string;
  readonly ns: string;
  readonly veth: string;
  readonly address: string;
  /** Destination address -> how this host's packets to it are cut. */
  readonly cuts: Map<string, CutMode>;
  lossPercent: number;
  /** The root qdisc on its eth0 (tbf or netem), undefined when none. */
  qdisc: string[] | undefined;
  linkDown: boolean;
}

const live = new Set<Netns>();
process.once('exit', () => {
  for (const n of live) n.destroy();
});
// Installed only while a run's network exists; exiting runs the 'exit' handler above.
const onSignal = (sig: NodeJS.Signals) => process.exit(sig === 'SIGINT' ? 130 : 143);
function track(net: Netns): void {
  if (live.size === 0) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, onSignal);
  live.add(net);
}
function untrack(net: Netns): void {
  live.delete(net);
  if (live.size === 0) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
}

let created = 0;

export class Netns {
  private readonly hosts = new Map<string, Host>();
  private destroyed = false;

  private constructor(
    readonly bridge: string,
    /** The first three octets of the /24, e.g. "10.213.47". */
    readonly prefix: string,
    /** Namespaces and links of runs whose process is dead (SIGKILLed harness), removed before this one. */
    readonly reaped: readonly string[] = [],
  ) {}

  /** The address the bridge has in the root namespace: the harness reaches the nodes through it. */
  get bridgeAddress(): string {
    return `${this.prefix}.254`;
  }

  /** Creates the bridge and one namespace per id (addresses .1, .2, ...); cleans up after itself if a step fails. */
  static create(ids: readonly string[]): Netns {
    // pid + a letter per network of this process: unique on the machine, short enough for a link name (15 bytes).
    const tag = `kv${process.pid}${String.fromCharCode(97 + (created++ % 26))}`;
    const reaped = reapStale();
    const net = new Netns(`${tag}br`, freePrefix(), reaped);
    refuseCollisions([net.bridge, ...ids.map((_, i) => `${tag}h${i + 1}`)], ids.map((id) => `${tag}-${id}`));
    track(net);
    try {
      run('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
      run('ip', ['addr', 'add', `${net.bridgeAddress}/24`, 'dev', net.bridge]);
      run('ip', ['link', 'set', net.bridge, 'up']);
      ids.forEach((id, i) => net.addHost(id, `${tag}-${id}`, `${tag}h${i + 1}`, `${net.prefix}.${i + 1}`));
      return net;
    } catch (err) {
      net.destroy();
      throw err;
    }
  }

  private addHost(id: string, ns: string, veth: string, address: string): void {
    const host: Host = { id, ns, veth, address, cuts: new Map(), lossPercent: 0, qdisc: undefined, linkDown: false };
    run('ip', ['netns', 'add', ns]);
    this.hosts.set(id, host);
    run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run('ip', ['link', 'set', veth, 'master', this.bridge, 'up']);
    run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    this.writeRules(host);
  }

  has(id: string): boolean {
    return this.hosts.has(id);
  }

  host(id: string): Host {
    const h = this.hosts.get(id);
    if (!h) throw new NetnsError(`no namespace for ${id}`);
    return h;
  }

  address(id: string): string {
    return this.host(id).address;
  }

  /** The command prefix that runs a program inside id's namespace (`ip netns exec` execs: the pid is the program's). */
  execPrefix(id: string): string[] {
    return ['ip', 'netns', 'exec', this.host(id).ns];
  }

  /** Cuts (or, with 'pass', restores) the packets node `from` sends to node `to`. */
  setLink(from: string, to: string, mode: CutMode | 'pass'): void {
    const host = this.host(from);
    const dest = this.address(to);
    if (mode === 'pass') host.cuts.delete(dest);
    else host.cuts.set(dest, mode);
    this.writeRules(host);
  }

  /** Drops `percent`% of the packets id sends and receives at random (0: none). */
  setLoss(id: string, percent: number): void {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new NetnsError(`loss must be 0..100 %, got ${percent}`);
    const host = this.host(id);
    host.lossPercent = percent;
    this.writeRules(host);
  }

  /** Limits what id sends to `kbit` kbit/s (tbf; also adds queueing delay). */
  setBandwidth(id: string, kbit: number): void {
    this.setQdisc(this.host(id), ['tbf', 'rate', `${kbit}kbit`, 'burst', '16kb', 'latency', '500ms']);
  }

  /** Delays what id sends by delayMs ± jitterMs (tc netem; only when the kernel has it). */
  setLatency(id: string, delayMs: number, jitterMs: number): void {
    this.setQdisc(this.host(id), ['netem', 'delay', `${delayMs}ms`, `${jitterMs}ms`]);
  }

  clearQdisc(id: string): void {
    this.setQdisc(this.host(id), undefined);
  }

  /** Takes id's link down (full isolation, clients included) or up again. */
  setLinkDown(id: string, down: boolean): void {
    const host = this.host(id);
    run('ip', ['link', 'set', host.veth, down ? 'down' : 'up']);
    host.linkDown = down;
  }

  /** Every fault undone: no cut, no loss, no qdisc, every link up. */
  healAll(): void {
    for (const host of this.hosts.values()) {
      if (host.linkDown) this.setLinkDown(host.id, false);
      if (host.qdisc) this.setQdisc(host, undefined);
      if (host.cuts.size > 0 || host.lossPercent > 0) {
        host.cuts.clear();
        host.lossPercent = 0;
        this.writeRules(host);
      }
    }
  }

  private setQdisc(host: Host, qdisc: string[] | undefined): void {
    const exec = ['netns', 'exec', host.ns, 'tc', 'qdisc'];
    if (qdisc) run('ip', [...exec, 'replace', 'dev', 'eth0', 'root', ...qdisc]);
    else if (host.qdisc) run('ip', [...exec, 'del', 'dev', 'eth0', 'root']);
    host.qdisc = qdisc;
  }

  /** Replaces the namespace's nft table at once with the host's cuts and loss. */
  private writeRules(host: Host): void {
    if (host.cuts.size === 0 && host.lossPercent === 0 && !hasNft()) return; // nothing to write, no nft to write it with
    const cuts = [...host.cuts].flatMap(([dest, mode]) =>
      // refuse: a TCP reset (callers fail at once); anything else to it is dropped.
      mode === 'refuse' ? [`ip daddr ${dest} meta l4proto tcp reject with tcp reset`, `ip daddr ${dest} drop`] : [`ip daddr ${dest} drop`]);
    // numgen's `mod 100` draws 0..99: `< 100` is out of its range, so 100% is a plain drop.
    const loss = host.lossPercent >= 100 ? ['drop'] : host.lossPercent > 0 ? [`numgen random mod 100 < ${host.lossPercent} drop`] : [];
    const chain = (hook: string, dev: string, rules: string[]) =>
      `  chain ${hook} {\n    type filter hook ${hook} priority 0; policy accept;\n${rules.map((r) => `    ${dev} "eth0" ${r}\n`).join('')}  }\n`;
    // Declaring the table first makes the delete valid when it does not exist yet.
    const script = `table inet kvorum\ndelete table inet kvorum\ntable inet kvorum {\n${chain('output', 'oifname', [...cuts, ...loss])}${chain('input', 'iifname', loss)}}\n`;
    run('ip', ['netns', 'exec', host.ns, 'nft', '-f', '-'], script);
  }

  /** Removes every namespace (its veth goes with it), the bridge. Idempotent, synchronous, never throws. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const host of this.hosts.values()) {
      quietly('ip', ['netns', 'del', host.ns]);
      quietly('ip', ['link', 'del', host.veth]);
    }
    quietly('ip', ['link', 'del', this.bridge]);
    untrack(this);
  }
}

let nftPresent: boolean | undefined;
function hasNft(): boolean {
  nftPresent ??= has('nft');
  return nftPresent;
}

/** A random 10.200-249.x.0/24 that no address or route of this machine overlaps. */
function freePrefix(): string {
  const used = run('ip', ['-4', 'route', 'show', 'table', 'all']) + run('ip', ['-4', 'addr', 'show']);
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
    if (!used.includes(`${prefix}.`) && !/(^|\s)10\.0\.0\.0\/8|default via 10\./.test(used)) return prefix;
  }
  throw new NetnsError('no free 10.2xx.y.0/24 found for the run');
}

const ourName = /^kv([0-9]+)[a-z](-n[0-9]+|br|h[0-9]+)$/;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
};

/** Removes namespaces and links named like ours whose run's pid is gone (its harness was SIGKILLed); returns their names. */
function reapStale(): string[] {
  const namespaces = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '');
  const links = run('ip', ['-o', 'link', 'show']).split('\n').map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '');
  const stale = (name: string) => {
    const m = ourName.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  };
  const reaped: string[] = [];
  for (const ns of namespaces.filter(stale)) {
    quietly('ip', ['netns', 'del', ns]);
    reaped.push(ns);
  }
  for (const link of links.filter(stale)) {
    quietly('ip', ['link', 'del', link]);
    reaped.push(link);
  }
  return reaped;
}

/** Refuses to start when a namespace or link of these names exists (a run of the same pid left it, or someone else's). */
function refuseCollisions(links: readonly string[], namespaces: readonly string[]): void {
  const nsList = new Set(run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]));
  const taken = namespaces.filter((ns) => nsList.has(ns));
  for (const link of links) if (spawnSync('ip', ['link', 'show', link], { stdio: 'ignore' }).status === 0) taken.push(link);
  if (taken.length > 0) throw new NetnsError(`refusing to start: ${taken.join(', ')} exist already (left by an earlier run? remove them with ip netns del / ip link del)`);
}
