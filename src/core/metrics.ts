// What the core counts. The node maps these to Prometheus counters (api/metrics.ts); the
// simulator may just tally them. Counting is a port like time: the core never imports prom-client.

export type CoreCounter =
  | 'read_repairs'
  | 'read_repairs_skipped'
  | 'hints_stored'
  | 'hints_delivered'
  | 'hints_refused'
  | 'ae_exchanges'
  | 'ae_keys_repaired'
  | 'ae_payload_bytes'
  | 'tombstones_reaped'
  | 'tombstones_reap_deferred'
  | 'storage_quarantined_objects'
  | 'storage_quarantined_hints'
  | 'transfers_completed'
  | 'transfer_keys'
  | 'transfer_bytes'
  | 'transfer_errors';

export interface CoreMetrics {
  inc(counter: CoreCounter, by?: number): void;
}

export const noMetrics: CoreMetrics = { inc() {} };
