// Offline loader of scale-bench.ts: fills the data directories of a stopped cluster with `count`
// keys, through the storage engine's own API, with the objects a PUT through the cluster would
// leave there: the coordinating node's actor (nodes take turns), a first dot from the wall clock as
// the coordinator makes it, the same object on every replica (N = the node count), each key in the
// partition the ring places it in. Far faster than 1M PUTs over HTTP, and the rows are the same.
import { update } from '../../src/core/dvv.js';
import { dotCountersPerMs, storageBatchMax } from '../../src/core/limits.js';
import { ringMetaName } from '../../src/core/membership.js';
import { partitionOf } from '../../src/core/ring.js';
import { decodeRingState } from '../../src/core/ring-schema.js';
import { ringViewOf } from '../../src/core/ring-view.js';
import { actorIdOf, asNodeId } from '../../src/core/types.js';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { valueFor } from './common.js';

export const loadedKey = (i: number): string => `key-${i}`;

/** Writes keys 0..count-1 (`loadedKey`) into every node's data dir; `progress` hears every 100k. */
export async function loadKeys(
  nodes: ReadonlyArray<{ id: string; dataDir: string }>,
  count: number,
  valueBytes: number,
  progress: (done: number) => void = () => {},
): Promise<void> {
  const stores = nodes.map((n) => SqliteStorage.open({ dir: n.dataDir }));
  try {
    const bytes = await stores[0]!.getMeta(ringMetaName);
    const decoded = bytes && decodeRingState(bytes);
    if (!decoded?.ok) throw new Error(`scale-load: no ring in ${nodes[0]!.dataDir}`);
    const ring = ringViewOf(decoded.value);
    const actors = nodes.map((n, i) => actorIdOf(asNodeId(n.id), stores[i]!.incarnation));
    for (let start = 0; start < count; start += storageBatchMax) {
      const writes: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(count, start + storageBatchMax); i++) {
        const key = loadedKey(i);
        const value = { kind: 'value' as const, data: new Uint8Array(valueFor(key, valueBytes)), contentType: 'application/octet-stream' };
        const { object } = update(undefined, undefined, actors[i % actors.length]!, value, Date.now() * dotCountersPerMs);
        const partition = partitionOf(ring, key);
        for (const s of stores) writes.push(s.update(key, partition, () => object));
      }
      await Promise.all(writes); // one transaction per store per batch
      if (Math.floor((start + storageBatchMax) / 100_000) > Math.floor(start / 100_000)) progress(Math.min(count, start + storageBatchMax));
    }
  } finally {
    for (const s of stores) await s.close();
  }
}
