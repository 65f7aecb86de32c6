// The register workload: key reg-k has exactly one writer, client process k mod concurrency, which
// writes increasing integers (w=quorum), each write carrying the context of its previous
// acknowledged write so it supersedes it. Every process reads random keys with r=quorum; with
// r + w > N such a read should never go below a value its process saw acknowledged (the checker
// decides, outside fault windows). A read that finds siblings (a write that ended `info` surfacing
// next to a later one) reports the largest: with one writer per key, the largest is the newest.
import {
  isReadAnswer, kvUrl, pause, quorumTimeoutMs, RequestFailed, siblingsOf,
  type KvResponse, type ProcessContext, type Workload,
} from './client.js';

export interface RegisterOptions {
  readonly keys: number;
  readonly concurrency: number;
}

/** The register's value in a read answer: the largest sibling, null when not found. */
export function registerValue(res: KvResponse): number | null {
  const values = siblingsOf(res).map((s) => {
    const n: unknown = JSON.parse(s.value.toString('utf8'));
    if (!Number.isInteger(n)) throw new Error('not an integer');
    return n as number;
  });
  return values.length === 0 ? null : Math.max(...values);
}

export function registerWorkload(opts: RegisterOptions): Workload {
  const keys = Array.from({ length: opts.keys }, (_, i) => `reg-${i}`);
  return {
    keys,
    churnKeys: [],
    finalValue: (res) => registerValue(res),
    async runProcess(ctx: ProcessContext): Promise<void> {
      const owned = keys.filter((_, k) => k % opts.concurrency === ctx.process);
      const next = new Map(owned.map((k) => [k, 0]));
      /** Context of the last acknowledged write per owned key; undefined: read before writing. */
      const contexts = new Map<string, string | undefined>();
      while (!ctx.stopped()) {
        let ok: boolean;
        if (owned.length > 0 && ctx.prng.chance(0.5)) {
          const key = ctx.prng.pick(owned);
          const value = next.get(key)! + 1;
          next.set(key, value);
          ok = await write(ctx, key, value, contexts);
        } else {
          ok = (await read(ctx, ctx.prng.pick(keys))) !== undefined;
        }
        if (!ok) await pause(ctx.prng.int(50, 150));
      }
    },
  };
}

/** A recorded quorum read; returns the response, or undefined when it failed. */
async function read(ctx: ProcessContext, key: string): Promise<KvResponse | undefined> {
  const node = ctx.prng.pick(ctx.nodes());
  const inv = ctx.history.invoke(ctx.process, 'read', key, null, node.id, true);
  try {
    const res = await ctx.kv.send('GET', kvUrl(node, key, `r=quorum&timeout=${quorumTimeoutMs}`));
    if (!isReadAnswer(res.status)) {
      ctx.history.complete(inv, 'fail', null, res.status);
      return undefined;
    }
    ctx.history.complete(inv, 'ok', registerValue(res), res.status);
    return res;
  } catch (err) {
    ctx.history.complete(inv, 'fail', null, err instanceof RequestFailed ? err.status : `bad body: ${(err as Error).message}`);
    return undefined;
  }
}

async function write(ctx: ProcessContext, key: string, value: number, contexts: Map<string, string | undefined>): Promise<boolean> {
  // After an indeterminate write (or at first) our context may not cover what is stored: read first.
  if (contexts.get(key) === undefined) {
    const res = await read(ctx, key);
    if (res === undefined) return false;
    contexts.set(key, res.context);
  }
  const node = ctx.prng.pick(ctx.nodes());
  const inv = ctx.history.invoke(ctx.process, 'write', key, value, node.id);
  try {
    const res = await ctx.kv.send('PUT', kvUrl(node, key, `w=quorum&timeout=${quorumTimeoutMs}`), {
      body: Buffer.from(JSON.stringify(value)), context: contexts.get(key), contentType: 'application/json',
    });
    if (res.status === 204) {
      ctx.history.complete(inv, 'ok', value, 204);
      contexts.set(key, res.context);
      return true;
    }
    ctx.history.complete(inv, res.status >= 400 && res.status < 500 ? 'fail' : 'info', value, res.status);
  } catch (err) {
    ctx.history.complete(inv, 'info', value, err instanceof RequestFailed ? err.status : String(err));
  }
  contexts.set(key, undefined);
  return false;
}
