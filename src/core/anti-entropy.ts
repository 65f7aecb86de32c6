// Merkle-tree anti-entropy (Dynamo section 4.7, with Riak's order-independent "tictac" trees):
// each node keeps one tree per partition it replicates, updated on every committed change. On a
// timer it exchanges trees with one peer at a time: roots of every shared partition in one call,
// then branches, leaves and keys of the partitions that differ, then repairs exactly those keys in
// both directions by DVV merge. Traffic grows with the number of differing keys, not stored keys.
// Storage keeps the trees with the rows (Storage.tree: persisted leaf hashes, 256 per partition),
// so start-up reads no key and a tree's memory does not grow with its keys; this class decides
// which partitions it compares and answers for, and walks the trees.
import { sameVersion, sync } from './dvv.js';
import type { FailureDetector } from './failure-detector.js';
import { compareTrees, packHashes, unpackHashes, type LocalTree, type RemoteTree } from './merkle.js';
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
}

export interface ExchangeReport {
  readonly peer: NodeId;
  readonly partitionsCompared: number;
  readonly partitionsDiffering: number;
  readonly keysRepaired: number;
  readonly payloadBytes: number;
}

/** The last exchange this node completed with one peer (for /admin/overview): when, on the runtime's clock, and what it did. */
export interface PeerExchangeRecord {
  readonly lastAtMs: number;
  readonly lastKeysRepaired: number;
  readonly lastPartitionsDiffering: number;
  /** Exchanges completed with the peer, and keys they repaired, since this node started. */
  readonly exchanges: number;
  readonly keysRepaired: number;
}

/** What repairing one key did: the payload it moved, whether either copy changed, and whether the local one did. */
interface Repair {
  readonly bytes: number;
  readonly changed: boolean;
  readonly localChanged: boolean;
}

type AeRequest = Extract<RpcRequest, { type: 'aeRoots' | 'aeBranches' | 'aeLeaves' | 'aeKeys' }>;
type AeHashesRequest = Exclude<AeRequest, { type: 'aeKeys' }>;

type HashesReply = Extract<RpcResponse, { type: 'hashes' }>;

// Payload estimates (not wire bytes: no msgpack/HTTP framing): strings by length, numbers as 4 bytes,
// hashes as their 8 bytes, a dot or clock entry as its actor plus 8, a value by its bytes and content type.
const requestBytes = (r: AeRequest) =>
  r.type === 'aeRoots' ? 4 * r.partitions.length : r.type === 'aeLeaves' ? 4 + 4 * r.branches.length : r.type === 'aeKeys' ? 4 + 4 * r.leaves.length : 4;
const replyBytes = (r: RpcResponse) =>
  r.type === 'hashes' ? r.hashes.byteLength + 4 * (r.absent?.length ?? 0) : r.type === 'keys' ? r.keys.reduce((n, k) => n + k.length, 0) + r.hashes.byteLength : 0;

/** The roots of an aeRoots reply, in the order asked: undefined where the peer keeps no tree. */
function rootsOf(reply: HashesReply): Array<bigint | undefined> {
  const roots: Array<bigint | undefined> = unpackHashes(reply.hashes);
  for (const i of reply.absent ?? []) roots[i] = undefined;
  return roots;
}

export class AntiEntropy {
  /**
   * The partitions whose trees this node compares and answers for, each with a token: a partition
   * handed away and taken again gets a new one, so an exchange in flight can tell.
   */
  private readonly trees = new Map<PartitionId, object>();
  private readonly periodic: Periodic;
  private nextPeer = 0;
  /** Exchanges this node started and completed, by peer (the peer's side is not counted here). */
  private readonly byPeer = new Map<NodeId, PeerExchangeRecord>();

  constructor(private readonly deps: AntiEntropyDeps) {
    this.periodic = new Periodic({ name: 'anti-entropy exchange', runtime: deps.runtime, log: deps.log, intervalMs: deps.intervalMs, task: () => this.tick() });
  }

  /** Takes up the trees of the partitions this node holds. Storage keeps them with the rows: this reads no key. */
  takeUpTrees(): { keys: number; partitions: number } {
    this.trees.clear();
    const partitions = partitionsHeldBy(this.deps.ring(), this.deps.self);
    for (const partition of partitions) this.trees.set(partition, {});
    const keys = partitions.reduce((n, p) => n + this.deps.replica.tree(p).size, 0);
    return { keys, partitions: partitions.length };
  }

  start(): void {
    this.periodic.start();
  }

  /** Whether this node keeps a tree for `partition`: it holds the partition, or is still handing it away. */
  hasTree(partition: PartitionId): boolean {
    return this.trees.has(partition);
  }

  /** Takes up the tree of a partition this node begins to receive (storage's, of the keys received so far). */
  addTree(partition: PartitionId): void {
    if (!this.trees.has(partition)) this.trees.set(partition, {});
  }

  removeTree(partition: PartitionId): void {
    this.trees.delete(partition);
  }

  /** Keys counted in the tree of `partition`, if this node keeps one. */
  keysIn(partition: PartitionId): number | undefined {
    return this.trees.has(partition) ? this.deps.replica.tree(partition).size : undefined;
  }

  /**
   * Compares one partition with `peer` and repairs every differing key (pushOnly: only the peer's
   * copies change, for a partition this node is handing away). Resolves with the keys this node
   * lacked: those whose repair changed the local copy. A key that differed only because a write was
   * on its way here (the peer had it first) and arrived before the repair is not counted: under a
   * steady write load some key nearly always differs for that reason while the trees are compared.
   */
  async syncPartition(peer: NodeId, partition: PartitionId, { pushOnly = false } = {}): Promise<number> {
    if (!this.trees.has(partition)) throw new Error(`no tree for partition ${partition}`);
    const session = this.session(peer);
    const [remoteRoot] = rootsOf(await session.hashes({ type: 'aeRoots', partitions: [partition] }));
    if (this.deps.replica.tree(partition).root() === remoteRoot) return 0;
    const keys = await compareTrees(this.local(partition), session.tree(partition));
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

  /** Answers a peer's tree queries; a partition this node keeps no tree for answers no hashes and no keys. */
  async handle(request: AeRequest): Promise<RpcResponse> {
    const tree = (p: number) => (this.trees.has(asPartitionId(p)) ? this.deps.replica.tree(asPartitionId(p)) : undefined);
    switch (request.type) {
      case 'aeRoots': {
        const absent = request.partitions.flatMap((p, i) => (tree(p) ? [] : [i]));
        const hashes = packHashes(request.partitions.map((p) => tree(p)?.root() ?? 0n));
        return absent.length > 0 ? { type: 'hashes', hashes, absent } : { type: 'hashes', hashes };
      }
      case 'aeBranches':
        return { type: 'hashes', hashes: tree(request.partition)?.branches() ?? new Uint8Array(0) };
      case 'aeLeaves': {
        const held = tree(request.partition);
        return { type: 'hashes', hashes: held ? concat(request.branches.map((b) => held.leavesOf(b))) : new Uint8Array(0) };
      }
      case 'aeKeys': {
        const pairs = tree(request.partition) ? await this.deps.replica.leafKeys(asPartitionId(request.partition), request.leaves) : [];
        return { type: 'keys', keys: pairs.map(([key]) => key), hashes: packHashes(pairs.map(([, hash]) => hash)) };
      }
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
    const tokens = new Map(shared.map((p) => [p, this.trees.get(p)!]));
    // A partition handed away (its tree removed, maybe taken up again) while this exchange awaits is skipped.
    const current = (p: PartitionId) => this.trees.get(p) === tokens.get(p);
    const session = this.session(peer);
    const remoteRoots = rootsOf(await session.hashes({ type: 'aeRoots', partitions: shared }));
    const differing = shared.filter((p, i) => current(p) && this.deps.replica.tree(p).root() !== remoteRoots[i]);
    let keysRepaired = 0;
    for (const partition of differing) {
      const budget = this.deps.keysPerExchangeMax - keysRepaired;
      if (budget <= 0 || this.periodic.stopped) break;
      if (!current(partition)) continue;
      const keys = (await compareTrees(this.local(partition), session.tree(partition))).slice(0, budget);
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
    const hashes = (request: AeHashesRequest) => ask(request);
    const tree = (partition: PartitionId): RemoteTree => ({
      branches: async () => (await hashes({ type: 'aeBranches', partition })).hashes,
      leavesOf: async (branches) => (await hashes({ type: 'aeLeaves', partition, branches: [...branches] })).hashes,
      keysIn: async (leaves) => {
        const reply = await ask({ type: 'aeKeys', partition, leaves: [...leaves] });
        const remote = unpackHashes(reply.hashes);
        return reply.keys.map((key, i) => [key, remote[i]!] as const);
      },
    });
    return { hashes, tree, count: (bytes: number) => void (payloadBytes += bytes), payloadBytes: () => payloadBytes };
  }

  /** This node's side of a comparison of `partition`: storage's tree as it stands at each step. */
  private local(partition: PartitionId): LocalTree {
    const replica = this.deps.replica;
    return {
      get tree() {
        return replica.tree(partition);
      },
      keysIn: (leaves) => replica.leafKeys(partition, leaves),
    };
  }

  /**
   * The exchanges this node completed, by peer, with the time since the last one (anti-entropy's lag
   * with that peer). Only that age goes out: lastAtMs is on this node's clock, meaningless elsewhere.
   */
  exchangesByPeer(): Array<Omit<PeerExchangeRecord, 'lastAtMs'> & { readonly peer: NodeId; readonly sinceLastMs: number }> {
    const now = this.deps.runtime.now();
    return [...this.byPeer].map(([peer, { lastAtMs, ...record }]) => ({ peer, ...record, sinceLastMs: Math.round(Math.max(0, now - lastAtMs)) }));
  }

  private reportExchange(report: ExchangeReport): void {
    const before = this.byPeer.get(report.peer);
    this.byPeer.set(report.peer, {
      lastAtMs: this.deps.runtime.now(),
      lastKeysRepaired: report.keysRepaired,
      lastPartitionsDiffering: report.partitionsDiffering,
      exchanges: (before?.exchanges ?? 0) + 1,
      keysRepaired: (before?.keysRepaired ?? 0) + report.keysRepaired,
    });
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

/** Packed hash lists, concatenated. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
