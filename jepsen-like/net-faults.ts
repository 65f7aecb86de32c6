// The packet-level faults of --netns runs, planned from the seed like the others and applied to a
// node's namespace: random loss (nftables), a bandwidth limit (tbf), latency and jitter (tc netem,
// only when the kernel has it: run.ts leaves the kind out otherwise), the link set down.
import type { Netns, NetFaultKind } from './netns.js';
import type { Prng } from './prng.js';

export type { NetFaultKind } from './netns.js';
export const netFaultKinds: readonly NetFaultKind[] = ['loss', 'bandwidth', 'latency', 'link-down'];

export interface NetFaultParams {
  readonly lossPercent?: number;
  readonly kbit?: number;
  readonly delayMs?: number;
  readonly jitterMs?: number;
}

const list = (ids: readonly string[]) => `[${[...ids].sort().join(' ')}]`;

/**
 * One packet-level fault over `ids`. Loss, bandwidth and latency degrade 1..all nodes (no node is
 * down); a link down isolates 1..maxDown nodes, clients included, like a kill.
 */
export function planNetFault(prng: Prng, kind: NetFaultKind, ids: readonly string[], maxDown: number):
  { kind: NetFaultKind; nodes: string[]; description: string; links: []; net: NetFaultParams } {
  const count = kind === 'link-down' ? prng.int(1, Math.max(1, maxDown)) : prng.int(1, ids.length);
  const nodes = prng.shuffle(ids).slice(0, count).sort();
  const net: NetFaultParams =
    kind === 'loss' ? { lossPercent: prng.int(5, 30) }
      : kind === 'bandwidth' ? { kbit: prng.pick([128, 256, 512, 1024]) }
        : kind === 'latency' ? { delayMs: prng.int(20, 200), jitterMs: prng.int(5, 50) }
          : {};
  const what = kind === 'loss' ? `${net.lossPercent}% loss` : kind === 'bandwidth' ? `${net.kbit} kbit/s`
    : kind === 'latency' ? `${net.delayMs}±${net.jitterMs} ms latency` : 'link down';
  return { kind, nodes, description: `${what} ${list(nodes)}`, links: [], net };
}

export function applyNetFault(netns: Netns, kind: string, id: string, p: NetFaultParams): void {
  if (kind === 'loss') netns.setLoss(id, p.lossPercent ?? 10);
  else if (kind === 'bandwidth') netns.setBandwidth(id, p.kbit ?? 256);
  else if (kind === 'latency') netns.setLatency(id, p.delayMs ?? 100, p.jitterMs ?? 20);
  else if (kind === 'link-down') netns.setLinkDown(id, true);
}

export function healNetFault(netns: Netns, kind: string, id: string): void {
  if (kind === 'loss') netns.setLoss(id, 0);
  else if (kind === 'bandwidth' || kind === 'latency') netns.clearQdisc(id);
  else if (kind === 'link-down') netns.setLinkDown(id, false);
}
