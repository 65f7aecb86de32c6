// Churn keys (set workload): clients read a key, then overwrite or delete it with the context they
// read. Once such a write or delete is acknowledged, every version its context covered is
// superseded for good, whatever happens later (tombstones reaped, the key written again, nodes
// killed or partitioned). After convergence no replica may still hold a sibling whose dot an
// acknowledged context covered: that would be a lost delete or a lost overwrite. Pure: the runner
// passes the history and the replicas' copies (GET /replica/kv/{key}), which name each sibling's dot.
import { covers } from '../../src/core/dvv.js';
import { decodeContext } from '../../src/core/context-token.js';
import { parseDot } from '../../src/api/views.js';
import type { ActorId, CausalContext, Dot } from '../../src/core/types.js';
import type { Op } from '../history.js';

/** One node's copy of a churn key after convergence: its siblings' dots (`actor:counter`). */
export interface ChurnCopy {
  readonly key: string;
  readonly node: string;
  readonly siblings: readonly { readonly dot: string; readonly deleted: boolean }[];
}

export interface Resurrection {
  readonly key: string;
  readonly node: string;
  readonly dot: string;
  readonly deleted: boolean;
  /** The acknowledged operation whose context superseded it. */
  readonly by: { readonly f: Op['f']; readonly process: number; readonly ackMs: number };
}

export interface SupersessionResults {
  readonly valid: boolean;
  /** Acknowledged churn writes and deletes, and replica copies looked at. */
  readonly acknowledged: number;
  readonly copies: number;
  /** Information: tombstones reaped during the run (at least), as the runner counted them. */
  readonly tombstonesReaped: number;
  readonly resurrected: { readonly count: number; readonly examples: readonly Resurrection[] };
}

const examplesMax = 20;


export function checkSupersession(history: readonly Op[], copies: readonly ChurnCopy[], tombstonesReaped = 0): SupersessionResults {
  const acked = new Map<string, { context: CausalContext; op: Op }[]>();
  let acknowledged = 0;
  for (const op of history) {
    if (op.type !== 'ok' || op.sentContext === undefined) continue;
    acknowledged++;
    const list = acked.get(op.key) ?? [];
    // Recorded from our own responses, maybe long ago: no bound on counters.
    list.push({ context: decodeContext(op.sentContext, { key: op.key, counterMax: Number.MAX_SAFE_INTEGER }), op });
    acked.set(op.key, list);
  }
  const examples: Resurrection[] = [];
  let count = 0;
  for (const copy of copies) {
    for (const sibling of copy.siblings) {
      const dot = parseDot(sibling.dot);
      const by = acked.get(copy.key)?.find((a) => covers(a.context, dot));
      if (by === undefined) continue;
      count++;
      if (examples.length < examplesMax) {
        examples.push({ key: copy.key, node: copy.node, dot: sibling.dot, deleted: sibling.deleted, by: { f: by.op.f, process: by.op.process, ackMs: by.op.timeMs } });
      }
    }
  }
  return { valid: count === 0, acknowledged, copies: copies.length, tombstonesReaped, resurrected: { count, examples } };
}
