// Invariants asserted while the simulation runs, over what every node's disk holds (objects and
// hints), whether the node is up or not. Each is a property the core promises at all times, not
// only after convergence:
// - every sibling's dot is covered by its object's own causal context, and no dot appears twice;
// - a dot names one write: the same dot never carries two different values anywhere, ever (a
//   replica that forgot a dot it issued and issued it again would silently drop a write on merge);
// - merging two primaries' copies keeps no sibling that one side's context covers but that side
//   no longer has (it was superseded there);
// - clock actors of a key are primaries of that key (in some ring a node held: membership changes
//   add primaries) in one of their incarnations, so an object's context has at most that many entries;
// - every copy of an acknowledged value (object or hint) carries the expiry its ack reported, or
//   none if it had none: a replica that dropped or changed a ttl would serve an expired value as
//   live (or expire one early); a dot's fingerprint includes its expiry, so no two copies differ;
// - hint queues stay within hintsPerPeerMax;
// - acknowledged writes are durable on W nodes, and stay so until every primary has them
//   (durability.ts);
// - a partition switches to new replicas only once they hold what its old replicas all held when
//   the move was committed (handover.ts).
import { actorsOf, covers, sync } from '../../src/core/dvv.js';
import type { NodeId, VersionedObject } from '../../src/core/types.js';
import type { SimCluster } from './cluster.js';
import { Durability } from './durability.js';
import { HandoverCheck } from './handover.js';
import { partitionOfKey } from './rings.js';
import { SimFailure } from './world.js';

const dotKey = (d: readonly [string, number]) => `${d[0]}#${d[1]}`;

export class Invariants {
  /** Every dot ever seen, with a fingerprint of the value it carried. */
  private readonly dots = new Map<string, string>();
  checks = 0;
  /** Violations of checks the caller chose to ignore (--ignore-check), by check. */
  readonly ignored = new Map<string, number>();
  readonly durability: Durability;
  /** The expiry (null: none) each acknowledged value's ack reported, by "key/dot". */
  private readonly expiries = new Map<string, number | null>();
  readonly handover: HandoverCheck;

  constructor(
    private readonly cluster: SimCluster,
    private readonly keys: readonly string[],
    private readonly hintsPerPeerMax: number,
    private readonly now: () => number,
    private readonly ignore: ReadonlySet<string>,
    /** Records a failure found outside a check (the world's fail). */
    fail: (err: Error) => void,
  ) {
    this.durability = new Durability(cluster, now, (check, message, focus) => this.fail(check, message, focus));
    // Called while a ring is adopted, where a throw would only reject some promise: the world records it.
    const handoverFailed = (message: string, focus: { key: string; atMs: number }) => {
      try {
        this.fail('transfer-complete', message, focus);
      } catch (err) {
        fail(err as Error);
      }
    };
    this.handover = new HandoverCheck(cluster, this.durability.everAcked, handoverFailed, now);
    cluster.onRing((state) => this.handover.observe(state));
  }

  /** A client was told `dot` of `key` was written with this expiry (null: none): every copy of it must carry that expiry. */
  expiryAcked(key: string, dot: readonly [string, number], expiresAtMs: number | null): void {
    this.expiries.set(`${key}/${dotKey(dot)}`, expiresAtMs);
  }

  private fail(check: string, message: string, focus?: SimFailure['focus']): void {
    if (!this.ignore.has(check)) throw new SimFailure('safety', check, message, focus);
    this.ignored.set(check, (this.ignored.get(check) ?? 0) + 1);
  }

  async check(): Promise<void> {
    this.checks++;
    await this.durability.check();
    for (const key of this.keys) {
      const primaries = this.servedEver(key);
      const copies = new Map<NodeId, VersionedObject>();
      for (const node of this.cluster.nodes.values()) {
        const object = await node.disk.get(key);
        if (object === undefined) continue;
        copies.set(node.id, object);
        this.object(`${node.id}:${key}`, key, object, primaries);
      }
      this.merges(key, [...copies.values()]);
    }
    for (const node of this.cluster.nodes.values()) {
      for (const [target, count] of node.disk.hintCounts()) {
        if (count > this.hintsPerPeerMax) {
          this.fail('hints-bounded', `${node.id} holds ${count} hints for ${target}, more than hintsPerPeerMax=${this.hintsPerPeerMax}`);
        }
        for (const hint of await node.disk.listHints(target, Number.MAX_SAFE_INTEGER)) {
          this.object(`${node.id}:hint(${target}):${hint.key}`, hint.key, hint.object, this.servedEver(hint.key));
        }
      }
    }
  }

  /** Every node that ever served the key's partition (as some ring's replica): who may have written it as a primary. */
  private servedEver(key: string): readonly NodeId[] {
    return [...this.cluster.servedEver(partitionOfKey(this.cluster, key))];
  }

  private object(where: string, key: string, object: VersionedObject, primaries: readonly NodeId[]): void {
    const seen = new Set<string>();
    for (const { dot, value } of object.siblings) {
      const k = dotKey(dot);
      if (seen.has(k)) this.fail('sibling-dots-distinct', `${where}: dot ${k} appears twice`);
      seen.add(k);
      if (!covers(object.context, dot)) this.fail('siblings-covered', `${where}: sibling ${k} is not covered by its context ${JSON.stringify(object.context)}`);
      const fingerprint =
        value.kind === 'value'
          ? `v:${value.contentType}:${value.expiresAtMs ?? ''}:${Buffer.from(value.data).toString('base64')}`
          : `t:${value.deletedAtMs}`;
      const expiry = this.expiries.get(`${key}/${k}`);
      if (value.kind === 'value' && expiry !== undefined && (value.expiresAtMs ?? null) !== expiry) {
        this.fail('expiry-kept', `${where}: dot ${k} carries expiry ${value.expiresAtMs ?? 'none'}, its write was acknowledged with ${expiry ?? 'none'}`, {
          key,
          atMs: this.now(),
        });
      }
      const first = this.dots.get(`${key}/${k}`);
      if (first === undefined) this.dots.set(`${key}/${k}`, fingerprint);
      else if (first !== fingerprint) {
        this.fail('dot-names-one-write', `${where}: dot ${k} now carries ${fingerprint.slice(0, 80)}, earlier ${first.slice(0, 80)}`);
      }
    }
    const actors = actorsOf(object.context);
    for (const actor of actors) {
      const [node, incarnation] = actor.split('.') as [string, string | undefined];
      const sim = this.cluster.nodes.get(node as NodeId);
      if (!primaries.includes(node as NodeId) || sim === undefined || !sim.incarnations.includes(incarnation ?? '')) {
        this.fail('actors-are-primaries', `${where}: actor ${actor} is not an incarnation of a primary (${primaries.join(',')})`);
      }
    }
    const bound = primaries.reduce((n, p) => n + this.cluster.node(p).incarnations.length, 0);
    if (actors.size > bound) this.fail('actors-bounded', `${where}: ${actors.size} actors, bound ${bound}`);
  }

  /** Pairwise merges: a sibling one side has superseded (covered, absent) must not come back. */
  private merges(key: string, copies: readonly VersionedObject[]): void {
    for (let i = 0; i < copies.length; i++) {
      for (let j = i + 1; j < copies.length; j++) {
        const a = copies[i]!;
        const b = copies[j]!;
        const merged = sync(a, b);
        for (const side of [a, b]) {
          const has = new Set(side.siblings.map((s) => dotKey(s.dot)));
          for (const s of merged.siblings) {
            if (covers(side.context, s.dot) && !has.has(dotKey(s.dot))) {
              this.fail('superseded-stays-gone', `${key}: merge revived ${dotKey(s.dot)}, superseded on one side`);
            }
          }
        }
      }
    }
  }
}
