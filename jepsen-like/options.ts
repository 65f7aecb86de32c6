// Command-line options of the runner, with defaults and validation.
import { parseArgs } from 'node:util';
import { nemesisKinds, type NemesisKind } from './nemesis.js';
import { netFaultKinds } from './net-faults.js';

export interface RunOptions {
  readonly nodes: number;
  readonly timeSec: number;
  readonly workload: 'set' | 'register';
  readonly nemeses: readonly NemesisKind[];
  readonly seed: number;
  readonly keys: number;
  /** Set workload: keys only overwritten and deleted (0: none). */
  readonly churnKeys: number;
  readonly concurrency: number;
  readonly maxDown: number;
  readonly client: 'safe' | 'unsafe';
  readonly n: number;
  /** Ring partitions of the nodes (fewer: membership changes move less, transfers end sooner). */
  readonly partitions: number;
  /** The run directory; default jepsen-like/store/<timestamp>-seed<S>/. */
  readonly out?: string;
  /** Tombstone grace of the nodes. */
  readonly tombstoneGraceMs: number;
  /** Ranges (ms) of the quiet periods and of the faults the nemesis plans. */
  readonly quietMs: readonly [number, number];
  readonly faultMs: readonly [number, number];
  /** Membership nemesis: quiet time (ms) before each membership change. */
  readonly membershipMs: readonly [number, number];
  /** Print progress and the log to stdout (the CLI); tests keep quiet. */
  readonly verbose: boolean;
  /** Every node in its own network namespace on a bridge, with packet-level faults (root, Linux). */
  readonly netns: boolean;
}

export const usage = `usage: npm run jepsen -- [options]

Starts a local kvorum cluster whose node-to-node links go through fault-injecting proxies, runs a
workload against it while a nemesis kills, pauses, wipes and partitions nodes (and, with
membership, joins, leaves, replaces and removes nodes at the same time), heals, waits for the ring
to settle and the replicas to converge, reads everything back and checks the history.

  --nodes K            nodes (default 5)
  --time S             seconds of workload and faults (default 60)
  --workload W         set | register (default set)
  --nemesis LIST       comma-separated: kill,pause,partition,wipe,membership, and with --netns
                       loss,bandwidth,latency,link-down; "none" for no faults (default
                       kill,pause,partition). membership: one change at a time
                       (join/leave/replace/remove, staged and committed through the admin routes,
                       spare nodes n6, n7, ... started with --join) while the other faults go on;
                       at least N and at most nodes+2 valid members
  --seed S             seed of every random choice (default: random, printed)
  --keys K             keys (default 5)
  --churn-keys K       set workload: also overwrite and delete K other keys (20% of operations),
                       and check no superseded version survives (default 50; 0 for none). With a
                       short --tombstone-grace-ms, tombstones get reaped while faults go on
  --concurrency C      client processes (default 10)
  --max-down M         nodes killed/paused at once at most (default floor((nodes-1)/2))
  --client safe|unsafe the unsafe client keeps one sibling instead of merging (default safe)
  --n N                replication factor (default 3)
  --partitions Q       ring partitions, a power of two 8..4096 (default 64)
  --tombstone-grace-ms MS  the nodes' tombstone grace (default 30000)
  --fault-ms LO-HI     how long each fault lasts, ms (default 2000-4000)
  --quiet-ms LO-HI     quiet time between faults, ms (default 1500-3000)
  --membership-ms LO-HI  quiet time before each membership change, ms (default 10000-20000)
  --out DIR            run directory (default jepsen-like/store/<timestamp>-seed<S>/)
  --netns              (root, Linux) every node in its own network namespace with its own
                       address on a bridge the run creates (a random 10.2xx.y.0/24; the harness
                       reaches the nodes through the bridge's .254), listening on 0.0.0.0:7070
                       there with --advertise http://<its address>:7070; partitions become
                       nftables drop/reject rules instead of proxies, and the nemesis gains
                       packet-level faults: loss (random drops, nftables numgen), bandwidth (tbf),
                       latency (tc netem: only if the kernel has sch_netem, else left out and said
                       so) and link-down. Default nemesis then: kill,pause,partition,loss,
                       bandwidth,latency,link-down. No membership nemesis. Everything the run
                       creates is removed at its end (also on SIGINT/SIGTERM)
  -h, --help           this help

Exit code: 0 valid, 1 invalid (a checker found a violation), 2 harness error.`;

export class UsageError extends Error {}

function int(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be in ${min}..${max}, got ${n}`);
  return n;
}

function powerOfTwo(n: number): number {
  if ((n & (n - 1)) !== 0) throw new UsageError(`--partitions must be a power of two, got ${n}`);
  return n;
}

function range(value: string | undefined, name: string, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  const m = /^([0-9]+)-([0-9]+)$/.exec(value);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[1]) < 100) throw new UsageError(`--${name} must be LO-HI in ms (LO >= 100), got ${JSON.stringify(value)}`);
  return [Number(m[1]), Number(m[2])];
}

const netFaultNames: readonly string[] = netFaultKinds;

/** --nemesis checked; packet-level kinds only with --netns (its default adds them), no membership there. */
function nemesesOf(value: string | undefined, netns: boolean): NemesisKind[] {
  const fallback = netns ? `kill,pause,partition,${netFaultKinds.join(',')}` : 'kill,pause,partition';
  const list = (value ?? fallback).split(',').map((x) => x.trim()).filter((x) => x && x !== 'none');
  for (const k of list) {
    if (!(nemesisKinds as readonly string[]).includes(k)) throw new UsageError(`unknown nemesis ${JSON.stringify(k)}; known: ${nemesisKinds.join(', ')}`);
    if (!netns && netFaultNames.includes(k)) throw new UsageError(`nemesis ${k} is a packet-level fault: it needs --netns`);
    if (netns && k === 'membership') throw new UsageError('the membership nemesis does not run with --netns (joining nodes would need namespaces of their own)');
  }
  return [...new Set(list)] as NemesisKind[];
}

export function parseOptions(argv: readonly string[]): RunOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        nodes: { type: 'string' }, time: { type: 'string' }, workload: { type: 'string' }, nemesis: { type: 'string' },
        seed: { type: 'string' }, keys: { type: 'string' }, 'churn-keys': { type: 'string' }, concurrency: { type: 'string' }, 'max-down': { type: 'string' },
        client: { type: 'string' }, n: { type: 'string' }, partitions: { type: 'string' }, out: { type: 'string' }, 'tombstone-grace-ms': { type: 'string' },
        'fault-ms': { type: 'string' }, 'quiet-ms': { type: 'string' }, 'membership-ms': { type: 'string' },
        netns: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values['help']) return 'help';
  const s = (name: string) => values[name] as string | undefined;
  const nodes = int(s('nodes'), 'nodes', 5, 1, 32);
  const workload = s('workload') ?? 'set';
  if (workload !== 'set' && workload !== 'register') throw new UsageError(`--workload must be set or register, got ${workload}`);
  const client = s('client') ?? 'safe';
  if (client !== 'safe' && client !== 'unsafe') throw new UsageError(`--client must be safe or unsafe, got ${client}`);
  const netns = values['netns'] === true;
  const nemesisList = nemesesOf(s('nemesis'), netns);
  const out = s('out');
  return {
    nodes,
    timeSec: int(s('time'), 'time', 60, 1, 24 * 3600),
    workload,
    nemeses: nemesisList,
    seed: int(s('seed'), 'seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    keys: int(s('keys'), 'keys', 5, 1, 10_000),
    churnKeys: int(s('churn-keys'), 'churn-keys', 50, 0, 10_000),
    concurrency: int(s('concurrency'), 'concurrency', 10, 1, 1000),
    maxDown: int(s('max-down'), 'max-down', Math.floor((nodes - 1) / 2), 0, nodes),
    client,
    n: int(s('n'), 'n', 3, 1, 16),
    partitions: powerOfTwo(int(s('partitions'), 'partitions', 64, 8, 4096)),
    tombstoneGraceMs: int(s('tombstone-grace-ms'), 'tombstone-grace-ms', 30_000, 1000, 3_600_000),
    faultMs: range(s('fault-ms'), 'fault-ms', [2000, 4000]),
    quietMs: range(s('quiet-ms'), 'quiet-ms', [1500, 3000]),
    membershipMs: range(s('membership-ms'), 'membership-ms', [10_000, 20_000]),
    verbose: true,
    netns,
    ...(out === undefined ? {} : { out }),
  };
}
