// Part 1 of the convergence bench: what one anti-entropy exchange costs on the wire.
// Two in-process cores (createNodeCore, N=2, 2 members, 64 partitions) talk through WireTransport,
// which batches calls exactly like PeerTransport (same turn, up to rpcBatchMax) and msgpack-encodes
// every batch of requests and every batch of outcomes with the real codec, counting the bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sameVersion, update } from '../../src/core/dvv.js';
import * as limits from '../../src/core/limits.js';
import { hashBytes, packHashes, versionHash } from '../../src/core/merkle.js';
import type { CoreCounter, CoreMetrics } from '../../src/core/metrics.js';
import { createNodeCore, type NodeCore } from '../../src/core/node-core.js';
import { createRing, partitionOf, type Ring } from '../../src/core/ring.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import type { RpcRequest, RpcResponse } from '../../src/core/rpc.js';
import { silentLogger, TransportError, type Storage, type Transport } from '../../src/core/ports.js';
import { actorIdOf, asNodeId, asPartitionId, type ActorId, type NodeId, type VersionedObject } from '../../src/core/types.js';
import { realRuntime } from '../../src/node/real-runtime.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { unwrapChecked } from '../../src/core/rpc-schema.js';
import { decodeRpcBatch, decodeRpcOutcomes, encodeRpc, type RpcOutcome } from '../../src/transport/codec.js';
import { forceGc, fmt, int, mib, shuffled, table } from './convergence-common.js';

export interface WireOptions {
  readonly keys: number;
  readonly valueBytes: number;
  readonly storage: 'sqlite' | 'memory';
  readonly differing: readonly number[];
  /** Registers a temp dir for removal on interrupt; returns an unregister function. */
  readonly trackTempDir: (dir: string) => () => void;
}

interface TypeStats {
  calls: number;
  batches: number;
  requestBytes: number;
  responseBytes: number;
}

class WireStats {
  calls = 0;
  batches = 0;
  requestBytes = 0;
  responseBytes = 0;
  /** Keyed by the request types of a batch ("read", "replicate", "aeKeys", "read+replicate", ...). */
  readonly byType = new Map<string, TypeStats>();

  add(types: string, calls: number, requestBytes: number, responseBytes: number): void {
    this.calls += calls;
    this.batches++;
    this.requestBytes += requestBytes;
    this.responseBytes += responseBytes;
    const t = this.byType.get(types) ?? { calls: 0, batches: 0, requestBytes: 0, responseBytes: 0 };
    t.calls += calls;
    t.batches++;
    t.requestBytes += requestBytes;
    t.responseBytes += responseBytes;
    this.byType.set(types, t);
  }

  get total(): number {
    return this.requestBytes + this.responseBytes;
  }
}

interface Pending {
  readonly request: RpcRequest;
  resolve(response: RpcResponse): void;
  reject(err: unknown): void;
}

/**
 * An in-process Transport with PeerTransport's batching and the real codec on both legs. Bodies
 * are copied out of msgpackr's shared buffer (as a socket would), so decoded values never alias it.
 */
class WireTransport implements Transport {
  private readonly queues = new Map<NodeId, Pending[]>();

  constructor(
    private readonly handlers: ReadonlyMap<NodeId, (r: RpcRequest) => Promise<RpcResponse>>,
    private readonly stats: () => WireStats,
  ) {}

  call(peer: NodeId, request: RpcRequest, _timeoutMs: number): Promise<RpcResponse> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { request, resolve, reject };
      if (request.type === 'forward') return void this.send(peer, [pending]);
      let queue = this.queues.get(peer);
      if (!queue) {
        queue = [];
        this.queues.set(peer, queue);
        setImmediate(() => this.flush(peer));
      }
      queue.push(pending);
      if (queue.length >= limits.rpcBatchMax) this.flush(peer);
    });
  }

  private flush(peer: NodeId): void {
    const queue = this.queues.get(peer);
    if (!queue) return;
    this.queues.delete(peer);
    void this.send(peer, queue);
  }

  private async send(peer: NodeId, batch: readonly Pending[]): Promise<void> {
    const handler = this.handlers.get(peer);
    if (!handler) {
      for (const p of batch) p.reject(new TransportError(peer, 'unreachable', `${peer} unknown`));
      return;
    }
    const body = Buffer.from(encodeRpc(batch.map((p) => p.request)));
    const requests = unwrapChecked(decodeRpcBatch(body), 'wire bench');
    const outcomes = await Promise.all(
      requests.map((m) =>
        handler(m).then(
          (ok): RpcOutcome => ({ ok }),
          (err: unknown): RpcOutcome => ({ error: (err as Error).message }),
        ),
      ),
    );
    const reply = Buffer.from(encodeRpc(outcomes));
    const decoded = unwrapChecked(decodeRpcOutcomes(reply), 'wire bench');
    const types = [...new Set(batch.map((p) => p.request.type))].sort().join('+');
    this.stats().add(types, batch.length, body.length, reply.length);
    batch.forEach((p, i) => {
      const outcome = decoded[i];
      if (outcome && 'ok' in outcome) p.resolve(outcome.ok);
      else p.reject(new TransportError(peer, 'protocol', `${peer} failed the call: ${outcome?.error ?? 'no answer'}`));
    });
  }
}

/** The deterministic value of `key` at generation `gen`: `bytes` long, unique per (key, gen). */
function valueOf(key: string, gen: number, bytes: number): Uint8Array {
  const out = Buffer.alloc(bytes, 0x61 + (gen % 26));
  out.write(`${key}|${gen}|`, 0, 'latin1');
  return out;
}

function tallyMetrics(): CoreMetrics & { get(c: CoreCounter): number } {
  const counts = new Map<CoreCounter, number>();
  return { inc: (c, by = 1) => void counts.set(c, (counts.get(c) ?? 0) + by), get: (c) => counts.get(c) ?? 0 };
}

const keyName = (i: number) => `user:${String(i).padStart(7, '0')}`;

/**
 * Writes the same object for each key into every storage, straight through Storage.update. A
 * function of its own so nothing it allocated stays reachable from the caller's frame.
 */
async function load(ring: Ring, storages: readonly Storage[], keys: number, valueBytes: number, actor: ActorId, contentType: string): Promise<void> {
  const chunk = 10_000;
  for (let from = 0; from < keys; from += chunk) {
    const writes: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(keys, from + chunk); i++) {
      const key = keyName(i);
      const object = update(undefined, undefined, actor, { kind: 'value', data: valueOf(key, 0, valueBytes), contentType }).object;
      const partition = partitionOf(ring, key);
      for (const s of storages) writes.push(s.update(key, partition, () => object));
    }
    await Promise.all(writes);
  }
}

export async function runWireBench(opts: WireOptions): Promise<void> {
  console.log(`\n== 1. anti-entropy bytes vs differing keys (in-process, real codec) ==`);
  const ids = [asNodeId('a'), asNodeId('b')] as const;
  const ring: Ring = createRing([...ids], limits.partitionsDefault, 2);
  let dir: string | undefined;
  let untrack = () => {};
  const storages: Storage[] = [];
  try {
    if (opts.storage === 'sqlite') {
      dir = mkdtempSync(join(os.tmpdir(), 'kvorum-aebench-'));
      untrack = opts.trackTempDir(dir);
      storages.push(SqliteStorage.open({ dir: join(dir, 'a') }), SqliteStorage.open({ dir: join(dir, 'b') }));
    } else {
      storages.push(new MemoryStorage({ incarnation: 'ia' }), new MemoryStorage({ incarnation: 'ib' }));
    }
    const [storeA, storeB] = storages as [Storage, Storage];

    let stats = new WireStats();
    const handlers = new Map<NodeId, (r: RpcRequest) => Promise<RpcResponse>>();
    const metrics = tallyMetrics();
    const settings = {
      tombstoneGraceMs: limits.tombstoneGraceMsDefault,
      antiEntropyIntervalMs: limits.antiEntropyIntervalMsDefault,
      handoffIntervalMs: limits.handoffIntervalMsDefault,
      hintsPerPeerMax: limits.hintsPerPeerMaxDefault,
      probeIntervalMs: limits.peerProbeIntervalMsDefault,
      gossipIntervalMs: limits.gossipIntervalMsDefault,
      transferLimits: { concurrency: limits.transferConcurrencyDefault, bytesPerSecond: limits.transferBytesPerSecondDefault },
      phiThreshold: limits.phiThresholdDefault,
    };
    const make = (self: NodeId, storage: Storage): NodeCore => {
      const core = createNodeCore({
        self,
        runtime: realRuntime,
        transport: new WireTransport(handlers, () => stats),
        storage,
        initialRing: genesisOfIds([...ids], limits.partitionsDefault, 2),
        log: silentLogger,
        metrics,
        settings,
      });
      handlers.set(self, (r) => core.rpc.handle(r));
      return core;
    };
    // Background services are never started: only rebuild() and exchange() run.
    const coreA = make(ids[0], storeA);
    const coreB = make(ids[1], storeB);
    const actorA = actorIdOf(ids[0], storeA.incarnation);
    const actorB = actorIdOf(ids[1], storeB.incarnation);

    // ---- load: the same objects into both storages, straight through Storage.update ----
    const loader = 'loader.bench' as ActorId;
    const contentType = 'application/octet-stream';
    const loadStart = performance.now();
    await load(ring, [storeA, storeB], opts.keys, opts.valueBytes, loader, contentType);
    const loadMs = performance.now() - loadStart;

    // ---- rebuild: the start-up cost, per node ----
    const rebuild = async (core: NodeCore) => {
      const gcOk = forceGc();
      const heap0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      const built = await core.antiEntropy.takeUpTrees();
      const ms = performance.now() - t0;
      forceGc();
      return { ...built, ms, heapDelta: process.memoryUsage().heapUsed - heap0, gcOk };
    };
    const rebuiltA = await rebuild(coreA);
    const rebuiltB = await rebuild(coreB);

    console.log(
      `  ${int(opts.keys)} keys, ${opts.valueBytes}-byte values, storage ${opts.storage}${dir ? ` (${dir})` : ''}; ` +
        `loaded into both in ${fmt(loadMs)} ms; keysPerExchangeMax ${limits.antiEntropyKeysPerExchangeMax}, rpcBatchMax ${limits.rpcBatchMax}`,
    );
    console.log('\n' + table(
      [
        ['node', 'keys', 'partitions', 'rebuild ms', 'keys/s', 'heapUsed delta (trees)', 'bytes/key'],
        ...[['a', rebuiltA], ['b', rebuiltB]].map(([name, r]) => {
          const x = r as typeof rebuiltA;
          return [name as string, int(x.keys), String(x.partitions), fmt(x.ms), int(x.keys / (x.ms / 1000)), mib(x.heapDelta), fmt(x.heapDelta / x.keys)];
        }),
      ],
      1,
    ));
    if (!rebuiltA.gcOk) console.log('  (no forced GC available: heap deltas include garbage)');
    if (rebuiltA.keys !== opts.keys || rebuiltB.keys !== opts.keys) throw new Error(`rebuild counted ${rebuiltA.keys}/${rebuiltB.keys} keys, expected ${opts.keys}`);

    // ---- exchanges with 0, 10, 1000 differing keys ----
    const order = shuffled(opts.keys);
    let next = 0;
    let gen = 1;
    const rows: string[][] = [];
    const breakdowns: { d: number; stats: WireStats }[] = [];
    for (const d of opts.differing) {
      if (next + d > opts.keys) throw new Error(`not enough keys for ${d} more differing keys`);
      const chosen = order.slice(next, next + d).map(keyName);
      next += d;
      gen++;
      // Half newer on a, half newer on b: each a new version superseding the loaded one.
      const bump = (core: NodeCore, actor: ActorId, key: string) =>
        core.replica.update(key, (cur) => update(cur, cur?.context, actor, { kind: 'value', data: valueOf(key, gen, opts.valueBytes), contentType }).object);
      const half = Math.floor(d / 2);
      await Promise.all(chosen.map((key, i) => (i < half ? bump(coreA, actorA, key) : bump(coreB, actorB, key))));

      stats = new WireStats();
      let repaired = 0;
      let payload = 0;
      let exchanges = 0;
      let partitionsDiffering = 0;
      let partitionsCompared = 0;
      const t0 = performance.now();
      for (;;) {
        const report = await coreA.antiEntropy.exchange(ids[1]);
        exchanges++;
        repaired += report.keysRepaired;
        payload += report.payloadBytes;
        if (exchanges === 1) {
          partitionsDiffering = report.partitionsDiffering;
          partitionsCompared = report.partitionsCompared;
        }
        if (repaired >= d || report.keysRepaired === 0 || exchanges >= 10) break;
      }
      const ms = performance.now() - t0;
      const measured = stats;
      breakdowns.push({ d, stats: measured });

      // Sanity (not measured): the next exchange finds nothing and both sides hold the same versions.
      stats = new WireStats();
      const after = await coreA.antiEntropy.exchange(ids[1]);
      let equal = 0;
      for (const key of chosen) if (sameVersion(await storeA.get(key), await storeB.get(key))) equal++;
      const ok = after.partitionsDiffering === 0 && equal === d && repaired === d;
      rows.push([
        int(d),
        String(exchanges),
        `${partitionsDiffering}/${partitionsCompared}`,
        int(repaired),
        int(measured.requestBytes),
        int(measured.responseBytes),
        int(measured.total),
        int(payload),
        int(measured.calls),
        int(measured.batches),
        fmt(ms, 1),
        d === 0 ? '-' : fmt(measured.total / d),
        ok ? 'yes' : `NO (next exchange: ${after.partitionsDiffering} partitions differ; ${equal}/${d} keys equal)`,
      ]);
    }
    console.log('\n' + table(
      [
        ['differing', 'exchanges', 'partitions differing', 'keys repaired', 'wire req B', 'wire resp B', 'wire total B', 'payloadBytes (core est.)', 'RPC calls', 'batches (HTTP req)', 'ms', 'wire B/key', 'in sync after'],
        ...rows,
      ],
      0,
    ));

    for (const { d, stats: s } of breakdowns.filter((b) => b.d > 0).slice(-1)) {
      console.log(`\n  wire bytes by request type, ${int(d)} differing keys (a batch is labelled by the types it carried):`);
      console.log(table(
        [
          ['types', 'calls', 'batches', 'request B', 'response B', 'total B'],
          ...[...s.byType].sort((x, y) => y[1].requestBytes + y[1].responseBytes - (x[1].requestBytes + x[1].responseBytes)).map(([t, v]) => [
            t, int(v.calls), int(v.batches), int(v.requestBytes), int(v.responseBytes), int(v.requestBytes + v.responseBytes),
          ]),
        ],
        1,
      ));
    }

    // ---- naive alternatives: every (key, digest) pair, or every object ----
    let keyDigestBytes = 0;
    let objectsBytes = 0;
    let rawKeyDigest = 0;
    let scanned = 0;
    for (let p = 0; p < ring.partitions; p++) {
      const partition = asPartitionId(p);
      const keys: string[] = [];
      const hashes: bigint[] = [];
      const replicate: RpcRequest[] = [];
      const flushObjects = () => {
        if (replicate.length === 0) return;
        objectsBytes += encodeRpc(replicate).length;
        replicate.length = 0;
      };
      for (let after: string | undefined; ; ) {
        const page = await storeA.scanPartition(partition, after, 4096);
        for (const { key, object } of page) {
          keys.push(key);
          hashes.push(versionHash(key, object as VersionedObject));
          rawKeyDigest += Buffer.byteLength(key) + hashBytes;
          replicate.push({ type: 'replicate', key, object });
          if (replicate.length >= limits.rpcBatchMax) flushObjects();
        }
        scanned += page.length;
        if (page.length < 4096) break;
        after = page[page.length - 1]!.key;
      }
      flushObjects();
      // One aeKeys-style response per partition carrying every pair, as the real codec encodes it.
      keyDigestBytes += encodeRpc([{ ok: { type: 'keys', keys, hashes: packHashes(hashes) } }]).length;
    }
    const last = breakdowns[breakdowns.length - 1];
    console.log(`\n  naive full exchange of ${int(scanned)} keys, for comparison:`);
    console.log(table(
      [
        ['what', 'bytes', 'vs AE exchange, 0 differing', `vs AE exchange, ${int(last?.d ?? 0)} differing`],
        ...([
          ['sum of key lengths + 8-byte version hashes', rawKeyDigest],
          ['every (key, version hash) pair, msgpack (one keys reply per partition)', keyDigestBytes],
          [`every object as replicate requests, msgpack (batches of ${limits.rpcBatchMax})`, objectsBytes],
        ] as const).map(([what, bytes]) => [
          what,
          int(bytes),
          `${fmt(bytes / (breakdowns[0]?.stats.total ?? NaN))}x`,
          `${fmt(bytes / (last?.stats.total ?? NaN), 1)}x`,
        ]),
      ],
      1,
    ));
  } finally {
    for (const s of storages) await s.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    untrack();
  }
}
