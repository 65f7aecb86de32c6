// The client port over HTTP (the harness's undici client): a write that got no answer is `info` (it
// may have been applied) unless its connection was refused (`fail`), a 4xx is `fail` (nothing stored: a 412 whose condition
// did not hold, or a harness bug),
// a 503 or any other answer but 204 is `info` (stored on fewer than w replicas, may surface later).
import { isReadAnswer, kvUrl, quorumTimeoutMs, RequestFailed, siblingsOf, type KvClient, type KvResponse, type NodeRef } from './client.js';
import type { ClientPort, PortOutcome, WriteAck, WriteOptions } from './port.js';

/** The elements of one stored value (a JSON array of integers). */
export function decodeElements(value: Buffer): number[] {
  const parsed: unknown = JSON.parse(value.toString('utf8'));
  if (!Array.isArray(parsed) || !parsed.every((x) => Number.isInteger(x))) throw new Error('not a JSON array of integers');
  return parsed as number[];
}

/**
 * The port of one client process; the context is the X-Kvorum-Context token, as received. `nodes`
 * is asked each time a request picks a node (membership changes it); every node ever offered keeps
 * its URL, for a request that picked it just before it was taken away.
 */
export function httpPort(kv: KvClient, nodes: () => readonly NodeRef[]): ClientPort<string | undefined> {
  const byId = new Map<string, NodeRef>();
  const url = (node: string, key: string, query: string) => kvUrl(byId.get(node)!, key, `${query}&timeout=${quorumTimeoutMs}`);
  return {
    get nodes() {
      const now = nodes();
      for (const n of now) byId.set(n.id, n);
      return now.map((n) => n.id);
    },
    async get(node, key, r) {
      try {
        const res = await kv.send('GET', url(node, key, `r=${r}`));
        if (!isReadAnswer(res.status)) return { kind: 'fail', status: res.status };
        return { kind: 'ok', status: res.status, siblings: siblingsOf(res).map((s) => decodeElements(s.value)), context: res.context };
      } catch (err) {
        return { kind: 'fail', status: err instanceof RequestFailed ? err.status : `bad body: ${(err as Error).message}` };
      }
    },
    put: (node, key, value, context, opts) =>
      written(
        kv.send('PUT', url(node, key, opts?.ttlSeconds === undefined ? 'w=quorum' : `w=quorum&ttl=${opts.ttlSeconds}`), {
          body: Buffer.from(JSON.stringify(value)),
          contentType: 'application/json',
          ...conditional(context, opts),
        }),
      ),
    delete: (node, key, context, opts) => written(kv.send('DELETE', url(node, key, 'w=quorum'), conditional(context, opts))),
    sentContext: (context) => context,
  };
}

/** If-Match carries the context (sending X-Kvorum-Context too is refused); If-None-Match: * goes with it. */
function conditional(context: string | undefined, opts: WriteOptions | undefined): { context?: string | undefined; headers?: Record<string, string> } {
  if (opts?.condition === 'match') return { headers: { 'if-match': context ?? '' } };
  if (opts?.condition === 'absent') return { context, headers: { 'if-none-match': '*' } };
  return { context };
}

async function written(request: Promise<KvResponse>): Promise<PortOutcome<WriteAck>> {
  try {
    const res = await request;
    if (res.status === 204) return { kind: 'ok', status: 204 };
    return { kind: res.status >= 400 && res.status < 500 ? 'fail' : 'info', status: res.status };
  } catch (err) {
    const status = err instanceof RequestFailed ? err.status : String(err);
    // A refused connection never carried the request: certainly not applied, as the simulator records it.
    return { kind: status === 'ECONNREFUSED' ? 'fail' : 'info', status };
  }
}
