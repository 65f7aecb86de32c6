// The durability promise behind "no acknowledged write is lost": once a client hears ok, the
// write is durable on at least W distinct nodes (as an object or as a hint), and it stays on W
// until every primary has it (while membership changes: every replica and target replica in any
// running node's ring). Only a wipe, or the removal of a node that died for good, may take a copy
// away (each excuses one); a node that left holds no copy any more. A crash never does, and
// neither may the core itself: dropping the copy that made up the quorum (say, a hint discarded
// before delivery, or a partition handed away too early) leaves the write one disk failure away
// from being lost.
// Copies are read as a crash would leave them (SimStorage.committed, not staged writes).
import { covers } from '../../src/core/dvv.js';
import type { Dot, NodeId, VersionedObject } from '../../src/core/types.js';
import type { SimCluster } from './cluster.js';
import { partitionOfKey, replicasNow } from './rings.js';

interface Acked {
  readonly key: string;
  readonly dot: Dot;
  readonly w: number;
  /** When its put was invoked: a wipe from then on may have taken a copy before the ack. */
  readonly sinceMs: number;
  readonly ackMs: number;
}

/** Per node: what survives a crash now of its copy of `key` and of its hints for `key`. */
async function copiesOf(cluster: SimCluster, key: string): Promise<Map<NodeId, { object: VersionedObject | undefined; hints: VersionedObject[] }>> {
  const out = new Map<NodeId, { object: VersionedObject | undefined; hints: VersionedObject[] }>();
  for (const node of cluster.activeNodes()) {
    const object = node.storage ? await node.storage.committed(key) : await node.disk.get(key);
    const hints: VersionedObject[] = [];
    for (const [target] of node.disk.hintCounts()) {
      for (const h of await node.disk.listHints(target, Number.MAX_SAFE_INTEGER)) if (h.key === key) hints.push(h.object);
    }
    out.set(node.id, { object, hints });
  }
  return out;
}

const dotText = (d: Dot) => `${d[0]}#${d[1]}`;

export class Durability {
  /** Acknowledged writes not yet on every primary. */
  private tracked: Acked[] = [];
  /** Every acknowledged write, by key (the handover check asks new replicas for them). */
  readonly everAcked = new Map<string, Dot[]>();
  checks = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly now: () => number,
    private readonly fail: (check: string, message: string, focus: { key: string; atMs: number }) => void,
  ) {}

  /** A client was told `dot` was written to `key`; its put was invoked at `sinceMs`. */
  async acknowledged(key: string, dot: Dot, w: number, sinceMs: number): Promise<void> {
    this.checks++;
    this.everAcked.set(key, [...(this.everAcked.get(key) ?? []), dot]);
    const copies = await copiesOf(this.cluster, key);
    const holders = [...copies].filter(([, c]) => holds(c, dot)).map(([id]) => id);
    // A wipe since the put may have taken a copy on purpose.
    if (holders.length < w && this.cluster.wipesSince(sinceMs) === 0) {
      const message = `${key}: write ${dotText(dot)} acknowledged to the client but durable only on [${holders.join(',')}], W=${w}`;
      this.fail('acked-write-durable', message, { key, atMs: this.now() });
    }
    this.tracked.push({ key, dot, w, sinceMs, ackMs: this.now() });
  }

  /** Every tracked write still has W copies (less one per wipe since); those on every primary are done. */
  async check(): Promise<void> {
    const byKey = new Map<string, Acked[]>();
    for (const a of this.tracked) byKey.set(a.key, [...(byKey.get(a.key) ?? []), a]);
    const still: Acked[] = [];
    for (const [key, acked] of byKey) {
      const copies = await copiesOf(this.cluster, key);
      const primaries = replicasNow(this.cluster, partitionOfKey(this.cluster, key));
      for (const a of acked) {
        const holders = [...copies].filter(([, c]) => holds(c, a.dot)).map(([id]) => id);
        const wipes = this.cluster.wipesSince(a.sinceMs);
        if (holders.length + wipes < a.w) {
          this.fail(
            'acked-write-stays-durable',
            `${key}: write ${dotText(a.dot)}, acknowledged at ${a.ackMs} ms, is now durable only on [${holders.join(',')}] (W=${a.w}, ${wipes} wipe(s) since): ` +
              'a copy that made up its quorum was dropped before every primary had it',
            { key, atMs: a.ackMs },
          );
        }
        if (!primaries.every((p) => copies.get(p)?.object !== undefined && covers(copies.get(p)!.object!.context, a.dot))) still.push(a);
      }
    }
    this.tracked = still;
  }
}

function holds(copy: { object: VersionedObject | undefined; hints: VersionedObject[] }, dot: Dot): boolean {
  return (copy.object !== undefined && covers(copy.object.context, dot)) || copy.hints.some((h) => covers(h.context, dot));
}
