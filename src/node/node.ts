// One kvorum node: storage + transport + the core's services + HTTP server, started and stopped together.
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from '../api/app.js';
import { AuthStore } from '../auth/auth-store.js';
import { createMetrics, type NodeMetrics } from '../api/metrics.js';
import { shutdownGraceMs } from '../core/limits.js';
import { FailureLog } from '../core/failure-log.js';
import { createNodeCore, type NodeCore } from '../core/node-core.js';
import { Membership } from '../core/membership.js';
import { movingPartitions } from '../core/membership-plan.js';
import type { RingState } from '../core/ring-state.js';
import { genesisFromPeers } from '../core/ring-view.js';
import { asPartitionId, type NodeId } from '../core/types.js';
import { SqliteStorage } from '../storage/sqlite.js';
import { PeerTransport } from '../transport/peer-transport.js';
import type { NodeConfig } from './config.js';
import type { Server as HttpsServer } from 'node:https';
import { TlsIdentity } from '../transport/tls-identity.js';
import { joinCluster } from './join.js';
import { reloadAll, type Reloadable } from './reload.js';
import { realRuntime } from './real-runtime.js';
import { NodeBackups } from './backups.js';
import { ringVersionOf } from '../api/views.js';

export interface RunningNode {
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish (bounded), flushes storage. */
  stop(): Promise<void>;
  /** Resolves when the node stopped itself: it was removed from the cluster (after leaving). */
  readonly removed: Promise<void>;
  /** SIGHUP: reads again what can change without a restart (the TLS files, --auth-file); logs each part's outcome, never throws. */
  reload(): void;
}

/** The ring this node starts from: the one its data directory keeps, else a join's, else a new cluster's. */
async function initialRing(config: NodeConfig, storage: SqliteStorage, selfUrl: string, log: FastifyBaseLogger, tls: TlsIdentity | undefined): Promise<RingState> {
  const stored = await Membership.loadStored(storage);
  if (stored !== undefined) {
    if (config.join !== undefined) log.info({ join: config.join }, 'the data directory already holds a ring: --join is ignored');
    return stored;
  }
  if (config.join !== undefined) return joinCluster(config, config.join, selfUrl, tls);
  return genesisFromPeers(config.peers, config.partitions, config.n);
}

const isRemoved = (state: RingState, self: NodeId) => state.members.find((m) => m.id === self)?.status === 'removed';

/** Keeps the transport's addresses with the ring; resolves once the ring says this node was removed. */
function followRing(membership: Membership, transport: PeerTransport, self: NodeId): Promise<void> {
  return new Promise((resolve) => {
    membership.onChange((_ring, state) => {
      transport.updatePeers(urlsOf(state));
      if (isRemoved(state, self)) resolve();
    });
  });
}

/**
 * A removed node first finishes handing its last partitions away (bounded), then waits until a
 * member that stays holds the ring that removes it (Membership.handOver; stop() ends the wait).
 */
async function handOff(core: NodeCore, log: FastifyBaseLogger): Promise<void> {
  const grace = new Promise<'timeout'>((resolve) => setTimeout(resolve, shutdownGraceMs, 'timeout').unref());
  if ((await Promise.race([core.transfers.handedOff().then(() => 'done' as const), grace])) === 'timeout') {
    log.warn({ graceMs: shutdownGraceMs }, 'removed: handing partitions away did not finish in time; stopping anyway');
  }
  await core.membership.handOver();
}

const urlsOf = (ring: RingState): Map<NodeId, string> => new Map(ring.members.filter((m) => m.status !== 'removed').map((m) => [m.id, m.url]));

/** The --auth-file's tokens (a bad file stops the start: ConfigError), or a warning that there are none. */
function openAuth(config: NodeConfig, log: FastifyBaseLogger): AuthStore | undefined {
  if (config.authFile === undefined) {
    log.warn('no --auth-file: the client and admin API are open to anyone who can reach this port');
    return undefined;
  }
  const auth = AuthStore.open(config.authFile, log);
  // Watched from the read on: a change made while the node starts is not missed.
  auth.watch();
  log.info({ authFile: config.authFile, tokens: auth.tokens.size, metricsAccess: config.metricsAccess }, 'client tokens loaded');
  return auth;
}

function openStorage(config: NodeConfig, log: FastifyBaseLogger): SqliteStorage {
  return SqliteStorage.open({
    dir: config.dataDir,
    sync: config.sync,
    log: (message) => log.info(message),
    checkpoints: { onProblem: (message) => log.warn(message) },
  });
}

/** The node's metrics; their gauges read the core (made after them, so reached through `core`) at each scrape. */
function nodeMetrics(config: NodeConfig, storage: SqliteStorage, core: () => NodeCore): NodeMetrics {
  return createMetrics(config.id, {
    hintCounts: () => storage.hintCounts(),
    transferStates: () => core().transfers.progress().map((t) => t.state),
    partitionsMoving: () => movingPartitions(core().membership.state()).length,
    peerStatuses: () => new Map(core().membership.peers().map((id) => [id, core().detector.statusOf(id)])),
    dataDir: config.dataDir,
  });
}

export async function startNode(config: NodeConfig, log: FastifyBaseLogger): Promise<RunningNode> {
  const auth = openAuth(config, log);
  const storage = openStorage(config, log);
  const tls = config.tls === undefined ? undefined : new TlsIdentity(config.tls);
  const url = config.advertiseUrl;
  const startRing = await initialRing(config, storage, url, log, tls).catch(async (err: unknown) => {
    await storage.close();
    throw err;
  });
  const transport = new PeerTransport(urlsOf(startRing), config.secret, tls, tlsFailureLog(log));
  warnOnUrlChange(startRing, config.id, url, log);
  const metrics = nodeMetrics(config, storage, () => core);
  const core = createNodeCore({
    self: config.id,
    runtime: realRuntime,
    transport,
    storage,
    initialRing: startRing,
    log,
    metrics: metrics.core,
    settings: config.convergence,
  });
  const state = { ready: false, stopping: false };
  const app = buildNodeApp(config, core, storage, metrics, log, state, tls, auth);
  const reloadable: Reloadable[] = tls ? [tlsReloadable(tls, app.server as unknown as HttpsServer)] : [];
  if (config.secret === undefined) log.warn('no --secret: internal RPC is open to anyone who can reach this port');

  const removedLater = followRing(core.membership, transport, config.id);
  // Trees are rebuilt before the port opens: no write may land while they are being counted.
  await core.start();
  let removed: Promise<void>;
  if (isRemoved(startRing, config.id)) {
    // Killed after it learned of its removal: it opens no port, only finishes handing off, then stops.
    log.warn(`${config.id} was removed from the cluster: it hands over what it still holds, then stops; to bring it back, start it with an empty --data-dir and --join`);
    removed = handOff(core, log);
  } else {
    removed = removedLater.then(() => handOff(core, log));
    await app.listen({ host: config.host, port: config.port });
    state.ready = true;
    const ring = core.membership.state();
    log.info({ url, dataDir: config.dataDir, ...tls?.describe(), members: ring.members.map((m) => `${m.id}:${m.status}`), n: ring.n, partitions: ring.partitions }, 'node ready');
  }

  return {
    url,
    removed,
    reload: () => {
      reloadAll(reloadable, log);
      auth?.reload(); // logs its own outcome; a refused file leaves the tokens in force
    },
    async stop() {
      auth?.stop();
      state.ready = false;
      state.stopping = true;
      core.stop();
      const grace = new Promise<'timeout'>((resolve) => setTimeout(resolve, shutdownGraceMs, 'timeout').unref());
      if ((await Promise.race([app.close().then(() => 'closed' as const), grace])) === 'timeout') {
        log.warn({ graceMs: shutdownGraceMs }, 'in-flight requests did not finish in time; closing anyway');
      }
      await transport.close();
      await storage.close();
      log.info('node stopped');
    },
  };
}

/** Why a peer is unreachable when TLS is the reason (its certificate not trusted, or ours refused): logged, rate-limited per peer. */
function tlsFailureLog(log: FastifyBaseLogger): (peer: NodeId, problem: string) => void {
  const failures = new FailureLog({ log, now: () => performance.now() });
  return (peer, problem) => failures.report('peer_unreachable', `TLS with peer ${peer} failed`, { peer, problem });
}

/**
 * A member's URL is fixed in the ring when it joins: a node restarted with another --advertise (or
 * with TLS switched) is still reached at the old one. Say so.
 */
function warnOnUrlChange(ring: RingState, self: NodeId, url: string, log: FastifyBaseLogger): void {
  const ringUrl = ring.members.find((m) => m.id === self)?.url;
  if (ringUrl === undefined || ringUrl.startsWith('inprocess:') || ringUrl === url) return;
  const why = new URL(ringUrl).protocol === new URL(url).protocol ? 'peers and clients still reach it at the ring\'s URL' : 'peers cannot reach it (TLS is set when a cluster is created)';
  log.warn({ ringUrl, url }, `the ring gives this node another URL than it advertises: ${why}; a member's URL is fixed when it joins`);
}

/** The TLS files read again: the server's context replaced (new connections get it), outbound connections opened later use them. */
function tlsReloadable(tls: TlsIdentity, server: HttpsServer): Reloadable {
  return {
    what: 'TLS certificates',
    reload() {
      tls.reload();
      server.setSecureContext(tls.serverOptions());
      return tls.describe();
    },
  };
}

/** The HTTP app over the node's core; `state` says whether it is ready and whether it is stopping. */
function buildNodeApp(
  config: NodeConfig,
  core: NodeCore,
  storage: SqliteStorage,
  metrics: NodeMetrics,
  log: FastifyBaseLogger,
  state: { ready: boolean; stopping: boolean },
  tls: TlsIdentity | undefined,
  auth: AuthStore | undefined,
) {
  return buildApp({
    logger: log,
    self: config.id,
    coordinator: core.coordinator,
    listing: core.listing,
    rpc: core.rpc,
    replica: core.replica,
    n: core.membership.state().n,
    defaults: { r: config.r, w: config.w },
    valueBytesMax: config.valueBytesMax,
    metrics,
    ring: () => core.membership.ring(),
    membership: core.membership,
    transfers: core.transfers,
    keysIn: (p) => core.antiEntropy.keysIn(asPartitionId(p)),
    memberStatus: (id) => core.detector.statusOf(id),
    memberPhi: (id) => core.detector.phi(id),
    hintCounts: () => storage.hintCounts(),
    antiEntropyExchanges: () => core.antiEntropy.exchangesByPeer(),
    ready: () => state.ready,
    stopping: () => state.stopping,
    secret: config.secret,
    ...(tls ? { tls } : {}),
    server: config.server,
    auth: { tokens: auth === undefined ? undefined : () => auth.tokens, metricsAccess: config.metricsAccess },
    backups: new NodeBackups({ self: config.id, dataDir: config.dataDir, storage, ringVersion: () => ringVersionOf(core.membership.state()), log }),
    accessLog: config.accessLog,
  });
}
