// The set workload (after Jepsen's set-full): each key holds a grow-only set of integers as a JSON
// array. An add reads the key (r=quorum), merges what it read, appends a new unique element and
// writes the result back with the read's context (w=quorum). The safe client merges every sibling
// of a 300; the unsafe one keeps only the last (last-writer-wins), so concurrent adds get lost.
// With churn keys, a share of operations instead reads a churn key and overwrites or deletes it
// with the context it read, so deletes, tombstone reaping and re-creation race with the faults
// (checkers/supersession.ts checks that nothing superseded survives).
import {
  isReadAnswer, kvUrl, pause, quorumTimeoutMs, RequestFailed, siblingsOf,
  type KvResponse, type ProcessContext, type Workload,
} from './client.js';

export interface SetOptions {
  readonly keys: number;
  readonly client: 'safe' | 'unsafe';
  readonly churnKeys: number;
}

/** Share of operations on churn keys when there are any. */
const churnFraction = 0.2;

/** The elements of one stored value (a JSON array of integers). */
export function decodeElements(value: Buffer): number[] {
  const parsed: unknown = JSON.parse(value.toString('utf8'));
  if (!Array.isArray(parsed) || !parsed.every((x) => Number.isInteger(x))) throw new Error('not a JSON array of integers');
  return parsed as number[];
}

const union = (sets: readonly (readonly number[])[]) => [...new Set(sets.flat())].sort((a, b) => a - b);

/** Every element in a read answer (the union of its siblings): what the read saw. */
export function elementsOf(res: KvResponse): number[] {
  return union(siblingsOf(res).map((s) => decodeElements(s.value)));
}

export function setWorkload(opts: SetOptions): Workload {
  const keys = Array.from({ length: opts.keys }, (_, i) => `set-${i}`);
  const churnKeys = Array.from({ length: opts.churnKeys }, (_, i) => `churn-${i}`);
  return {
    keys,
    churnKeys,
    finalValue: (res) => elementsOf(res),
    async runProcess(ctx: ProcessContext): Promise<void> {
      let counter = 0;
      while (!ctx.stopped()) {
        const element = ctx.process * 1e6 + ++counter;
        const ok = churnKeys.length > 0 && ctx.prng.chance(churnFraction)
          ? await churn(ctx, ctx.prng.pick(churnKeys), element)
          : await add(ctx, ctx.prng.pick(ctx.keys), element, opts.client);
        // After an error do not hammer a node that is down: a short, seeded back-off.
        if (!ok) await pause(ctx.prng.int(50, 150));
      }
    },
  };
}

/** One add: a recorded read, then a recorded add. Returns false when something failed. */
async function add(ctx: ProcessContext, key: string, element: number, client: SetOptions['client']): Promise<boolean> {
  const { history, kv, process } = ctx;
  const node = ctx.prng.pick(ctx.nodes);
  const read = history.invoke(process, 'read', key, null, node.id);
  let res: KvResponse | undefined;
  let readStatus: number | string;
  let seen: number[][] = [];
  try {
    res = await kv.send('GET', kvUrl(node, key, `r=quorum&timeout=${quorumTimeoutMs}`));
    readStatus = res.status;
    if (isReadAnswer(res.status)) seen = siblingsOf(res).map((s) => decodeElements(s.value));
    else res = undefined;
  } catch (err) {
    readStatus = err instanceof RequestFailed ? err.status : `bad body: ${(err as Error).message}`;
    res = undefined;
  }
  if (res === undefined) {
    // Nothing was written: the add certainly did not happen.
    history.complete(read, 'fail', null, readStatus);
    const failed = history.invoke(process, 'add', key, element, node.id);
    history.complete(failed, 'fail', element, `read ${readStatus}`);
    return false;
  }
  history.complete(read, 'ok', union(seen), readStatus);

  // The unsafe client's mistake: of several siblings it keeps one, as if the last writer won.
  const base = client === 'unsafe' && seen.length > 1 ? seen[seen.length - 1]! : union(seen);
  const body = Buffer.from(JSON.stringify(union([base, [element]])));
  const write = history.invoke(process, 'add', key, element, node.id);
  try {
    const put = await kv.send('PUT', kvUrl(node, key, `w=quorum&timeout=${quorumTimeoutMs}`), {
      body, context: res.context, contentType: 'application/json',
    });
    if (put.status === 204) {
      history.complete(write, 'ok', element, 204);
      return true;
    }
    // 503: stored on fewer than w replicas, may surface later. A 4xx is a harness bug: nothing stored.
    const definite = put.status >= 400 && put.status < 500;
    history.complete(write, definite ? 'fail' : 'info', element, put.status);
  } catch (err) {
    history.complete(write, 'info', element, err instanceof RequestFailed ? err.status : String(err));
  }
  return false;
}

/** One churn operation: read the key, then overwrite it with [element] or delete it, with that context. */
async function churn(ctx: ProcessContext, key: string, element: number): Promise<boolean> {
  const { history, kv, process } = ctx;
  const node = ctx.prng.pick(ctx.nodes);
  const f = ctx.prng.chance(0.5) ? 'delete' : 'write';
  const value = f === 'write' ? element : null;
  const inv = history.invoke(process, f, key, value, node.id);
  let read: KvResponse;
  try {
    read = await kv.send('GET', kvUrl(node, key, `r=quorum&timeout=${quorumTimeoutMs}`));
  } catch (err) {
    history.complete(inv, 'fail', value, `read ${err instanceof RequestFailed ? err.status : String(err)}`);
    return false;
  }
  if (!isReadAnswer(read.status)) {
    history.complete(inv, 'fail', value, `read ${read.status}`);
    return false;
  }
  const query = `w=quorum&timeout=${quorumTimeoutMs}`;
  try {
    const res = f === 'write'
      ? await kv.send('PUT', kvUrl(node, key, query), { body: Buffer.from(JSON.stringify([element])), context: read.context, contentType: 'application/json' })
      : await kv.send('DELETE', kvUrl(node, key, query), { context: read.context });
    if (res.status === 204) {
      history.complete(inv, 'ok', value, 204, read.context);
      return true;
    }
    history.complete(inv, res.status >= 400 && res.status < 500 ? 'fail' : 'info', value, res.status);
  } catch (err) {
    history.complete(inv, 'info', value, err instanceof RequestFailed ? err.status : String(err));
  }
  return false;
}
