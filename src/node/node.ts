// One kvorum node: storage + transport + the core's services + HTTP server, started and stopped together.
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from '../api/app.js';
import { createMetrics } from '../api/metrics.js';
import { shutdownGraceMs } from '../core/limits.js';
import { createNodeCore } from '../core/node-core.js';
import { createRing } from '../core/ring.js';
import { SqliteStorage } from '../storage/sqlite.js';
import { HttpTransport } from '../transport/http-transport.js';
import type { NodeConfig } from './config.js';
import { realRuntime } from './real-runtime.js';

export interface RunningNode {
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish (bounded), flushes storage. */
  stop(): Promise<void>;
}

export async function startNode(config: NodeConfig, log: FastifyBaseLogger): Promise<RunningNode> {
  const storage = SqliteStorage.open({ dir: config.dataDir, sync: config.sync });
  const transport = new HttpTransport(config.peers, config.secret);
  const ring = createRing([...config.peers.keys()], config.partitions, config.n);
  const metrics = createMetrics(config.id, () => storage.hintCounts());
  const core = createNodeCore({
    self: config.id,
    runtime: realRuntime,
    transport,
    storage,
    ring: () => ring,
    log,
    metrics: metrics.core,
    settings: config.convergence,
  });
  let ready = false;
  let stopping = false;
  const app = buildApp({
    logger: log,
    self: config.id,
    coordinator: core.coordinator,
    rpc: core.rpc,
    replica: core.replica,
    n: config.n,
    defaults: { r: config.r, w: config.w },
    valueBytesMax: config.valueBytesMax,
    metrics,
    ring: () => ring,
    peerUrls: config.peers,
    memberStatus: (id) => core.detector.statusOf(id),
    memberPhi: (id) => core.detector.phi(id),
    hintCounts: () => storage.hintCounts(),
    ready: () => ready,
    stopping: () => stopping,
    secret: config.secret,
  });
  if (config.secret === undefined) log.warn('no --secret: internal RPC is open to anyone who can reach this port');

  // Trees are rebuilt before the port opens: no write may land while they are being counted.
  await core.start();
  await app.listen({ host: config.host, port: config.port });
  ready = true;
  const url = `http://${config.host}:${config.port}`;
  log.info({ url, dataDir: config.dataDir, members: ring.members, n: config.n, partitions: config.partitions }, 'node ready');

  return {
    url,
    async stop() {
      ready = false;
      stopping = true;
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
