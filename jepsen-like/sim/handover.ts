// The transfer promise (docs/api.md, Membership): a partition switches to its new replicas only
// once each of them holds all of it. Observably: every acknowledged write that every current
// replica held when the move was committed (so also the source each receiver streamed from and
// compared its Merkle tree with) is held by every new replica when the partition switches.
// Writes that came later may rightly still be missing (a receiver gets them uncounted; the old
// replicas push them before dropping their copy), so they are not asked for.
//
// The rings are watched as each node adopts one (the commit and the switch are first seen on the
// claimant); the disks are read at that instant, before any receiver can have started streaming
// (that takes a message). An observer: it never draws from the PRNG and never sends a message.
import { madeAfter, type RingState } from '../../src/core/ring-state.js';
import { covers } from '../../src/core/dvv.js';
import type { Dot, NodeId, PartitionId } from '../../src/core/types.js';
import type { SimCluster } from './cluster.js';
import { partitionOfKey } from './rings.js';

interface Move {
  readonly partition: PartitionId;
  readonly target: string;
  readonly replicas: readonly NodeId[];
  /** The first ring seen with this move: only a ring made after it can show its switch. */
  readonly ring: RingState;
  /** Per key, the acknowledged writes every current replica held at the commit. */
  readonly held: Promise<Map<string, Dot[]>>;
}

export class HandoverCheck {
  /** Moves seen and not yet switched, by "partition>target". */
  private readonly moves = new Map<string, Move>();
  private readonly seen = new Set<string>();
  checks = 0;

  constructor(
    private readonly cluster: SimCluster,
    /** The set keys, and every write acknowledged on each so far. */
    private readonly acked: ReadonlyMap<string, readonly Dot[]>,
    private readonly fail: (message: string, focus: { key: string; atMs: number }) => void,
    private readonly now: () => number,
  ) {}

  /** A node made `state` its ring: a move it shows for the first time is recorded, a switch checked. */
  observe(state: RingState): void {
    for (const [id, move] of this.moves) {
      if (state.replicas[move.partition]!.join() !== move.target || !madeAfter(state, move.ring)) continue;
      this.moves.delete(id);
      void this.checkSwitch(move);
    }
    state.replicas.forEach((replicas, p) => {
      const target = state.target[p]!.join();
      const id = `${p}>${target}`;
      if (replicas.join() === target || this.seen.has(id)) return;
      this.seen.add(id);
      const partition = p as PartitionId;
      this.moves.set(id, { partition, target, replicas, ring: state, held: this.heldByAll(partition, replicas) });
    });
  }

  private async heldByAll(partition: PartitionId, replicas: readonly NodeId[]): Promise<Map<string, Dot[]>> {
    const out = new Map<string, Dot[]>();
    const nodes = replicas.filter((id) => !this.cluster.retired.has(id)).map((id) => this.cluster.node(id));
    for (const [key, dots] of this.acked) {
      if (partitionOfKey(this.cluster, key) !== partition) continue;
      const copies = await Promise.all(nodes.map((n) => n.disk.get(key)));
      out.set(key, dots.filter((dot) => copies.every((c) => c !== undefined && covers(c.context, dot))));
    }
    return out;
  }

  private async checkSwitch(move: Move): Promise<void> {
    const partition = move.partition;
    this.checks++;
    const held = await move.held;
    const incoming = move.target.split(',').filter((id) => !move.replicas.includes(id as NodeId)) as NodeId[];
    for (const id of incoming) {
      for (const [key, dots] of held) {
        const copy = await this.cluster.node(id).disk.get(key);
        const missing = dots.filter((dot) => copy === undefined || !covers(copy.context, dot));
        if (missing.length === 0) continue;
        const dot = missing[0]!;
        this.fail(
          `partition ${partition} switched from [${move.replicas.join(',')}] to [${move.target}] but ${id} lacks ${missing.length} write(s) of ${key} ` +
            `every old replica held when the move was committed (e.g. ${dot[0]}#${dot[1]}): ownership moved before the data`,
          { key, atMs: this.now() },
        );
        return;
      }
    }
  }
}
