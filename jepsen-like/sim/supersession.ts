// The promise a context makes: once a write (or delete) sent with context C is acknowledged,
// every version C covers is superseded for good. After healing and convergence no replica may
// hold a sibling whose dot an acknowledged operation's context covered: such a sibling is a
// lost delete or overwrite, e.g. a deleted value resurrected by a hint delivered after its
// tombstone was reaped. The churn keys of the workload (put and delete, read-modify-write)
// exercise it; the set keys only ever grow and never delete.
import { covers } from '../../src/core/dvv.js';
import type { CausalContext } from '../../src/core/types.js';
import type { Cluster } from './cluster.js';
import { SimFailure } from './world.js';

interface Superseding {
  readonly f: 'write' | 'delete';
  readonly context: CausalContext;
  readonly ackMs: number;
}

export class Supersession {
  private readonly acked = new Map<string, Superseding[]>();

  /** An operation on `key` sent with `context` was acknowledged at `ackMs`. */
  acknowledged(key: string, f: Superseding['f'], context: CausalContext, ackMs: number): void {
    const list = this.acked.get(key);
    if (list) list.push({ f, context, ackMs });
    else this.acked.set(key, [{ f, context, ackMs }]);
  }

  /** After convergence: no node's copy of a churn key keeps a sibling an acknowledged context covered. */
  async check(cluster: Cluster): Promise<void> {
    for (const [key, ops] of this.acked) {
      for (const node of cluster.nodes.values()) {
        const object = await node.disk.get(key);
        for (const { dot, value } of object?.siblings ?? []) {
          const by = ops.find((op) => covers(op.context, dot));
          if (by === undefined) continue;
          const what = value.kind === 'tombstone' ? 'tombstone' : 'value';
          throw new SimFailure(
            'safety',
            'superseded-stays-gone',
            `${key}: ${node.id} holds the ${what} ${dot[0]}#${dot[1]} after convergence, but the ${by.f} acknowledged at ${by.ackMs} ms had superseded it`,
            { key, atMs: by.ackMs },
          );
        }
      }
    }
  }
}
