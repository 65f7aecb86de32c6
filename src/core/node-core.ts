// One node's core, wired: replica, failure detector, coordinator, read repair, hinted handoff,
// anti-entropy and tombstone reaping, over the three ports. The real node (node/node.ts) and the
// simulator build nodes with this same function, so they run the same code.
import { AntiEntropy } from './anti-entropy.js';
import { Coordinator } from './coordinator.js';
import { FailureDetector } from './failure-detector.js';
import { HintedHandoff } from './handoff.js';
import { KeyListing } from './key-listing.js';
import * as limits from './limits.js';
import type { CoreMetrics } from './metrics.js';
import { ReadRepair } from './read-repair.js';
import { LocalReplica } from './replica.js';
import { Membership, type RingStore } from './membership.js';
import type { RingState } from './ring-state.js';
import { TransferCursors } from './transfer-cursors.js';
import { Transfers, type TransferLimits } from './transfers.js';
import { RpcClient } from './rpc-client.js';
import { RpcHandler } from './rpc-handler.js';
import type { Logger, Runtime, Storage, Transport } from './ports.js';
import { TombstoneReaper } from './tombstone-reaper.js';
import { actorIdOf, type NodeId } from './types.js';

/** The operator's knobs for convergence; defaults in limits.ts and config/default.json. */
export interface ConvergenceSettings {
  readonly tombstoneGraceMs: number;
  readonly antiEntropyIntervalMs: number;
  readonly handoffIntervalMs: number;
  readonly hintsPerPeerMax: number;
  readonly probeIntervalMs: number;
  readonly gossipIntervalMs: number;
  readonly transferLimits: TransferLimits;
  /** A peer whose phi exceeds this is believed down. */
  readonly phiThreshold: number;
}

export interface NodeCoreDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly transport: Transport;
  readonly storage: Storage;
  /** The ring to start from: the one kept in the data directory, or a new cluster's, or the one a join was given. */
  readonly initialRing: RingState;
  readonly log: Logger;
  readonly metrics: CoreMetrics;
  readonly settings: ConvergenceSettings;
}

export interface NodeCore {
  readonly coordinator: Coordinator;
  /** Key listings (GET /kv), coordinated by this node. */
  readonly listing: KeyListing;
  readonly rpc: RpcHandler;
  readonly replica: LocalReplica;
  readonly detector: FailureDetector;
  readonly handoff: HintedHandoff;
  readonly antiEntropy: AntiEntropy;
  readonly reaper: TombstoneReaper;
  readonly membership: Membership;
  readonly transfers: Transfers;
  /** Takes up the Merkle trees storage keeps, then starts every background service. */
  start(): Promise<void>;
  stop(): void;
}

export function createNodeCore(deps: NodeCoreDeps): NodeCore {
  const { self, runtime, transport, log, metrics, settings } = deps;
  const rpcTimeoutMs = limits.backgroundRpcTimeoutMs;
  const store: RingStore = deps.storage;
  const ring = () => membership.ring();
  // Transfers (built below) decide which partitions the replica takes writes of.
  const replica: LocalReplica = new LocalReplica({
    self, storage: deps.storage, ring, runtime, log, metrics, hintsPerPeerMax: settings.hintsPerPeerMax, reapedMemoryMs: settings.tombstoneGraceMs,
    accepts: (partition): boolean => transfers.accepts(partition),
  });
  // Every outgoing call goes through one client that feeds the detector; the detector pings
  // through it too, hence the lazy reference (no call is made before start()).
  const client = new RpcClient(transport, () => detector);
  const detector: FailureDetector = new FailureDetector({
    self, peers: () => membership.peers(), runtime, rpc: client, log,
    probeIntervalMs: settings.probeIntervalMs, probeTimeoutMs: limits.peerProbeTimeoutMs, phiThreshold: settings.phiThreshold,
  });
  const readRepair = new ReadRepair({
    self, rpc: client, replica, metrics, log, inFlightPerPeerMax: limits.readRepairInFlightPerPeerMax, timeoutMs: rpcTimeoutMs,
  });
  const coordinator = new Coordinator({
    self, actor: actorIdOf(self, deps.storage.incarnation), runtime, rpc: client, replica, detector, readRepair, ring, log,
  });
  const listing = new KeyListing({ self, runtime, rpc: client, replica, detector, ring });
  const membership: Membership = new Membership(
    { self, runtime, rpc: client, store, log, isUp: (id) => detector.isUp(id), gossipIntervalMs: settings.gossipIntervalMs, rpcTimeoutMs },
    deps.initialRing,
  );
  const handoff = new HintedHandoff({
    self, runtime, ring, rpc: client, replica, detector, metrics, log, rpcTimeoutMs,
    intervalMs: settings.handoffIntervalMs, batchMax: limits.handoffBatchMax,
  });
  const antiEntropy = new AntiEntropy({
    self, runtime, rpc: client, replica, ring, detector, metrics, log, rpcTimeoutMs,
    intervalMs: settings.antiEntropyIntervalMs, keysPerExchangeMax: limits.antiEntropyKeysPerExchangeMax,
  });
  const reaper = new TombstoneReaper({
    self, runtime, rpc: client, replica, ring, metrics, log, rpcTimeoutMs, graceMs: settings.tombstoneGraceMs,
    intervalMs: Math.min(Math.max(settings.tombstoneGraceMs / 2, limits.reapIntervalMsMin), limits.reapIntervalMsMax),
    scanPerRoundMax: limits.reapScanPerRoundMax, scanPageSize: limits.scanPageSize,
  });
  const transfers: Transfers = new Transfers({
    self, runtime, rpc: client, replica, antiEntropy, membership, cursors: new TransferCursors(store), isUp: (id) => detector.isUp(id),
    metrics, log, rpcTimeoutMs, intervalMs: settings.gossipIntervalMs, limits: settings.transferLimits,
  });
  const rpc = new RpcHandler({ self, ring, replica, coordinator, antiEntropy, reaper, membership, transfers });
  return {
    coordinator, listing, rpc, replica, detector, handoff, antiEntropy, reaper, membership, transfers,
    async start() {
      const trees = antiEntropy.takeUpTrees();
      log.info(trees, 'anti-entropy trees taken up (kept by storage)');
      await transfers.start();
      await membership.start();
      detector.start();
      handoff.start();
      antiEntropy.start();
      reaper.start();
    },
    stop() {
      transfers.stop();
      membership.stop();
      reaper.stop();
      antiEntropy.stop();
      handoff.stop();
      detector.stop();
    },
  };
}
