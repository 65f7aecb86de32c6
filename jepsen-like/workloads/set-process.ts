// The set workload, written once for the harness and the simulator (after Jepsen's set-full): each
// key holds a grow-only set of integers as a JSON array. An add reads the key (r=quorum), merges
// the siblings, appends a new unique element and writes the result back with the read's context
// (w=quorum). The safe client merges every sibling; the unsafe one keeps only the last
// (last-writer-wins), so concurrent adds get lost. Some operations only read a set. A share of
// operations go to churn keys instead: a read, then an overwrite with [element] or a delete with
// the context read, so deletes, tombstones and their reaping race with everything else
// (checkers/supersession.ts checks that nothing superseded survives). Optionally (the simulator) a
// share of churn writes are conditional: If-None-Match: * when the read found no live value (a
// put), If-Match the context read otherwise; a 412 is a `fail` (nothing was written). And a share
// of churn puts carry a ttl: a long one outliving the run, or a short one expiring in it.
//
// An add is recorded from before its read: `fail` when the read failed or the port says the write
// certainly did not happen, `info` when it may have. Draws, in this order, per operation: churn or
// not, key, node, then delete-or-write (churn) or read-or-add, then (churn, when the mix has them)
// conditional or not and the ttl; the simulator's seeds depend on it.
import type { Prng } from '../prng.js';
import type { Recorder } from './client.js';
import type { ClientPort, WriteAck, WriteOptions } from './port.js';

/** What operations a process issues. */
export interface SetMix {
  readonly keys: readonly string[];
  readonly churnKeys: readonly string[];
  /** Share of operations on churn keys (when there are any). */
  readonly churnFraction: number;
  /** Share of the other operations that only read a set. */
  readonly readFraction: number;
  readonly client: 'safe' | 'unsafe';
  /** Share of churn writes and deletes made conditional (none when absent). */
  readonly conditionFraction?: number | undefined;
  /** Churn puts with a ttl: each entry's share of them, and the ttls it picks from (none when absent). */
  readonly ttl?: readonly { readonly fraction: number; readonly seconds: readonly number[] }[] | undefined;
}

/** How a churn write is made, drawn before its read; the condition's kind depends on what the read finds. */
interface ChurnOptions {
  readonly conditional: boolean;
  readonly ttlSeconds: number | undefined;
}

/** One client process of the set workload: its port, its randomness, its pacing, its history. */
export interface SetProcess<Ctx> {
  readonly process: number;
  readonly port: ClientPort<Ctx>;
  readonly prng: Pick<Prng, 'chance' | 'pick'>;
  readonly history: Recorder;
  /** A new element, unique in the run. */
  readonly nextElement: () => number;
  /** Waits before an operation (think time); false: stop instead. */
  readonly beforeOp: () => Promise<boolean>;
  /** Waits after an operation that failed (a back-off), if the driver wants one. */
  readonly afterFailure: () => Promise<void>;
  /** Told of every acknowledged add, churn write and delete before it is recorded ok (the simulator checks its durability). */
  readonly onWriteAcked?: (key: string, ack: WriteAck, putInvokedAtMs: number, opts: WriteOptions) => Promise<void>;
}

/** The sorted union of a read's sibling sets: what the read saw. */
export const unionOf = (sets: readonly (readonly number[])[]): number[] => [...new Set(sets.flat())].sort((a, b) => a - b);

/** Operations one after another until `beforeOp` says stop. */
export async function runSetProcess<Ctx>(mix: SetMix, p: SetProcess<Ctx>): Promise<void> {
  for (;;) {
    if (!(await p.beforeOp())) return;
    if (!(await oneOperation(mix, p))) await p.afterFailure();
  }
}

/** Chooses and runs one operation; false when it did not succeed. */
function oneOperation<Ctx>(mix: SetMix, p: SetProcess<Ctx>): Promise<boolean> {
  const { prng } = p;
  if (mix.churnKeys.length > 0 && prng.chance(mix.churnFraction)) {
    const key = prng.pick(mix.churnKeys);
    const node = prng.pick(p.port.nodes);
    const f = prng.chance(0.5) ? 'delete' : 'write';
    return churn(p, key, node, f, p.nextElement(), churnOptions(mix, prng, f));
  }
  const key = prng.pick(mix.keys);
  const node = prng.pick(p.port.nodes);
  if (prng.chance(mix.readFraction)) return read(p, key, node);
  return add(p, key, node, p.nextElement(), mix.client);
}

async function read<Ctx>(p: SetProcess<Ctx>, key: string, node: string): Promise<boolean> {
  const inv = p.history.invoke(p.process, 'read', key, null, node);
  const got = await p.port.get(node, key, 'quorum');
  if (got.kind !== 'ok') {
    p.history.complete(inv, 'fail', null, got.status);
    return false;
  }
  p.history.complete(inv, 'ok', unionOf(got.siblings), got.status);
  return true;
}

async function add<Ctx>(p: SetProcess<Ctx>, key: string, node: string, element: number, client: SetMix['client']): Promise<boolean> {
  const inv = p.history.invoke(p.process, 'add', key, element, node);
  const got = await p.port.get(node, key, 'quorum');
  // Nothing was written yet: whatever went wrong, the add certainly did not happen.
  if (got.kind !== 'ok') {
    p.history.complete(inv, 'fail', element, got.status);
    return false;
  }
  // The unsafe client's mistake: of several siblings it keeps one, as if the last writer won.
  const base = client === 'unsafe' && got.siblings.length > 1 ? got.siblings[got.siblings.length - 1]! : unionOf(got.siblings);
  const putAtMs = p.history.now();
  const put = await p.port.put(node, key, [...base, element], got.context);
  if (put.kind !== 'ok') {
    p.history.complete(inv, put.kind, element, put.status);
    return false;
  }
  await p.onWriteAcked?.(key, put, putAtMs, {});
  p.history.complete(inv, 'ok', element, put.status);
  return true;
}

/** Draws (only for a mix that has them) whether a churn operation is conditional and its ttl. */
function churnOptions(mix: SetMix, prng: SetProcess<unknown>['prng'], f: 'write' | 'delete'): ChurnOptions {
  const conditional = mix.conditionFraction !== undefined && prng.chance(mix.conditionFraction);
  let ttlSeconds: number | undefined;
  if (f === 'write') {
    for (const choice of mix.ttl ?? []) {
      if (prng.chance(choice.fraction)) {
        ttlSeconds = prng.pick(choice.seconds);
        break;
      }
    }
  }
  return { conditional, ttlSeconds };
}

/**
 * Read-modify-write of a churn key: replace what was read with [element], or delete it. A
 * conditional one asks for the key to be as read: absent (a put after a read found no live
 * value) or at the context read; a delete after such a read goes unconditional.
 */
async function churn<Ctx>(p: SetProcess<Ctx>, key: string, node: string, f: 'write' | 'delete', element: number, how: ChurnOptions): Promise<boolean> {
  const value = f === 'write' ? element : null;
  const inv = p.history.invoke(p.process, f, key, value, node);
  const got = await p.port.get(node, key, 'quorum');
  if (got.kind !== 'ok') {
    p.history.complete(inv, 'fail', value, got.status);
    return false;
  }
  const absent = got.siblings.length === 0;
  const condition = !how.conditional ? undefined : absent ? (f === 'write' ? 'absent' : undefined) : 'match';
  const opts: WriteOptions = { condition, ttlSeconds: how.ttlSeconds };
  const writeAtMs = p.history.now();
  const done = f === 'write' ? await p.port.put(node, key, [element], got.context, opts) : await p.port.delete(node, key, got.context, opts);
  if (done.kind !== 'ok') {
    p.history.complete(inv, done.kind, value, done.status);
    return false;
  }
  await p.onWriteAcked?.(key, done, writeAtMs, opts);
  // What the write superseded at least: the context read (a conditional `absent` joins it with the coordinator's read).
  p.history.complete(inv, 'ok', value, done.status, p.port.sentContext(got.context, key));
  return true;
}
