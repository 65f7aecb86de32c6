// Merkle-tree anti-entropy (Dynamo section 4.7, with Riak's order-independent "tictac" trees):
// each node keeps one tree per partition it replicates, updated on every committed change. On a
// timer it exchanges trees with one peer at a time: roots of every shared partition in one call,
// then branches, leaves and keys of the partitions that differ, then repairs exactly those keys in
// both directions by DVV merge. Traffic grows with the number of differing keys, not stored keys.
// Trees live in memory (O(keys)) and are rebuilt from storage at start-up, before serving.
import { sameVersion, sync } from './dvv.js';
import type { FailureDetector } from './failure-detector.js';
import { compareTrees, objectDigest, PartitionTree, type RemoteTree } from './merkle.js';
import type { CoreMetrics } from './metrics.js';
import type { LocalReplica } from './replica.js';
import { partitionsHeldBy, preferenceList, type Ring } from './ring.js';
import { failureClassOf } from './errors.js';
import { objectBytes } from './object-bytes.js';
import { Periodic } from './periodic.js';
import type { Logger, Runtime } from './ports.js';
import type { RpcRequest, RpcResponse } from './rpc.js';
import type { RpcClient, RpcReplyOf } from './rpc-client.js';
import { asPartitionId, type NodeId, type PartitionId, type VersionedObject } from './types.js';

export interface AntiEntropyDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly rpc: RpcClient;
  readonly replica: LocalReplica;
  readonly ring: () => Ring;
  readonly detector: FailureDetector;
  readonly metrics: CoreMetrics;
  readonly log: Logger;
  /** Time between two exchanges (each with one peer). */
  readonly intervalMs: number;
  /** Keys repaired per exchange at most; the rest wait for the next exchange with that peer. */
  readonly keysPerExchangeMax: number;
  readonly rpcTimeoutMs: number;
  /** Entries read per storage page while rebuilding trees. */
  readonly scanPageSize: number;
}

export interface ExchangeReport {
  readonly peer: NodeId;
  readonly partitionsCompared: number;
  readonly partitionsDiffering: number;
  readonly keysRepaired: number;
  readonly payloadBytes: number;
}

/** What repairing one key did: the payload it moved, whether either copy changed, and whether the local one did. */
interface Repair {
  readonly bytes: number;
  readonly changed: boolean;
  readonly localChanged: boolean;
}

type AeRequest = Extract<RpcRequest, { type: 'aeRoots' | 'aeBranches' | 'aeLeaves' | 'aeKeys' }>;
type AeHashesRequest = Exclude<AeRequest, { type: 'aeKeys' }>;

// Payload estimates (not wire bytes: no msgpack/HTTP framing): strings by length, numbers as 4 bytes,
// a dot or clock entry as its actor plus 8, a value by its bytes and content type.
const stringBytes = (list: readonly string[]) => list.reduce((n, s) => n + s.length, 0);
const requestBytes = (r: AeRequest) =>
  r.type === 'aeRoots' ? 4 * r.partitions.length : r.type === 'aeLeaves' ? 4 + 4 * r.branches.length : r.type === 'aeKeys' ? 4 + 4 * r.leaves.length : 4;
const replyBytes = (r: RpcResponse) =>
  r.type === 'hashes' ? stringBytes(r.hashes) : r.type === 'keys' ? r.keys.reduce((n, [k, d]) => n + k.length + d.length, 0) : 0;

export class AntiEntropy {
  private readonly trees = new Map<PartitionId, PartitionTree>();
  private readonly periodic: Periodic;
  private nextPeer = 0;

  constructor(private readonly deps: AntiEntropyDeps) {
    this.periodic = new Periodic({ name: 'anti-entropy exchange', runtime: deps.runtime, log: deps.log, intervalMs: deps.intervalMs, task: () => this.tick() });
    deps.replica.observe((key, partition, before, after) => {
      this.trees.get(partition)?.apply(key, before && objectDigest(before), after && objectDigest(after));
    });
  }

  /** Builds every tree from storage. Call before serving: writes during a rebuild would count twice. */
  async rebuild(): Promise<{ keys: number; partitions: number }> {
    this.trees.clear();
    let keys = 0;
    const partitions = partitionsHeldBy(this.deps.ring(), this.deps.self);
    for (const partition of partitions) {
      const tree = new PartitionTree();
      for (let after: string | undefined; ; ) {
        const page = await this.deps.replica.scanPartition(partition, after, this.deps.scanPageSize);
        for (const { key, object } of page) tree.apply(key, undefined, objectDigest(object));
        keys += page.length;
        if (page.length < this.deps.scanPageSize) break;
        after = page[page.length - 1]!.key;
      }
      this.trees.set(partition, tree);
    }
    return { keys, partitions: partitions.length };
  }

  start(): void {
    this.periodic.start();
  }

  /** Whether this node keeps a tree for `partition`: it holds the partition, or is still handing it away. */
  hasTree(partition: PartitionId): boolean {
    return this.trees.has(partition);
  }

  /** Starts an empty tree for a partition this node begins to receive (it stores none of its keys yet). */
  addEmptyTree(partition: PartitionId): void {
    if (!this.trees.has(partition)) this.trees.set(partition, new PartitionTree());
  }

  removeTree(partition: PartitionId): void {
    this.trees.delete(partition);
  }

  /** Keys counted in the tree of `partition`, if this node keeps one. */
  keysIn(partition: PartitionId): number | undefined {
    return this.trees.get(partition)?.size;
  }

  /**
   * Compares one partition with `peer` and repairs every differing key (pushOnly: only the peer's
   * copies change, for a partition this node is handing away). Resolves with the keys this node
   * lacked: those whose repair changed the local copy. A key that differed only because a write was
   * on its way here (the peer had it first) and arrived before the repair is not counted: under a
   * steady write load some key nearly always differs for that reason while the trees are compared.
   */
  async syncPartition(peer: NodeId, partition: PartitionId, { pushOnly = false } = {}): Promise<number> {
    const tree = this.trees.get(partition);
    if (tree === undefined) throw new Error(`no tree for partition ${partition}`);
    const session = this.session(peer);
    const [remoteRoot] = await session.hashes({ type: 'aeRoots', partitions: [partition] });
    if (tree.root() === remoteRoot) return 0;
    const keys = await compareTrees(tree, session.tree(partition));
    let lacked = 0;
    for (let i = 0; i < keys.length; i += this.deps.keysPerExchangeMax) {
      const repaired = await Promise.all(keys.slice(i, i + this.deps.keysPerExchangeMax).map((key) => this.repairKey(peer, key, pushOnly)));
      lacked += repaired.filter((r) => r.localChanged).length;
    }
    return lacked;
  }

  stop(): void {
    this.periodic.stop();
  }

  /** Answers a peer's tree queries. */
  handle(request: AeRequest): RpcResponse {
    const tree = (p: number) => this.trees.get(asPartitionId(p));
    switch (request.type) {
      case 'aeRoots':
        return { type: 'hashes', hashes: request.partitions.map((p) => tree(p)?.root() ?? '') };
      case 'aeBranches':
        return { type: 'hashes', hashes: tree(request.partition)?.branches() ?? [] };
      case 'aeLeaves':
        return { type: 'hashes', hashes: request.branches.flatMap((b) => tree(request.partition)?.leavesOf(b) ?? []) };
      case 'aeKeys':
        return { type: 'keys', keys: request.leaves.flatMap((l) => tree(request.partition)?.keysIn(l) ?? []) };
    }
  }

  /** Compares every partition this node and `peer` both serve and repairs the keys that differ (bounded). */
  async exchange(peer: NodeId): Promise<ExchangeReport> {
    const ring = this.deps.ring();
    // Partitions both serve now. One this node is receiving or handing away is kept in step by its
    // transfer (pages, then the Merkle check; the push before the drop): repairing it here key by
    // key would move the same keys a second time, one RPC each.
    const shared = [...this.trees.keys()].filter((p) => {
      const { primaries } = preferenceList(ring, p);
      return primaries.includes(peer) && primaries.includes(this.deps.self);
    });
    const trees = new Map(shared.map((p) => [p, this.trees.get(p)!]));
    // A partition handed away (its tree removed, maybe another started) while this exchange awaits is skipped.
    const current = (p: PartitionId) => (this.trees.get(p) === trees.get(p) ? trees.get(p) : undefined);
    const session = this.session(peer);
    const remoteRoots = await session.hashes({ type: 'aeRoots', partitions: shared });
    const differing = shared.filter((p, i) => current(p) !== undefined && current(p)!.root() !== remoteRoots[i]);
    let keysRepaired = 0;
    for (const partition of differing) {
      const budget = this.deps.keysPerExchangeMax - keysRepaired;
      if (budget <= 0 || this.periodic.stopped) break;
      const tree = current(partition);
      if (tree === undefined) continue;
      const keys = (await compareTrees(tree, session.tree(partition))).slice(0, budget);
      const repaired = await Promise.all(keys.map((key) => this.repairKey(peer, key)));
      session.count(repaired.reduce((n, r) => n + r.bytes, 0));
      // Only keys this exchange changed: another exchange may have repaired some meanwhile.
      keysRepaired += repaired.filter((r) => r.changed).length;
    }
    const report = { peer, partitionsCompared: shared.length, partitionsDiffering: differing.length, keysRepaired, payloadBytes: session.payloadBytes() };
    this.reportExchange(report);
    return report;
  }

  /** Tree queries to `peer` for one exchange, counting the payload they move. */
  private session(peer: NodeId) {
    let payloadBytes = 0;
    const ask = async <R extends AeRequest>(request: R): Promise<RpcReplyOf<R>> => {
      const reply = await this.deps.rpc.call(peer, request, this.deps.rpcTimeoutMs);
      payloadBytes += requestBytes(request) + replyBytes(reply);
      return reply;
    };
    const hashes = async (request: AeHashesRequest) => (await ask(request)).hashes;
    const tree = (partition: PartitionId): RemoteTree => ({
      branches: () => hashes({ type: 'aeBranches', partition }),
      leavesOf: (branches) => hashes({ type: 'aeLeaves', partition, branches: [...branches] }),
      keysIn: async (leaves) => (await ask({ type: 'aeKeys', partition, leaves: [...leaves] })).keys,
    });
    return { hashes, tree, count: (bytes: number) => void (payloadBytes += bytes), payloadBytes: () => payloadBytes };
  }

  private reportExchange(report: ExchangeReport): void {
    this.deps.metrics.inc('ae_exchanges');
    this.deps.metrics.inc('ae_keys_repaired', report.keysRepaired);
    this.deps.metrics.inc('ae_payload_bytes', report.payloadBytes);
    const { peer, partitionsDiffering, keysRepaired } = report;
    if (partitionsDiffering > 0) this.deps.log.info(report, `anti-entropy with ${peer}: ${partitionsDiffering} partitions differed, ${keysRepaired} keys repaired`);
    else this.deps.log.debug(report, `anti-entropy with ${peer}: in sync`);
  }

  /** Brings `key` to the merge of both copies on both sides: the payload moved, and whether anything (the local copy) changed. */
  private repairKey(peer: NodeId, key: string, pushOnly = false): Promise<Repair> {
    return this.deps.replica.sendingWhile(key, this.repairKeyNow(peer, key, pushOnly));
  }

  private async repairKeyNow(peer: NodeId, key: string, pushOnly: boolean): Promise<Repair> {
    const reply = await this.deps.rpc.call(peer, { type: 'read', key }, this.deps.rpcTimeoutMs);
    const remote = reply.object ?? undefined;
    const local = await this.deps.replica.get(key);
    const merged = local && remote ? sync(local, remote) : (local ?? remote);
    let bytes = key.length + objectBytes(remote);
    if (merged === undefined) return { bytes, changed: false, localChanged: false };
    const localStale = !pushOnly && !sameVersion(local, merged);
    const remoteStale = !sameVersion(remote, merged);
    if (localStale) await this.deps.replica.merge(key, merged);
    if (remoteStale) {
      await this.deps.rpc.call(peer, { type: 'replicate', key, object: merged }, this.deps.rpcTimeoutMs);
      bytes += key.length + objectBytes(merged);
    }
    return { bytes, changed: localStale || remoteStale, localChanged: localStale };
  }

  /** One exchange with the next live peer in turn. */
  private async tick(): Promise<void> {
    const peers = this.deps.ring().members.filter((m) => m !== this.deps.self);
    for (let tried = 0; tried < peers.length; tried++) {
      const peer = peers[this.nextPeer++ % peers.length]!;
      if (!this.deps.detector.isUp(peer)) continue;
      try {
        await this.exchange(peer);
      } catch (err) {
        // A peer that went away mid-exchange is routine (the next tick tries another): debug only.
        if (failureClassOf(err) === 'condition') this.deps.log.debug({ peer, err: (err as Error).message }, 'anti-entropy exchange failed');
        else throw err;
      }
      return;
    }
  }
}
