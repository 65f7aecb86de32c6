// The client port over the simulated network: requests as the HTTP API would carry them (r/w
// quorum, pr = pw = 0, the coordinator's deadline), answers mapped to what the HTTP client would
// have seen. A refused connection is `fail` (nothing reached the node); a reset, a timeout or an
// error answer to a write is `info`. The context stays a context object; what is recorded with a
// churn write is its token, as the HTTP client would have sent it.
import { encodeContext } from '../../src/core/context-token.js';
import { covers, liveValues } from '../../src/core/dvv.js';
import type { ClientOp, ClientResult } from '../../src/core/rpc.js';
import type { CausalContext, Dot, NodeId, VersionedObject } from '../../src/core/types.js';
import type { ClientPort, PortOutcome, WriteAck } from '../workloads/port.js';
import type { ClientOutcome, SimNetwork } from './network.js';
import { SimFailure } from './world.js';

type OkResult = Extract<ClientResult, { ok: true }>;

/** The simulated workloads write no TTL, so no value ever expires: liveness at any instant is the same. */
const anyInstantMs = 0;

export interface SimPortTimeouts {
  /** The coordinator's deadline (the `timeout` query parameter). */
  readonly requestTimeoutMs: number;
  /** When the client itself gives up on one request. */
  readonly clientTimeoutMs: number;
}

/** Each live sibling's JSON array of integers; anything else is a corrupt value, a safety failure. */
function siblingSets(object: VersionedObject | undefined): number[][] {
  return liveValues(object, anyInstantMs).map((value) => {
    const parsed: unknown = JSON.parse(Buffer.from(value.data).toString('utf8'));
    if (!Array.isArray(parsed) || !parsed.every((x) => Number.isInteger(x))) {
      throw new SimFailure('safety', 'value-corrupt', `a sibling is not a JSON array of integers: ${JSON.stringify(parsed)}`);
    }
    return parsed as number[];
  });
}

const statusOf = (o: ClientOutcome, okStatus: (r: OkResult) => number): number | string => {
  if (o.kind === 'result') return o.result.ok ? okStatus(o.result) : o.result.code === 'quorum_unavailable' ? 503 : o.result.code;
  return o.kind === 'refused' ? 'ECONNREFUSED' : o.kind === 'reset' ? 'ECONNRESET' : 'timeout';
};
const readStatus = (r: OkResult) => (liveValues(r.object, anyInstantMs).length === 0 ? 404 : liveValues(r.object, anyInstantMs).length > 1 ? 300 : 200);

/** The dot of the sibling a put created: in the writer's context, not in the one it wrote with. */
function writtenDot(result: OkResult, before: CausalContext): Dot | undefined {
  return result.object?.siblings.find((s) => covers(result.context, s.dot) && !covers(before, s.dot))?.dot;
}

function written(o: ClientOutcome, before: CausalContext): PortOutcome<WriteAck> {
  if (o.kind === 'result' && o.result.ok) return { kind: 'ok', status: 204, dot: writtenDot(o.result, before) };
  return { kind: o.kind === 'refused' ? 'fail' : 'info', status: statusOf(o, () => 204) };
}

export function simPort(network: SimNetwork, nodes: readonly NodeId[], t: SimPortTimeouts): ClientPort<CausalContext> {
  const call = (node: string, op: ClientOp) => network.clientCall(node as NodeId, op, t.clientTimeoutMs);
  const timeoutMs = t.requestTimeoutMs;
  const json = (value: readonly number[]) => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));
  return {
    nodes,
    async get(node, key, r) {
      const got = await call(node, { op: 'get', key, r, pr: 0, timeoutMs });
      if (got.kind !== 'result' || !got.result.ok) return { kind: 'fail', status: statusOf(got, readStatus) };
      return { kind: 'ok', status: readStatus(got.result), siblings: siblingSets(got.result.object), context: got.result.context };
    },
    put: async (node, key, value, context) =>
      written(await call(node, { op: 'put', key, data: json(value), contentType: 'application/json', context, w: 'quorum', pw: 0, timeoutMs }), context),
    delete: async (node, key, context) => written(await call(node, { op: 'delete', key, context, w: 'quorum', pw: 0, timeoutMs }), context),
    sentContext: (context, key) => encodeContext(context, key),
  };
}
