// The client port over the simulated network: requests as the HTTP API would carry them (r/w
// quorum, pr = pw = 0, the coordinator's deadline), answers mapped to what the HTTP client would
// have seen. A refused connection is `fail` (nothing reached the node); a reset, a timeout or an
// error answer to a write is `info`. The context stays a context object; what is recorded with a
// churn write is its token, as the HTTP client would have sent it. A condition that did not hold
// (precondition_failed, the HTTP 412) is `fail`: the coordinator wrote nothing.
import { encodeContext } from '../../src/core/context-token.js';
import { covers, liveValues } from '../../src/core/dvv.js';
import type { ClientOp, ClientResult, WriteCondition } from '../../src/core/rpc.js';
import type { CausalContext, Dot, NodeId, VersionedObject } from '../../src/core/types.js';
import type { ClientPort, PortOutcome, WriteAck, WriteOptions } from '../workloads/port.js';
import type { ClientOutcome, SimNetwork } from './network.js';
import { SimFailure } from './world.js';

type OkResult = Extract<ClientResult, { ok: true }>;

export interface SimPortTimeouts {
  /** The coordinator's deadline (the `timeout` query parameter). */
  readonly requestTimeoutMs: number;
  /** When the client itself gives up on one request. */
  readonly clientTimeoutMs: number;
}

/** Each sibling live at wall-clock `nowMs`, as a JSON array of integers; anything else is a corrupt value, a safety failure. */
function siblingSets(object: VersionedObject | undefined, nowMs: number): number[][] {
  return liveValues(object, nowMs).map((value) => {
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
const readStatus = (nowMs: number) => (r: OkResult) => {
  const live = liveValues(r.object, nowMs).length;
  return live === 0 ? 404 : live > 1 ? 300 : 200;
};

/** The sibling a put created: in the writer's context, not in the one it wrote with. */
function writtenSibling(result: OkResult, before: CausalContext): { dot: Dot; expiresAtMs: number | undefined } | undefined {
  const s = result.object?.siblings.find((s) => covers(result.context, s.dot) && !covers(before, s.dot));
  return s && { dot: s.dot, expiresAtMs: s.value.kind === 'value' ? s.value.expiresAtMs : undefined };
}

function written(o: ClientOutcome, before: CausalContext): PortOutcome<WriteAck> {
  if (o.kind === 'result' && o.result.ok) return { kind: 'ok', status: 204, ...writtenSibling(o.result, before) };
  if (o.kind === 'result' && !o.result.ok && o.result.code === 'precondition_failed') return { kind: 'fail', status: 412 };
  return { kind: o.kind === 'refused' ? 'fail' : 'info', status: statusOf(o, () => 204) };
}

/** The coordinator's condition for a port's option: `match` is on the context the client sends. */
function conditionOf(opts: WriteOptions | undefined, context: CausalContext): WriteCondition | undefined {
  return opts?.condition === 'match' ? { kind: 'match', context } : opts?.condition === 'absent' ? { kind: 'absent' } : undefined;
}

/** `wallClockMs`: the nodes' wall clock, which decides what a read answer holds live. */
export function simPort(network: SimNetwork, nodes: readonly NodeId[], t: SimPortTimeouts, wallClockMs: () => number): ClientPort<CausalContext> {
  const call = (node: string, op: ClientOp) => network.clientCall(node as NodeId, op, t.clientTimeoutMs);
  const timeoutMs = t.requestTimeoutMs;
  const json = (value: readonly number[]) => new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));
  return {
    nodes,
    async get(node, key, r) {
      const got = await call(node, { op: 'get', key, r, pr: 0, timeoutMs });
      const nowMs = wallClockMs();
      if (got.kind !== 'result' || !got.result.ok) return { kind: 'fail', status: statusOf(got, readStatus(nowMs)) };
      return { kind: 'ok', status: readStatus(nowMs)(got.result), siblings: siblingSets(got.result.object, nowMs), context: got.result.context };
    },
    put: async (node, key, value, context, opts) => {
      const { ttlSeconds } = opts ?? {};
      const op = { op: 'put', key, data: json(value), contentType: 'application/json', context, ttlSeconds, condition: conditionOf(opts, context), w: 'quorum', pw: 0, timeoutMs } as const;
      return written(await call(node, op), context);
    },
    delete: async (node, key, context, opts) =>
      written(await call(node, { op: 'delete', key, context, condition: conditionOf(opts, context), w: 'quorum', pw: 0, timeoutMs }), context),
    sentContext: (context, key) => encodeContext(context, key),
  };
}
