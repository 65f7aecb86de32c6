// Sends one generated case, step by step, checks every answer (oracle.ts) and the step's
// post-check, and records what it saw. Transport failures on a node that has just died are the
// crash monitor's to report, not this request's.
import type { ConnectionOptions } from 'node:tls';
import { describeRequest } from './describe.js';
import type { Findings, RequestRecord, Stats } from './findings.js';
import type { Journal } from './journal.js';
import { catalogCode, checkExchange, type Violation } from './oracle.js';
import type { WireResponse } from './response-parser.js';
import type { CaseId, CaseStep, FuzzCase, HttpShape, PostCheck } from './types.js';
import { exchange, type ExchangeResult } from './wire.js';
import { renderRequest } from './wire-request.js';
import { transformContext } from './context-transform.js';
import { waitFor } from '../kit/wait.js';

export interface NodeHandle {
  readonly id: string;
  readonly port: number;
  /** Running and ready (not being restarted after a crash). */
  running(): boolean;
  /** How many times the node has died so far. */
  deaths(): number;
}

export interface SendContext {
  readonly nodes: readonly NodeHandle[];
  readonly deadlineMs: number;
  readonly findings: Findings;
  readonly stats: Stats;
  readonly journal: Journal;
  /** A cluster with --tls-cert: every connection is TLS with these options. */
  readonly tls?: ConnectionOptions;
  /** A cluster with --auth-file: the Authorization header of the post-checks' reads (an admin token). */
  readonly authorization?: string;
}

/** How long a node that dropped a connection gets to show that it died. */
const deathSettleMs = 1500;
const transportChecks = new Set(['no-answer', 'hang', 'connect-failed']);

const get = (target: string, authorization: string | undefined): HttpShape => ({
  method: 'GET',
  target,
  headers: authorization === undefined ? [] : [['Authorization', authorization]],
  body: Buffer.alloc(0),
  framing: { kind: 'length' },
});

export function summariseResponses(result: ExchangeResult): string {
  const lines = result.responses.map((r: WireResponse) => {
    const type = r.headers['content-type'] ?? '-';
    const node = r.headers['x-kvorum-node'] ?? '(no x-kvorum-node)';
    return `${r.status} content-type=${type} x-kvorum-node=${node} body=${JSON.stringify(r.body.subarray(0, 240).toString('utf8'))}`;
  });
  if (result.connectError) lines.push(`connect failed: ${result.connectError}`);
  else if (result.timedOut) lines.push(`no further answer within ${result.elapsedMs} ms`);
  else if (result.closed) lines.push(`connection closed by the server${result.socketError ? ` (${result.socketError})` : ''}`);
  if (result.garbage) lines.push(`garbled: ${result.garbage}`);
  return lines.join('\n');
}

function outcomesOf(result: ExchangeResult, step: CaseStep): string[] {
  const out = result.responses.map((r, i) => {
    const found = r.status >= 400 && !step.expect[i]?.head ? catalogCode(r) : undefined;
    return found && 'code' in found ? `${r.status} ${found.code}` : String(r.status);
  });
  if (result.connectError) out.push('refused');
  else if (result.responses.length === 0) out.push(result.timedOut ? 'timeout' : 'closed');
  return out;
}

async function postCheck(ctx: SendContext, node: NodeHandle, check: PostCheck, answer: WireResponse | undefined): Promise<Violation | undefined> {
  const status = answer?.status ?? 0;
  const send = (target: string) =>
    exchange(renderRequest(get(target, ctx.authorization)), { port: node.port, expect: 1, head: [false], deadlineMs: ctx.deadlineMs, ...(ctx.tls ? { tls: ctx.tls } : {}) });
  if (check.kind === 'stored') {
    if (status < 200 || status > 299) return undefined;
    const res = (await send(`/kv/${check.encodedKey}?r=all`)).responses[0];
    if (!res || res.status === 503) return undefined;
    const type = res.headers['content-type'];
    if (res.status === 200 && res.body.equals(check.body) && type !== undefined && check.contentTypes.includes(type)) return undefined;
    const got = res.status === 200 ? `${res.body.length} bytes${res.body.equals(check.body) ? ' (same)' : ' (different)'}, Content-Type ${JSON.stringify(type)}` : `${res.status} ${res.body.subarray(0, 200).toString('utf8')}`;
    return {
      check: 'stored-mismatch',
      message: `a ${status} write does not read back as sent (r=all): got ${got}; sent ${check.body.length} bytes with Content-Type ${check.contentTypes.map((t) => JSON.stringify(t)).join(' or ')}`,
      observed: res.status === 200 ? (res.body.equals(check.body) ? 'content-type differs' : 'value differs') : String(res.status),
    };
  }
  if (status < 400) return undefined;
  const res = (await send(`/replica/kv/${check.encodedKey}`)).responses[0];
  if (!res || res.status !== 200) return undefined;
  return { check: 'refused-but-applied', message: `the batch was refused (${status}) but ${node.id} now holds ${check.encodedKey}: ${res.body.subarray(0, 200).toString('utf8')}`, observed: String(status) };
}

/** Sends the case's steps in order (a step whose context source got none, or with no node running, is skipped). */
export async function sendCase(ctx: SendContext, fuzzCase: FuzzCase, id: CaseId): Promise<void> {
  ctx.stats.countCase(fuzzCase.family, fuzzCase.name);
  const results: (ExchangeResult | undefined)[] = [];
  for (const [index, step] of fuzzCase.steps.entries()) {
    results.push(await sendStep(ctx, fuzzCase, id, step, index, results));
  }
}

async function sendStep(ctx: SendContext, fuzzCase: FuzzCase, id: CaseId, step: CaseStep, index: number, results: readonly (ExchangeResult | undefined)[]): Promise<ExchangeResult | undefined> {
  let extra: (readonly [string, string])[] = [];
  if (step.context) {
    const issued = results[step.context.step]?.responses[0]?.headers['x-kvorum-context'];
    if (issued === undefined) {
      ctx.stats.skippedSteps++;
      return undefined;
    }
    extra = transformContext(issued, step.context.transform).map((value) => ['X-Kvorum-Context', value] as const);
  }
  // A node being restarted after a crash: the step goes to the next one that runs.
  const nodeIndex = ctx.nodes.map((_, k) => (step.node + k) % ctx.nodes.length).find((i) => ctx.nodes[i]!.running());
  if (nodeIndex === undefined) {
    ctx.stats.skippedSteps++;
    return undefined;
  }
  const node = ctx.nodes[nodeIndex]!;
  const bytes = Buffer.isBuffer(step.request) ? step.request : renderRequest(step.request as HttpShape, extra);
  const description = describeRequest(bytes);
  const label = `${id.worker}.${id.index} ${fuzzCase.name} step ${index}`;
  const entry = ctx.journal.start(nodeIndex, label, description);
  const deathsBefore = node.deaths();
  const clusterDeaths = () => ctx.nodes.reduce((sum, n) => sum + n.deaths(), 0);
  const clusterDeathsBefore = clusterDeaths();
  const head = step.expect.map((e) => e.head ?? false);
  const result = await exchange(bytes, { port: node.port, expect: step.expect.length, head, deadlineMs: ctx.deadlineMs, ...(ctx.tls ? { tls: ctx.tls } : {}) });
  const outcomes = outcomesOf(result, step);
  entry.outcome = outcomes.join(',') + (result.socketError ? ` ${result.socketError}` : '');
  const record = (o: readonly string[]) => ctx.stats.record({ ...requestLine(step, bytes), case: `${id.worker}.${id.index}`, name: fuzzCase.name, family: fuzzCase.family, step: index, node: node.id, outcomes: o });
  let violations = checkExchange(step, result);
  if (violations.some((v) => transportChecks.has(v.check))) {
    const died = await waitFor(() => !node.running() || node.deaths() !== deathsBefore, { timeoutMs: deathSettleMs, intervalMs: 50, what: `${node.id} to die` }).then(
      () => true,
      () => false,
    );
    // Another node down meanwhile: a quorum may legitimately wait for the whole timeout.
    const degraded = clusterDeaths() !== clusterDeathsBefore || ctx.nodes.some((n) => !n.running());
    if (died || (degraded && violations.every((v) => v.check === 'hang'))) {
      record(['lost-to-crash']);
      return result;
    }
  }
  record(outcomes);
  if (violations.length === 0 && step.after) {
    const v = await postCheck(ctx, node, step.after, result.responses[0]);
    if (v) violations = [v];
  }
  for (const v of violations) addFinding(ctx, { fuzzCase, id, step, index, node, description, result }, v);
  return result;
}

const pathShownMax = 200;

function requestLine(step: CaseStep, bytes: Buffer): Pick<RequestRecord, 'method' | 'path'> {
  if (!Buffer.isBuffer(step.request)) {
    const target = typeof step.request.target === 'string' ? step.request.target : step.request.target.toString('latin1');
    return { method: step.request.method, path: target.slice(0, pathShownMax) };
  }
  const line = bytes.subarray(0, pathShownMax).toString('latin1').split(/\r?\n/)[0] ?? '';
  const space = line.indexOf(' ');
  return space < 0 ? { method: line, path: '' } : { method: line.slice(0, space), path: line.slice(space + 1).replace(/ HTTP\/[0-9.]+$/, '') };
}

/** A step as it was sent and answered. */
interface Sent {
  readonly fuzzCase: FuzzCase;
  readonly id: CaseId;
  readonly step: CaseStep;
  readonly index: number;
  readonly node: NodeHandle;
  readonly description: string;
  readonly result: ExchangeResult;
}

function addFinding(ctx: SendContext, { fuzzCase, id, step, index, node, description, result }: Sent, v: Violation): void {
  const e = step.expect[0];
  // A wrong refusal is told apart by its code; a wrong acceptance by what should have refused it.
  const refusedWrongly = /^[45][0-9][0-9] /.test(v.observed);
  const signature =
    v.anyCase !== undefined
      ? [v.check, v.anyCase]
      : [v.check, fuzzCase.name, v.observed, ...(refusedWrongly ? [] : step.expect.flatMap((x) => x.certain ?? []).sort())];
  ctx.findings.add({
    signature: signature.join('|'),
    check: v.check,
    family: fuzzCase.family,
    summary: v.anyCase !== undefined ? v.anyCase : `${fuzzCase.name}: ${v.observed}`,
    message: v.message,
    example: {
      caseId: id,
      caseName: fuzzCase.name,
      step: index,
      node: node.id,
      request: description,
      response: summariseResponses(result),
      tags: fuzzCase.tags,
      why: step.expect.length > 1 ? step.expect.flatMap((x, i) => x.why.map((w) => `${i + 1}: ${w}`)) : (e?.why ?? []),
    },
  });
}
