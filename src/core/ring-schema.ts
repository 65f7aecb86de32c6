// The schema of a ring state, as gossip carries it and as the data directory keeps it: a peer's
// ring or a row read back from disk is checked whole (shape, then the ring's own invariants)
// before the node adopts it. Encoded as JSON: small, and readable with sqlite3 when debugging.
import { z } from 'zod';
import { checkRingContent, type RingClock, type RingDigest, type RingState, type StagedChange } from './ring-state.js';
import { isValidPartitionCount } from './ring.js';
import { partitionsMax, replicationFactorMax, ringMembersMax, urlCharsMax } from './limits.js';
import { nodeIdSchema, type Checked } from './schemas.js';

const clockSchema: z.ZodType<RingClock> = z.array(z.tuple([nodeIdSchema, z.int().min(1)])).max(ringMembersMax);
const replicaSetSchema = z.array(nodeIdSchema).min(1).max(replicationFactorMax);
const stagedSchema: z.ZodType<StagedChange> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('join'), node: nodeIdSchema }),
  z.object({ kind: z.literal('leave'), node: nodeIdSchema }),
  z.object({ kind: z.literal('replace'), node: nodeIdSchema, by: nodeIdSchema }),
  z.object({ kind: z.literal('remove'), node: nodeIdSchema }),
]);

export const ringDigestSchema: z.ZodType<RingDigest> = z.object({ version: clockSchema, seen: clockSchema });

export const ringStateSchema: z.ZodType<RingState> = z
  .object({
    claimant: nodeIdSchema,
    partitions: z.int().min(1).max(partitionsMax).refine(isValidPartitionCount, 'a power of two'),
    n: z.int().min(1).max(replicationFactorMax),
    members: z
      .array(z.object({ id: nodeIdSchema, url: z.string().max(urlCharsMax), status: z.enum(['joining', 'valid', 'leaving', 'exiting', 'removed']) }))
      .min(1)
      .max(ringMembersMax),
    owners: z.array(nodeIdSchema).max(partitionsMax),
    replicas: z.array(replicaSetSchema).max(partitionsMax),
    target: z.array(replicaSetSchema).max(partitionsMax),
    staged: z.array(stagedSchema).max(ringMembersMax),
    version: clockSchema,
    seen: clockSchema,
  })
  .superRefine((ring, ctx) => {
    try {
      checkRingContent(ring);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** A ring from untrusted input (a peer, the disk), or why it is refused. */
export function checkRingState(value: unknown): Checked<RingState> {
  const parsed = ringStateSchema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problem: parsed.error.issues[0]?.message ?? 'not a ring' };
}

export const encodeRingState = (ring: RingState): Uint8Array => new TextEncoder().encode(JSON.stringify(ring));

export function decodeRingState(bytes: Uint8Array): Checked<RingState> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return { ok: false, problem: `not JSON (${(err as Error).message})` };
  }
  return checkRingState(value);
}
