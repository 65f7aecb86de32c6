// The schema of every internal RPC message, requests and replies. A peer holding the cluster
// secret can still be buggy or run another version, so a batch is checked whole before any of it
// runs, and a reply is checked before the caller sees it.
import { z } from 'zod';
import { errorCatalog, type ErrorCode } from './errors.js';
import {
  digestCharsMax,
  listLimitMax,
  partitionsMax,
  replicationFactorMax,
  requestTimeoutMsMax,
  rpcBatchMax,
  rpcErrorDetailNameCharsMax,
  rpcErrorDetailTextCharsMax,
  rpcErrorTextCharsMax,
  transferPageKeysMax,
  ttlSecondsMax,
  urlCharsMax,
  valueBytesMaxLimit,
} from './limits.js';
import { hashBytes, merkleBranches, merkleLeaves } from './merkle.js';
import { ringDigestSchema, ringStateSchema } from './ring-schema.js';
import type { AdminOp, AdminOutcome, ClientOp, ClientResult, QuorumSpec, RpcRequest, RpcResponse, WriteCondition } from './rpc.js';
import { contentTypeSchema, contextSchema, describeIssues, keySchema, nodeIdSchema, versionedObjectSchema, type Checked } from './schemas.js';

/** r/w/pr/pw as a peer forwards them: a count (0 only for pr/pw, refused later if above N) or a named form. */
const quorumSchema: z.ZodType<QuorumSpec> = z.union([z.int().min(0).max(replicationFactorMax), z.enum(['one', 'quorum', 'all'])]);
const timeoutSchema = z.int().min(1).max(requestTimeoutMsMax);
const bytesSchema = z.instanceof(Uint8Array).refine((b) => b.byteLength <= valueBytesMaxLimit, 'a value over the largest valueBytesMax');

const conditionSchema: z.ZodType<WriteCondition> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('absent') }),
  z.object({ kind: z.literal('match'), context: contextSchema }),
]);

const clientOpSchema: z.ZodType<ClientOp> = z.discriminatedUnion('op', [
  z.object({ op: z.literal('get'), key: keySchema, r: quorumSchema, pr: quorumSchema, timeoutMs: timeoutSchema }),
  z.object({
    op: z.literal('put'),
    key: keySchema,
    data: bytesSchema,
    contentType: contentTypeSchema,
    context: contextSchema.optional(),
    ttlSeconds: z.int().min(1).max(ttlSecondsMax).optional(),
    condition: conditionSchema.optional(),
    w: quorumSchema,
    pw: quorumSchema,
    timeoutMs: timeoutSchema,
  }),
  z.object({
    op: z.literal('delete'),
    key: keySchema,
    context: contextSchema.optional(),
    condition: conditionSchema.optional(),
    w: quorumSchema,
    pw: quorumSchema,
    timeoutMs: timeoutSchema,
  }),
]);

const partitionSchema = z.int().min(0).max(partitionsMax - 1);
/** A listing's key prefix: a key's rules, except that it may be empty. */
const prefixSchema = z.union([z.literal(''), keySchema]);
const digestSchema = z.string().max(digestCharsMax);
/** Up to `max` tree hashes packed as bytes (core/merkle.ts): a whole number of 8-byte hashes. */
const packedHashesSchema = (max: number) =>
  z.instanceof(Uint8Array).refine((b) => b.byteLength % hashBytes === 0 && b.byteLength <= max * hashBytes, `a multiple of ${hashBytes} bytes, at most ${max} hashes`);

const adminOpSchema: z.ZodType<AdminOp> = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('stage'),
    change: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('join'), node: nodeIdSchema }),
      z.object({ kind: z.literal('leave'), node: nodeIdSchema }),
      z.object({ kind: z.literal('replace'), node: nodeIdSchema, by: nodeIdSchema }),
      z.object({ kind: z.literal('remove'), node: nodeIdSchema }),
    ]),
    force: z.boolean(),
  }),
  z.object({ op: z.literal('commit') }),
  z.object({ op: z.literal('clear') }),
  z.object({ op: z.literal('cancel'), partition: partitionSchema.optional() }),
  z.object({ op: z.literal('register'), id: nodeIdSchema, url: z.string().max(urlCharsMax), partitions: z.int().min(1).max(partitionsMax), n: z.int().min(1).max(replicationFactorMax) }),
  z.object({ op: z.literal('transferDone'), partition: partitionSchema, node: nodeIdSchema, target: z.array(nodeIdSchema).max(replicationFactorMax) }),
]);

const requestSchema: z.ZodType<RpcRequest> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('replicate'), key: keySchema, object: versionedObjectSchema, hintFor: nodeIdSchema.optional() }),
  z.object({ type: z.literal('read'), key: keySchema }),
  z.object({ type: z.literal('readDigest'), key: keySchema }),
  z.object({ type: z.literal('forward'), request: clientOpSchema }),
  z.object({ type: z.literal('aeRoots'), partitions: z.array(partitionSchema).max(partitionsMax) }),
  z.object({ type: z.literal('aeBranches'), partition: partitionSchema }),
  z.object({ type: z.literal('aeLeaves'), partition: partitionSchema, branches: z.array(z.int().min(0).max(merkleBranches - 1)).max(merkleBranches) }),
  z.object({ type: z.literal('aeKeys'), partition: partitionSchema, leaves: z.array(z.int().min(0).max(merkleLeaves - 1)).max(merkleLeaves) }),
  z.object({ type: z.literal('keyPending'), key: keySchema }),
  z.object({ type: z.literal('reap'), key: keySchema, digest: digestSchema }),
  z.object({ type: z.literal('ringGossip'), digest: ringDigestSchema, ring: ringStateSchema.optional() }),
  z.object({ type: z.literal('admin'), op: adminOpSchema, forwarded: z.boolean() }),
  z.object({ type: z.literal('transferPage'), partition: partitionSchema, afterKey: keySchema.optional(), limit: z.int().min(1).max(transferPageKeysMax) }),
  z.object({ type: z.literal('listKeys'), partition: partitionSchema, prefix: prefixSchema, afterKey: keySchema.optional(), limit: z.int().min(1).max(listLimitMax) }),
]);

const rpcBatchSchema = z.array(requestSchema).min(1).max(rpcBatchMax);

const errorCodeSchema = z.custom<ErrorCode>((v) => typeof v === 'string' && Object.hasOwn(errorCatalog, v), 'a catalogued error code');
const clientResultSchema: z.ZodType<ClientResult> = z.union([
  z.object({ ok: z.literal(true), node: nodeIdSchema, object: versionedObjectSchema.optional(), context: contextSchema }),
  z.object({
    ok: z.literal(false),
    node: nodeIdSchema,
    code: errorCodeSchema,
    message: z.string().max(rpcErrorTextCharsMax),
    details: z.record(z.string().max(rpcErrorDetailNameCharsMax), z.union([z.int(), z.string().max(rpcErrorDetailTextCharsMax)])),
  }),
]);

const adminOutcomeSchema: z.ZodType<AdminOutcome> = z.union([
  z.object({ ok: z.literal(true), before: ringStateSchema, after: ringStateSchema }),
  z.object({ ok: z.literal(false), code: errorCodeSchema, message: z.string().max(rpcErrorTextCharsMax) }),
]);

const responseSchema: z.ZodType<RpcResponse> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pong'), node: nodeIdSchema }),
  z.object({ type: z.literal('ack') }),
  z.object({ type: z.literal('object'), object: versionedObjectSchema.nullable() }),
  z.object({ type: z.literal('digest'), digest: packedHashesSchema(1).refine((b) => b.byteLength === hashBytes, 'one hash').nullable() }),
  z.object({ type: z.literal('result'), result: clientResultSchema }),
  z.object({
    type: z.literal('hashes'),
    hashes: packedHashesSchema(Math.max(partitionsMax, merkleLeaves)),
    absent: z.array(z.int().min(0).max(partitionsMax - 1)).max(partitionsMax).optional(),
  }),
  z
    .object({ type: z.literal('keys'), keys: z.array(keySchema), hashes: packedHashesSchema(Infinity) })
    .refine((r) => r.hashes.byteLength === r.keys.length * hashBytes, 'one 8-byte hash per key'),
  z.object({ type: z.literal('pending'), pending: z.boolean() }),
  z.object({ type: z.literal('reaped'), reaped: z.boolean() }),
  z.object({ type: z.literal('ring'), ring: ringStateSchema.optional() }),
  z.object({ type: z.literal('admin'), outcome: adminOutcomeSchema }),
  z.object({ type: z.literal('entries'), entries: z.array(z.tuple([keySchema, versionedObjectSchema])).max(transferPageKeysMax) }),
  z.object({ type: z.literal('keyPage'), keys: z.array(keySchema).max(listLimitMax), next: keySchema.nullable() }),
]);

/** One request's outcome inside a batch reply. */
export type RpcOutcome = { readonly ok: RpcResponse } | { readonly error: string };
const outcomeSchema: z.ZodType<RpcOutcome> = z.union([z.object({ ok: responseSchema }), z.object({ error: z.string().max(rpcErrorTextCharsMax) })]);
const outcomesSchema = z.array(outcomeSchema).max(rpcBatchMax);

function check<T>(schema: z.ZodType<T>, input: unknown): Checked<T> {
  const parsed = schema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}

/** A decoded request body: a batch of 1..rpcBatchMax well-formed requests, or why not. */
export const checkRpcBatch = (input: unknown): Checked<RpcRequest[]> => check(rpcBatchSchema, input);
/** A decoded reply body: one well-formed outcome per request sent, or why not. */
export const checkRpcOutcomes = (input: unknown): Checked<RpcOutcome[]> => check(outcomesSchema, input);

/** The checked value, for callers whose input comes from our own code: a refusal there is a bug. */
export function unwrapChecked<T>(checked: Checked<T>, what: string): T {
  if (!checked.ok) throw new Error(`${what}: the RPC schema refuses a message our own code made: ${checked.problem}`);
  return checked.value;
}
