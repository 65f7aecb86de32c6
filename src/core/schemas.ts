// One schema per value that crosses a trust boundary (internal RPC, rows read back from disk,
// client contexts): types, integer ranges, bytes that are bytes, sizes bounded, and the DVV
// invariants that the core relies on (normal form, siblings covered and distinct). What passes
// is safe to hand to the core; everything else is refused before use. Pure: used by the real node
// and by the simulator alike.
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { contextEntries, contextFormProblem, siblingsProblem } from './dvv.js';
import { contentTypeBytesMax, contextEntriesMax, expiresAtMsMax, keyBytesMax, quotedTextCharsMax, siblingsDecodeMax } from './limits.js';
import type { ActorId, CausalContext, NodeId, VersionedObject } from './types.js';

/** A node id, as `--id` and `--peers` accept it (the one definition; config uses it too). */
export const nodeIdPatternText = '[a-z0-9_-]{1,64}';
export const nodeIdPattern = new RegExp(`^${nodeIdPatternText}$`);
/** `node.incarnation`: a node id, then the data directory's incarnation. */
const actorPattern = new RegExp(`^${nodeIdPatternText}\\.[0-9a-z]{1,32}$`);

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
/** In a /u regex a surrogate pair is one code point: this matches only unpaired halves, which UTF-8 cannot carry. */
const loneSurrogate = /[\uD800-\uDFFF]/u;

/** A key as the client API accepts it: 1..512 bytes of well-formed UTF-8. */
export const keySchema = z
  .string()
  .max(keyBytesMax)
  .refine((k) => k.length > 0 && !loneSurrogate.test(k) && utf8Bytes(k) <= keyBytesMax, `a key is 1..${keyBytesMax} bytes of UTF-8`);

export const nodeIdSchema = z.custom<NodeId>((v) => typeof v === 'string' && nodeIdPattern.test(v), 'a node id');
const actorIdSchema = z.custom<ActorId>((v) => typeof v === 'string' && actorPattern.test(v), 'an actor id');
/** Dot counters are positive safe integers (never a BigInt, never a float). */
const counterSchema = z.int().min(1);
const dotSchema = z.tuple([actorIdSchema, counterSchema]);

/** Why `ctx` is not a normal-form context of at most contextEntriesMax entries, or undefined. */
function contextProblem(ctx: CausalContext): string | undefined {
  if (contextEntries(ctx) > contextEntriesMax) return `more than ${contextEntriesMax} clock entries`;
  return contextFormProblem(ctx);
}

/** Adds `problem(value)` (if any) as an issue: the invariants zod's shapes cannot say. */
const invariant =
  <T>(problem: (value: T) => string | undefined) =>
  (ctx: { value: T; issues: unknown[] }) => {
    const message = problem(ctx.value);
    if (message !== undefined) ctx.issues.push({ code: 'custom', message, input: ctx.value });
  };

export const contextSchema: z.ZodType<CausalContext> = z
  .object({ vv: z.array(dotSchema).max(contextEntriesMax), cloud: z.array(dotSchema).max(contextEntriesMax) })
  .check(invariant(contextProblem));

export const contentTypeSchema = z
  .string()
  .max(contentTypeBytesMax)
  .refine((t) => utf8Bytes(t) <= contentTypeBytesMax, `a content type is at most ${contentTypeBytesMax} bytes`);

const siblingValueSchema = z.discriminatedUnion('kind', [
  // expiresAtMs: wall-clock ms; absent on values written without a ttl (and on every row from before TTLs).
  z.object({ kind: z.literal('value'), data: z.instanceof(Uint8Array), contentType: contentTypeSchema, expiresAtMs: z.int().min(0).max(expiresAtMsMax).optional() }),
  z.object({ kind: z.literal('tombstone'), deletedAtMs: z.int().min(0) }),
]);

export const versionedObjectSchema: z.ZodType<VersionedObject> = z
  .object({
    context: contextSchema,
    siblings: z.array(z.object({ dot: dotSchema, value: siblingValueSchema })).max(siblingsDecodeMax),
  })
  .check(invariant(siblingsProblem));

/** Untrusted input after its check: the value, or why it was refused. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** A schema's verdict as a short, bounded message (never the offending value itself). */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const at = issue.path.length > 0 ? `at ${issue.path.slice(0, 8).join('.')}: ` : '';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${at}${issue.message.slice(0, quotedTextCharsMax)}${more}`;
}
