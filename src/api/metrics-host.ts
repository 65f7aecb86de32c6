// Gauges read at each scrape for dashboards and alerts: how this node sees its peers
// (kvorum_member_up) and how full the filesystem of its data directory is.
import { statfsSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

export interface HostGaugeSources {
  /** The other members still in the cluster, each with this node's failure detector's verdict. */
  readonly peerStatuses: () => ReadonlyMap<string, 'up' | 'down' | 'unknown'>;
  /** The --data-dir: its filesystem's free and total bytes are exported. */
  readonly dataDir: string;
}

/** kvorum_member_up{member}: 1 when this node believes the peer up, 0 when down or not heard from yet. */
function memberUpGauge(registry: Registry, peerStatuses: HostGaugeSources['peerStatuses']): void {
  new Gauge({
    name: 'kvorum_member_up',
    help: "This node's failure detector's verdict on each other member: 1 up, 0 down (or not heard from yet).",
    labelNames: ['member'],
    registers: [registry],
    collect() {
      // Reset first: a member removed from the ring must leave no stale series.
      this.reset();
      for (const [member, status] of peerStatuses()) this.set({ member }, status === 'up' ? 1 : 0);
    },
  });
}

/** The filesystem of `dir`: bytes available to the node (bavail, not bfree) and its size; undefined if statfs fails. */
export function filesystemBytes(dir: string): { freeBytes: number; sizeBytes: number } | undefined {
  try {
    const fs = statfsSync(dir);
    return { freeBytes: fs.bavail * fs.bsize, sizeBytes: fs.blocks * fs.bsize };
  } catch {
    return undefined;
  }
}

/**
 * kvorum_data_dir_free_bytes and kvorum_data_dir_size_bytes: a statfs per scrape (cheap). A failing
 * statfs (the directory gone) reads NaN ("unknown", which no comparison matches) rather than failing /metrics.
 */
function dataDirGauges(registry: Registry, dataDir: string): void {
  const gauge = (name: string, help: string, pick: (b: { freeBytes: number; sizeBytes: number }) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const bytes = filesystemBytes(dataDir);
        this.set(bytes ? pick(bytes) : Number.NaN);
      },
    });
  gauge('kvorum_data_dir_free_bytes', 'Bytes still available to the node on the filesystem that holds its data directory.', (b) => b.freeBytes);
  gauge('kvorum_data_dir_size_bytes', 'Total size in bytes of the filesystem that holds the data directory.', (b) => b.sizeBytes);
}

export function hostGauges(registry: Registry, sources: HostGaugeSources): void {
  memberUpGauge(registry, sources.peerStatuses);
  dataDirGauges(registry, sources.dataDir);
}
