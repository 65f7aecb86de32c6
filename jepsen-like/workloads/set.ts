// The set workload in the harness: set-process.ts (written once, shared with the simulator) over
// HTTP, C client processes each with its own PRNG stream, no think time, and a short seeded
// back-off after an operation that failed, so a node that is down is not hammered.
import { pause, siblingsOf, type KvResponse, type ProcessContext, type Workload } from './client.js';
import { decodeElements, httpPort } from './http-port.js';
import { runSetProcess, unionOf, type SetMix } from './set-process.js';

export interface SetOptions {
  readonly keys: number;
  readonly client: 'safe' | 'unsafe';
  readonly churnKeys: number;
}

/** Share of operations on churn keys when there are any. */
const churnFraction = 0.2;
/** Share of the other operations that only read (stale reads are reported, never a violation). */
const readFraction = 0.2;

/** Every element in a read answer (the union of its siblings): what the read saw. */
function elementsOf(res: KvResponse): number[] {
  return unionOf(siblingsOf(res).map((s) => decodeElements(s.value)));
}

export function setWorkload(opts: SetOptions): Workload {
  const keys = Array.from({ length: opts.keys }, (_, i) => `set-${i}`);
  const churnKeys = Array.from({ length: opts.churnKeys }, (_, i) => `churn-${i}`);
  const mix: SetMix = { keys, churnKeys, churnFraction, readFraction, client: opts.client };
  let elements = 0; // shared by the processes: elements are unique in the run
  return {
    keys,
    churnKeys,
    finalValue: (res) => elementsOf(res),
    runProcess: (ctx: ProcessContext) =>
      runSetProcess(mix, {
        process: ctx.process,
        port: httpPort(ctx.kv, ctx.nodes),
        prng: ctx.prng,
        history: ctx.history,
        nextElement: () => elements++,
        beforeOp: async () => !ctx.stopped(),
        afterFailure: () => pause(ctx.prng.int(50, 150)),
      }),
  };
}
