// Key listing (GET /kv): one page of the live keys starting with a prefix, in a stable order (by
// partition index, then by the keys' UTF-8 bytes inside a partition), from a cursor. A coverage
// query: each partition is read from its primaries, one at a time (r=1: one primary, the next one
// when it fails) or r at once, whose keys are merged (a union). A page holds at most `limit` keys
// and makes at most listPageRoundsMax rounds, each reading at most listScanRowsMax rows per replica
// asked, so every node holds at most one page whatever the number of keys.
import type { FailureDetector } from './failure-detector.js';
import { invariant } from './assert.js';
import { decodeListCursor, encodeListCursor, type ListPosition } from './key-cursor.js';
import { compareUtf8 } from './key-order.js';
import { listPageRoundsMax } from './limits.js';
import { TransportError, type KeyScanPage, type Runtime } from './ports.js';
import { resolveQuorum } from './quorum.js';
import type { LocalReplica } from './replica.js';
import type { Ring } from './ring.js';
import type { RpcClient } from './rpc-client.js';
import type { QuorumSpec } from './rpc.js';
import { asPartitionId, type NodeId } from './types.js';

export interface KeyListingDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly detector: Pick<FailureDetector, 'isUp'>;
  readonly ring: () => Ring;
}

/** A listing request as the edge parsed it. */
export interface ListRequest {
  /** 0..keyBytesMax bytes of UTF-8. */
  readonly prefix: string;
  /** 1..listLimitMax. */
  readonly limit: number;
  /** The previous page's cursor token; undefined for the first page. */
  readonly cursor: string | undefined;
  readonly r: QuorumSpec;
  readonly timeoutMs: number;
}

export type ListResult =
  | { readonly ok: true; readonly node: NodeId; readonly keys: string[]; readonly cursor: string | null }
  | { readonly ok: false; readonly node: NodeId; readonly code: 'quorum_unavailable'; readonly message: string; readonly details: Record<string, number> };

/** One round in a partition: the keys found, and the key to go on after (undefined: the partition is done). */
interface Step {
  readonly keys: readonly string[];
  readonly afterKey: string | undefined;
}

export class KeyListing {
  constructor(private readonly deps: KeyListingDeps) {}

  /**
   * One page. A malformed cursor, or one issued for another prefix, throws `invalid_cursor` before
   * any replica is asked; fewer than `r` primaries of a partition answering ends the page with
   * `quorum_unavailable`. The timeout bounds the whole page: past it no new round starts, and the
   * page ends with what it has (and its cursor).
   */
  async page(request: ListRequest): Promise<ListResult> {
    const { prefix, limit } = request;
    const { self, runtime } = this.deps;
    const ring = this.deps.ring();
    let at: ListPosition = request.cursor === undefined ? { partition: 0, afterKey: undefined } : decodeListCursor(request.cursor, prefix, ring);
    const required = resolveQuorum(request.r, ring.n, ring.members.length);
    // A number above the primaries there are (N or the members) can never be met: say so at once.
    if (required > (ring.replicas[at.partition]?.length ?? 0)) return this.unavailable(required, 0, at.partition);
    const deadline = runtime.now() + request.timeoutMs;
    const keys: string[] = [];
    for (let round = 0; round < listPageRoundsMax && keys.length < limit; round++) {
      if (round > 0 && runtime.now() >= deadline) break;
      const step = await this.round(at, prefix, limit - keys.length, required, deadline);
      if (typeof step === 'number') return this.unavailable(required, step, at.partition);
      keys.push(...step.keys);
      if (step.afterKey !== undefined) at = { partition: at.partition, afterKey: step.afterKey };
      else if (at.partition + 1 < ring.partitions) at = { partition: at.partition + 1, afterKey: undefined };
      else return { ok: true, node: self, keys, cursor: null };
    }
    return { ok: true, node: self, keys, cursor: encodeListCursor(at, prefix) };
  }

  /**
   * Asks `required` primaries of the partition at once (this node first when it is one, then those
   * believed up); each that fails is replaced by the next primary not yet asked. Returns the merged
   * step, or how many answered when fewer than `required` did.
   */
  private async round(at: ListPosition, prefix: string, want: number, required: number, deadline: number): Promise<Step | number> {
    const { self, detector } = this.deps;
    const primaries = this.deps.ring().replicas[at.partition] ?? [];
    const peers = primaries.filter((p) => p !== self);
    const queue = [...primaries.filter((p) => p === self), ...peers.filter((p) => detector.isUp(p)), ...peers.filter((p) => !detector.isUp(p))];
    const pages: KeyScanPage[] = [];
    const asker = async (): Promise<void> => {
      for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
        try {
          pages.push(await this.ask(node, at, prefix, want, deadline));
          return;
        } catch (err) {
          if (!(err instanceof TransportError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(required, queue.length) }, asker));
    return pages.length < required ? pages.length : mergePages(pages, want);
  }

  /** One primary's keys of the partition after `at`, checked: a peer's reply that breaks the rules counts as a failed call. */
  private async ask(node: NodeId, at: ListPosition, prefix: string, want: number, deadline: number): Promise<KeyScanPage> {
    const { partition, afterKey } = at;
    if (node === this.deps.self) {
      const page = await this.deps.replica.listKeys(asPartitionId(partition), prefix, afterKey, want);
      const problem = pageProblem(page, prefix, afterKey, want);
      invariant(problem === undefined, () => `storage: listKeys(${partition}) ${problem}`);
      return page;
    }
    const remainingMs = deadline - this.deps.runtime.now();
    if (remainingMs <= 0) throw new TransportError(node, 'timeout', 'the listing page ran out of time');
    const reply = await this.deps.rpc.call(node, { type: 'listKeys', partition, prefix, afterKey, limit: want }, remainingMs);
    const page = { keys: [...reply.keys], next: reply.next ?? undefined };
    const problem = pageProblem(page, prefix, afterKey, want);
    if (problem !== undefined) throw new TransportError(node, 'protocol', `listKeys of partition ${partition}: ${problem}`);
    return page;
  }

  private unavailable(required: number, acked: number, partition: number): ListResult {
    const message = `Needed ${required} replicas of partition ${partition}, ${acked} answered in time.`;
    return { ok: false, node: this.deps.self, code: 'quorum_unavailable', message, details: { required, acked, partition } };
  }
}

/** Why a replica's page breaks the listing's rules (keys in order, of the prefix, after `afterKey`, at most `want`), or undefined. */
export function pageProblem(page: KeyScanPage, prefix: string, afterKey: string | undefined, want: number): string | undefined {
  if (page.keys.length > want) return `gave ${page.keys.length} keys, asked for ${want}`;
  let previous = afterKey;
  for (const key of page.keys) {
    if (!key.startsWith(prefix)) return 'gave a key without the prefix';
    if (previous !== undefined && compareUtf8(previous, key) >= 0) return 'gave keys out of order or not after the cursor';
    previous = key;
  }
  const { next } = page;
  if (next === undefined) return undefined;
  if (!next.startsWith(prefix)) return 'gave a next key without the prefix';
  if (previous !== undefined && compareUtf8(next, previous) < 0) return 'gave a next key before its keys';
  if (afterKey !== undefined && compareUtf8(next, afterKey) <= 0) return 'gave a next key not after the cursor';
  return undefined;
}

/**
 * The union of replicas' pages. A replica with a `next` has told only the keys up to it, so the
 * union is complete only up to the smallest `next` (the frontier): keys beyond it are left for the
 * next round, which goes on from there. At most `want` keys; then it goes on after the last one.
 */
export function mergePages(pages: readonly KeyScanPage[], want: number): Step {
  let frontier: string | undefined;
  for (const { next } of pages) if (next !== undefined && (frontier === undefined || compareUtf8(next, frontier) < 0)) frontier = next;
  const union = new Set<string>();
  for (const page of pages) for (const key of page.keys) if (frontier === undefined || compareUtf8(key, frontier) <= 0) union.add(key);
  const merged = [...union].sort(compareUtf8);
  if (merged.length > want) return { keys: merged.slice(0, want), afterKey: merged[want - 1] };
  return { keys: merged, afterKey: frontier };
}
