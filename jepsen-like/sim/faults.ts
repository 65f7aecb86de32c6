// The nemesis: faults chosen from the seed, each recorded as a FaultWindow. Process faults (kill,
// pause, wipe) respect a bound on nodes down at once; network faults are partitions of several
// shapes, message loss, duplication and delay spikes (recorded with kind 'partition', the only
// network kind the shared history knows). A wipe loses one node's data for good, so at most
// `wipesMax` happen per run: with w = quorum, one lost copy never loses an acknowledged write.
import type { NodeId } from '../../src/core/types.js';
import type { FaultWindow } from '../history.js';
import type { SimCluster } from './cluster.js';
import type { CutMode } from './network.js';
import type { SimNode } from './node.js';
import type { World } from './world.js';

export const faultKinds = ['kill', 'pause', 'wipe', 'partition', 'loss', 'duplicate', 'delay'] as const;
/** Extra latency a delay spike adds to every message to or from one node. */
export const delaySpikesMs = [50, 200, 800, 2500] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultConfig {
  readonly kinds: readonly FaultKind[];
  /** Nodes killed, paused or wiped at once, at most. */
  readonly maxDown: number;
  readonly wipesMax: number;
  /** Mean gap between two nemesis actions, simulated ms. */
  readonly meanGapMs: number;
  /** Duration range of one fault, simulated ms. */
  readonly durationMs: readonly [number, number];
}

interface Active {
  readonly kind: FaultKind;
  readonly window: { -readonly [K in keyof FaultWindow]: FaultWindow[K] };
  readonly heal: () => void;
}

export class SimNemesis {
  readonly windows: Active['window'][] = [];
  private readonly active: Active[] = [];
  private wipes = 0;
  private stopped = false;

  constructor(
    private readonly world: World,
    private readonly cluster: SimCluster,
    private readonly config: FaultConfig,
  ) {}

  start(): void {
    if (this.config.kinds.length > 0) this.next();
  }

  /** Stops injecting and heals every active fault (restart, resume, reconnect). */
  healAll(): void {
    this.stopped = true;
    for (const a of [...this.active]) this.end(a);
    this.cluster.network.healAll();
    for (const node of this.cluster.activeNodes()) {
      if (node.state === 'paused') this.cluster.resume(node);
      this.cluster.restart(node);
    }
  }

  get activeDescriptions(): string[] {
    return this.active.map((a) => a.window.description);
  }

  private next(): void {
    this.world.schedule(Math.round(this.world.prng.exp(this.config.meanGapMs)), () => {
      if (this.stopped) return;
      this.inject(this.world.prng.pick(this.config.kinds));
      this.next();
    });
  }

  private end(a: Active): void {
    const i = this.active.indexOf(a);
    if (i < 0) return;
    this.active.splice(i, 1);
    a.window.endMs = this.world.now;
    a.heal();
  }

  private begin(kind: FaultKind, description: string, nodes: readonly string[], heal: () => void): void {
    const window: Active['window'] = {
      kind: kind === 'kill' || kind === 'pause' || kind === 'wipe' ? kind : 'partition',
      description,
      nodes,
      startMs: this.world.now,
      endMs: undefined,
    };
    const a: Active = { kind, window, heal };
    this.windows.push(window);
    this.active.push(a);
    const [lo, hi] = this.config.durationMs;
    this.world.schedule(this.world.prng.int(lo, hi), () => this.end(a));
  }

  private isActive(kind: FaultKind): boolean {
    return this.active.some((a) => a.kind === kind);
  }

  private inject(kind: FaultKind): void {
    const p = this.world.prng;
    const c = this.cluster;
    // Only nodes that run now: members, and spares once they joined; never one gone for good.
    const ids = [...c.active];
    const down = c.activeNodes().filter((n) => n.state !== 'up').length;
    const up = c.activeNodes().filter((n) => n.state === 'up');
    const processFault = (verb: string, act: (n: SimNode) => void, heal: (n: SimNode) => void) => {
      if (down >= this.config.maxDown || up.length === 0) return;
      const node = p.pick(up);
      act(node);
      this.begin(kind, `${verb} ${node.id}`, [node.id], () => heal(node));
    };
    switch (kind) {
      case 'kill':
        return processFault('kill', (n) => c.crash(n), (n) => c.restart(n));
      case 'pause':
        return processFault('pause', (n) => c.pause(n), (n) => c.resume(n));
      case 'wipe':
        if (this.wipes >= this.config.wipesMax) return;
        return processFault('wipe', (n) => (this.wipes++, c.wipe(n)), (n) => c.restart(n));
      case 'partition': {
        if (this.isActive('partition')) return;
        const mode: CutMode = p.chance(0.5) ? 'drop' : 'refuse';
        const { shape, cuts } = partitionShape(p, ids);
        for (const cut of cuts) c.network.cuts.set(cut, mode);
        const nodes = [...new Set(cuts.flatMap((cut) => cut.split('>')))].sort();
        return this.begin(kind, `${shape} (${mode}): ${cuts.join(' ')}`, nodes, () => {
          for (const cut of cuts) c.network.cuts.delete(cut);
        });
      }
      case 'loss': {
        if (this.isActive('loss')) return;
        const rate = p.pick([0.01, 0.05, 0.1, 0.2, 0.4]);
        c.network.loss = rate;
        return this.begin(kind, `message loss ${rate * 100}%`, ids, () => void (c.network.loss = 0));
      }
      case 'duplicate': {
        if (this.isActive('duplicate')) return;
        const rate = p.pick([0.05, 0.2, 0.5]);
        c.network.duplication = rate;
        return this.begin(kind, `duplication ${rate * 100}%`, ids, () => void (c.network.duplication = 0));
      }
      case 'delay': {
        const node = p.pick(ids);
        if (c.network.slow.has(node)) return;
        const ms = p.pick(delaySpikesMs);
        c.network.slow.set(node, ms);
        return this.begin(kind, `delay spike +${ms} ms at ${node}`, [node], () => void c.network.slow.delete(node));
      }
    }
  }
}

/** Directed cuts ("a>b": a's calls to b fail) of one partition shape. */
function partitionShape(p: World['prng'], ids: readonly NodeId[]): { shape: string; cuts: string[] } {
  const both = (a: readonly NodeId[], b: readonly NodeId[]) => a.flatMap((x) => b.flatMap((y) => [`${x}>${y}`, `${y}>${x}`]));
  const shuffled = p.shuffle(ids);
  switch (p.pick(['isolate', 'majority', 'bridge', 'random', 'asymmetric'] as const)) {
    case 'isolate':
      return { shape: `isolate ${shuffled[0]}`, cuts: both(shuffled.slice(0, 1), shuffled.slice(1)) };
    case 'majority': {
      const minority = shuffled.slice(0, Math.floor((ids.length - 1) / 2) || 1);
      return { shape: `majority/minority [${minority.join(',')}]`, cuts: both(minority, shuffled.slice(minority.length)) };
    }
    case 'bridge': {
      // Two halves that cannot talk, and one node that talks to both.
      const [bridge, ...rest] = shuffled;
      const half = Math.ceil(rest.length / 2);
      return { shape: `bridge ${bridge}`, cuts: both(rest.slice(0, half), rest.slice(half)) };
    }
    case 'random': {
      const cuts = ids.flatMap((a) => ids.filter((b) => b !== a && p.chance(0.3)).map((b) => `${a}>${b}`));
      return { shape: 'random links', cuts };
    }
    case 'asymmetric': {
      // One node cannot call the others, but they can call it (or the reverse).
      const [x, ...rest] = shuffled;
      const outbound = p.chance(0.5);
      return { shape: `asymmetric ${outbound ? 'from' : 'to'} ${x}`, cuts: rest.map((y) => (outbound ? `${x}>${y}` : `${y}>${x}`)) };
    }
  }
}
