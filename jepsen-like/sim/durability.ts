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

type Copy = { object: VersionedObject | undefined; hints: VersionedObject[] };

/** Per key, per node: what survives a crash now of its copy of the key and of its hints for it (hints listed once per node). */
async function copiesOf(cluster: SimCluster, keys: readonly string[]): Promise<Map<string, Map<NodeId, Copy>>> {
  const out = new Map<string, Map<NodeId, Copy>>(keys.map((k) => [k, new Map()]));
  for (const node of cluster.activeNodes()) {
    const hints = new Map<string, VersionedObject[]>(keys.map((k) => [k, []]));
    for (const [target] of node.disk.hintCounts()) {
      for (const h of await node.disk.listHints(target, Number.MAX_SAFE_INTEGER)) hints.get(h.key)?.push(h.object);
    }
    for (const key of keys) {
      const object = node.storage ? await node.storage.committed(key) : await node.disk.get(key);
      out.get(key)!.set(node.id, { object, hints: hints.get(key)! });
    }
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

  /**
   * A client was told `dot` was written to `key`; its put was invoked at `sinceMs`. `handedOver`:
   * whether a partition's new replicas must hold it (not a churn key's: once superseded, or
   * expired, and reaped, a version rightly vanishes). A write may be reaped while tracked (the
   * last primary gets the tombstone and the reaper removes it before the next check): a write
   * that a dead version (tombstones and expired values only) covered, reaped anywhere since, is
   * excused; a reaper that removed a live value is not.
   */
  async acknowledged(key: string, dot: Dot, w: number, sinceMs: number, handedOver = true): Promise<void> {
    this.checks++;
    if (handedOver) this.everAcked.set(key, [...(this.everAcked.get(key) ?? []), dot]);
    const copies = (await copiesOf(this.cluster, [key])).get(key)!;
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
    const all = await copiesOf(this.cluster, [...byKey.keys()]);
    for (const [key, acked] of byKey) {
      const copies = all.get(key)!;
      const primaries = replicasNow(this.cluster, partitionOfKey(this.cluster, key));
      for (const a of acked) {
        const holders = [...copies].filter(([, c]) => holds(c, a.dot)).map(([id]) => id);
        const wipes = this.cluster.wipesSince(a.sinceMs);
        // Superseded by a delete (or expired) and reaped since: gone on purpose (a churn key's).
        if (holders.length + wipes < a.w && this.cluster.reapedOver(key, a.dot)) continue;
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

function holds(copy: Copy, dot: Dot): boolean {
  return (copy.object !== undefined && covers(copy.object.context, dot)) || copy.hints.some((h) => covers(h.context, dot));
}
