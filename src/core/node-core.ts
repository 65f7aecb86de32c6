// One node's core, wired: replica, failure detector, coordinator, read repair, hinted handoff,
// anti-entropy and tombstone reaping, over the three ports. The real node (node/node.ts) and the
// simulator build nodes with this same function, so they run the same code.
import { AntiEntropy } from './anti-entropy.js';
import { Coordinator } from './coordinator.js';
import { FailureDetector } from './failure-detector.js';
import { HintedHandoff } from './handoff.js';
import * as limits from './limits.js';
import type { CoreMetrics } from './metrics.js';
import { ReadRepair } from './read-repair.js';
import { LocalReplica } from './replica.js';
import type { Ring } from './ring.js';
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
  /** A peer whose phi exceeds this is believed down. */
  readonly phiThreshold: number;
}

export interface NodeCoreDeps {
  readonly self: NodeId;
  readonly runtime: Runtime;
  readonly transport: Transport;
  readonly storage: Storage;
  readonly ring: () => Ring;
  readonly log: Logger;
  readonly metrics: CoreMetrics;
  readonly settings: ConvergenceSettings;
}

export interface NodeCore {
  readonly coordinator: Coordinator;
  readonly rpc: RpcHandler;
  readonly replica: LocalReplica;
  readonly detector: FailureDetector;
  readonly handoff: HintedHandoff;
  readonly antiEntropy: AntiEntropy;
  readonly reaper: TombstoneReaper;
  /** Rebuilds the Merkle trees, then starts every background service. */
  start(): Promise<void>;
  stop(): void;
}

export function createNodeCore(deps: NodeCoreDeps): NodeCore {
  const { self, runtime, transport, ring, log, metrics, settings } = deps;
  const rpcTimeoutMs = limits.backgroundRpcTimeoutMs;
  const replica = new LocalReplica({
    self, storage: deps.storage, ring, runtime, log, metrics, hintsPerPeerMax: settings.hintsPerPeerMax, reapedMemoryMs: settings.tombstoneGraceMs,
  });
  // Every outgoing call goes through one client that feeds the detector; the detector pings
  // through it too, hence the lazy reference (no call is made before start()).
  const client = new RpcClient(transport, () => detector);
  const detector: FailureDetector = new FailureDetector({
    self, peers: () => ring().members, runtime, rpc: client, log,
    probeIntervalMs: settings.probeIntervalMs, probeTimeoutMs: limits.peerProbeTimeoutMs, phiThreshold: settings.phiThreshold,
  });
  const readRepair = new ReadRepair({
    self, rpc: client, replica, metrics, log, inFlightPerPeerMax: limits.readRepairInFlightPerPeerMax, timeoutMs: rpcTimeoutMs,
  });
  const coordinator = new Coordinator({
    self, actor: actorIdOf(self, deps.storage.incarnation), runtime, rpc: client, replica, detector, readRepair, ring, log,
  });
  const handoff = new HintedHandoff({
    self, runtime, rpc: client, replica, detector, metrics, log, rpcTimeoutMs,
    intervalMs: settings.handoffIntervalMs, batchMax: limits.handoffBatchMax,
  });
  const antiEntropy = new AntiEntropy({
    self, runtime, rpc: client, replica, ring, detector, metrics, log, rpcTimeoutMs,
    intervalMs: settings.antiEntropyIntervalMs, keysPerExchangeMax: limits.antiEntropyKeysPerExchangeMax, scanPageSize: limits.scanPageSize,
  });
  const reaper = new TombstoneReaper({
    self, runtime, rpc: client, replica, ring, metrics, log, rpcTimeoutMs, graceMs: settings.tombstoneGraceMs,
    intervalMs: Math.min(Math.max(settings.tombstoneGraceMs / 2, limits.reapIntervalMsMin), limits.reapIntervalMsMax),
    scanPerRoundMax: limits.reapScanPerRoundMax,
  });
  const rpc = new RpcHandler({ self, ring, replica, coordinator, antiEntropy, reaper });
  return {
    coordinator, rpc, replica, detector, handoff, antiEntropy, reaper,
    async start() {
      const built = await antiEntropy.rebuild();
      log.info(built, 'anti-entropy trees built');
      detector.start();
      handoff.start();
      antiEntropy.start();
      reaper.start();
    },
    stop() {
      reaper.stop();
      antiEntropy.stop();
      handoff.stop();
      detector.stop();
    },
  };
}
