// --netns runs: the namespaces created, the fault kinds this kernel makes real, and the ones it
// cannot (left out of the plan and said so in the log, run.json and the report: a latency fault is
// never pretended).
import type { NemesisKind } from './nemesis.js';
import { detectCapabilities, Netns, NetnsError, netnsProblem, type NetCapabilities } from './netns.js';

export interface Network {
  readonly netns: Netns;
  /** The requested nemeses this kernel can do. */
  readonly kinds: NemesisKind[];
  /** Requested kinds left out: kind -> why. */
  readonly unavailable: ReadonlyMap<string, string>;
  readonly capabilities: NetCapabilities;
  /** One line for the log and the report. */
  readonly description: string;
}

/** What each kind needs, and how it is done: for the "real" list. */
const mechanism: Readonly<Record<string, string>> = {
  kill: 'SIGKILL + restart', pause: 'SIGSTOP/SIGCONT', wipe: 'SIGKILL, data removed, restart', partition: 'nftables drop / tcp reset',
  loss: 'nftables numgen random drop', bandwidth: 'tc tbf', latency: 'tc netem delay+jitter', 'link-down': 'ip link set down',
};

function missing(kind: string, c: NetCapabilities): string | undefined {
  if ((kind === 'partition' || kind === 'loss') && !c.nft) return `nftables: ${c.nftProblem ?? 'unavailable'}`;
  if (kind === 'bandwidth' && !c.tbf) return 'tc tbf failed';
  if (kind === 'latency' && !c.netem) {
    const answer = c.netemProblem ?? 'unavailable';
    return `tc netem: ${answer}${/unknown/i.test(answer) ? ' (the kernel lacks sch_netem)' : ''}`;
  }
  return undefined;
}

/** Checks this process may, detects what the kernel has, creates the namespaces n1..n<nodes>. Throws NetnsError when it cannot. */
export function openNetwork(nodes: number, requested: readonly NemesisKind[]): Network {
  const problem = netnsProblem();
  if (problem !== undefined) throw new NetnsError(`--netns: ${problem}`);
  const capabilities = detectCapabilities();
  const unavailable = new Map<string, string>();
  for (const kind of requested) {
    const why = missing(kind, capabilities);
    if (why !== undefined) unavailable.set(kind, why);
  }
  const kinds = requested.filter((k) => !unavailable.has(k));
  const netns = Netns.create(Array.from({ length: nodes }, (_, i) => `n${i + 1}`));
  const real = kinds.map((k) => `${k} (${mechanism[k] ?? k})`).join(', ') || 'none';
  const absent = [...unavailable].map(([k, why]) => `${k} (${why})`).join(', ') || 'none';
  const stale = netns.reaped.length > 0 ? `; removed what dead runs left: ${netns.reaped.join(' ')}` : '';
  const description = `netns: nodes at ${netns.prefix}.1-${nodes} in namespaces on bridge ${netns.bridge} (${netns.bridgeAddress}); ` +
    `faults real: ${real}; unavailable: ${absent}${stale}`;
  return { netns, kinds, unavailable, capabilities, description };
}
