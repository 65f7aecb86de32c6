// The nemesis: alternating quiet and fault periods, every choice (kind, nodes, partition shape,
// link modes, durations) planned from the seed before the run starts, so `--seed` replays the same
// schedule. One fault at a time; a process fault takes down at most `maxDown` nodes. Each fault
// becomes a FaultWindow from its injection until it is healed (restarted nodes healthy again).
// With the membership nemesis (membership.ts) the nodes change during the run: each fault is then
// drawn again, same kind and durations, over the nodes there are when it starts (retarget).
import type { ProcessCluster } from './cluster.js';
import type { FaultWindow } from './history.js';
import { describeMode, pass, type LinkMode } from './proxy.js';
import { applyNetFault, healNetFault } from './net-faults.js';
import type { Prng } from './prng.js';
import { netFaultKinds, planNetFault, type NetFaultKind, type NetFaultParams } from './net-faults.js';

/** Process and network faults (planned here), and `membership` (membership.ts, concurrent with them). */
export type NemesisKind = FaultWindow['kind'] | 'membership';
export const nemesisKinds: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'wipe', 'membership', ...netFaultKinds];
type FaultKind = FaultWindow['kind'];
const isNetFault = (kind: FaultKind): kind is NetFaultKind => (netFaultKinds as readonly string[]).includes(kind);

export interface LinkCut {
  readonly from: string;
  readonly to: string;
  readonly mode: LinkMode;
}

export interface PlannedFault {
  /** Quiet time before this fault, counted from the end of the previous one. */
  readonly quietMs: number;
  readonly durationMs: number;
  readonly kind: FaultKind;
  readonly nodes: readonly string[];
  readonly description: string;
  readonly links: readonly LinkCut[];
  /** Packet-level faults (--netns): how much loss, bandwidth, delay. */
  readonly net?: NetFaultParams;
}

export interface PlanOptions {
  readonly ids: readonly string[];
  readonly kinds: readonly NemesisKind[];
  readonly maxDown: number;
  /** Faults planned; the run uses as many as fit in its time. */
  readonly count?: number;
  readonly quietMs?: readonly [number, number];
  readonly faultMs?: readonly [number, number];
}

/** Cuts every link between side a and side b, both directions; modes drop, refuse or a mix. */
function cut(prng: Prng, a: readonly string[], b: readonly string[]): { links: LinkCut[]; how: string } {
  const how = prng.pick(['drop', 'refuse', 'mixed'] as const);
  const links: LinkCut[] = [];
  const mode = (): LinkMode => ({ kind: how === 'mixed' ? prng.pick(['drop', 'refuse'] as const) : how });
  for (const x of a) for (const y of b) links.push({ from: x, to: y, mode: mode() }, { from: y, to: x, mode: mode() });
  return { links, how };
}

const list = (ids: readonly string[]) => `[${[...ids].sort().join(' ')}]`;

function planPartition(prng: Prng, ids: readonly string[]): Omit<PlannedFault, 'quietMs' | 'durationMs'> {
  const shuffled = prng.shuffle(ids);
  const shapes = ids.length >= 5 ? (['isolate', 'split', 'bridge'] as const) : (['isolate', 'split'] as const);
  const shape = prng.pick(shapes);
  if (shape === 'isolate') {
    const [one, ...rest] = shuffled;
    const { links, how } = cut(prng, [one!], rest);
    return { kind: 'partition', nodes: [one!], description: `isolate ${one} (${how})`, links };
  }
  if (shape === 'split') {
    const minority = shuffled.slice(0, Math.floor(ids.length / 2));
    const majority = shuffled.slice(minority.length);
    const { links, how } = cut(prng, minority, majority);
    return { kind: 'partition', nodes: [...minority].sort(), description: `split minority ${list(minority)} | majority ${list(majority)} (${how})`, links };
  }
  // bridge: two halves that cannot talk to each other, and one node both halves still reach
  const [bridge, ...rest] = shuffled;
  const half = rest.slice(0, Math.floor(rest.length / 2));
  const other = rest.slice(half.length);
  const { links, how } = cut(prng, half, other);
  return { kind: 'partition', nodes: [...rest].sort(), description: `bridge ${bridge} between ${list(half)} and ${list(other)} (${how})`, links };
}

/** One fault of `kind` over `ids`; a process fault takes 1..maxDown of them (a wipe one). */
function planOne(prng: Prng, kind: FaultKind, ids: readonly string[], maxDown: number): Omit<PlannedFault, 'quietMs' | 'durationMs'> {
  if (kind === 'partition') return planPartition(prng, ids);
  if (isNetFault(kind)) return planNetFault(prng, kind, ids, maxDown);
  // A wiped node must be rebuilt by anti-entropy before another copy goes: one at a time.
  const count = kind === 'wipe' ? 1 : prng.int(1, maxDown);
  const nodes = prng.shuffle(ids).slice(0, count).sort();
  return { kind, nodes, description: `${kind} ${list(nodes)}`, links: [] };
}

export function planFaults(prng: Prng, opts: PlanOptions): PlannedFault[] {
  // With maxDown 0 no node may go down: only partitions remain.
  // A partition needs two nodes.
  const kinds = opts.kinds.filter((k): k is FaultKind => k !== 'membership' && (k === 'partition' ? opts.ids.length >= 2 : opts.maxDown >= 1));
  if (kinds.length === 0) return [];
  const [qLo, qHi] = opts.quietMs ?? [1500, 3000];
  const [fLo, fHi] = opts.faultMs ?? [2000, 4000];
  const plan: PlannedFault[] = [];
  for (let i = 0; i < (opts.count ?? 200); i++) {
    const quietMs = prng.int(qLo, qHi);
    const durationMs = prng.int(fLo, fHi);
    const kind = prng.pick(kinds);
    plan.push({ quietMs, durationMs, ...planOne(prng, kind, opts.ids, opts.maxDown) });
  }
  return plan;
}

/**
 * A planned fault drawn again over the nodes there are now (membership changes them): same kind
 * and durations, nodes from `ids` (a wipe only from `wipeable`), at most min(maxDown, a minority)
 * down. Undefined when it cannot be made (too few nodes).
 */
export function retarget(fault: PlannedFault, prng: Prng, ids: readonly string[], wipeable: readonly string[], maxDown: number): PlannedFault | undefined {
  const pool = fault.kind === 'wipe' ? wipeable : ids;
  const down = Math.min(maxDown, Math.floor((ids.length - 1) / 2));
  if (fault.kind === 'partition' ? ids.length < 2 : down < 1 || pool.length === 0) return undefined;
  return { quietMs: fault.quietMs, durationMs: fault.durationMs, ...planOne(prng, fault.kind, pool, down) };
}

/** Executes a plan against a cluster until stopped; records FaultWindows. */
export class ProcessNemesis {
  readonly windows: FaultWindow[] = [];
  private active: { fault: PlannedFault; index: number } | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cluster: ProcessCluster,
    private readonly plan: readonly PlannedFault[],
    private readonly now: () => number,
    private readonly log: (line: string) => void = () => undefined,
    /** With membership: the planned fault drawn again over the nodes there are (undefined: skip it). */
    private readonly retargetNow?: (fault: PlannedFault, index: number) => PlannedFault | undefined,
  ) {}

  /** What is injected right now, for the progress line. */
  current(): string {
    return this.active ? this.active.fault.description : 'none';
  }

  /** Set when injecting or healing failed (a node would not restart): the run is then broken. */
  error: Error | undefined;

  start(): void {
    this.loop = this.run().catch((err: unknown) => {
      this.error = err as Error;
      this.log(`nemesis error: ${(err as Error).message}`);
    });
  }

  /** Stops injecting and heals the fault in progress (healAll on the cluster does the rest). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (this.error) throw this.error;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    for (const [index, planned] of this.plan.entries()) {
      await this.sleep(planned.quietMs);
      if (this.stopping) return;
      const fault = this.retargetNow ? this.retargetNow(planned, index) : planned;
      if (fault === undefined) continue;
      this.active = { fault, index };
      const startMs = this.now();
      this.log(`fault ${index}: ${fault.description} for ${fault.durationMs} ms`);
      try {
        await this.inject(fault);
        await this.sleep(fault.durationMs);
      } finally {
        await this.heal(fault);
        this.windows.push({ kind: fault.kind, description: fault.description, nodes: fault.nodes, startMs, endMs: this.now() });
        this.active = undefined;
      }
    }
  }

  private async inject(fault: PlannedFault): Promise<void> {
    const c = this.cluster;
    switch (fault.kind) {
      case 'kill':
        await Promise.all(fault.nodes.map((id) => c.kill(id)));
        break;
      case 'wipe':
        await Promise.all(fault.nodes.map((id) => c.wipe(id)));
        break;
      case 'pause':
        for (const id of fault.nodes) c.pause(id);
        break;
      case 'partition':
        for (const l of fault.links) c.setLink(l.from, l.to, l.mode);
        break;
      default:
        for (const id of fault.nodes) applyNetFault(c.requireNetns(), fault.kind, id, fault.net ?? {});
    }
  }

  private async heal(fault: PlannedFault): Promise<void> {
    const c = this.cluster;
    switch (fault.kind) {
      case 'kill':
      case 'wipe':
        await Promise.all(fault.nodes.map((id) => c.restart(id)));
        break;
      case 'pause':
        await Promise.all(fault.nodes.map((id) => c.resume(id)));
        break;
      case 'partition':
        for (const l of fault.links) c.setLink(l.from, l.to, pass);
        break;
      default:
        for (const id of fault.nodes) healNetFault(c.requireNetns(), fault.kind, id);
    }
  }
}

export function describePlan(plan: readonly PlannedFault[]): string[] {
  return plan.map((f) => `${f.description} for ${f.durationMs} ms after ${f.quietMs} ms quiet` +
    (f.links.length > 0 ? `; links ${f.links.map((l) => `${l.from}->${l.to}:${describeMode(l.mode)}`).join(' ')}` : ''));
}
