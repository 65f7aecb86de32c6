// Prometheus metrics for one node (its own registry, so several nodes in one process never mix).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CoreCounter, CoreMetrics } from '../core/metrics.js';
import { hostGauges, type HostGaugeSources } from './metrics-host.js';

export interface NodeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route' | 'method' | 'status'>;
  readonly quorum: Counter<'op' | 'outcome'>;
  /** Counts one served request and its latency (requests and latency, by route, method and status). */
  readonly observeRequest: (route: string, method: string, status: number, seconds: number) => void;
  /** Counts one client GET answer: its live siblings and the bytes of their values. */
  readonly observeRead: (values: ReadonlyArray<{ readonly data: Uint8Array }>) => void;
  /** The core's counters, as Prometheus counters. */
  readonly core: CoreMetrics;
  /** Overload protection (api/overload.ts): shed requests by reason; in-flight and loop delay read at each scrape. */
  readonly overload: OverloadMetrics;
}

export interface OverloadMetrics {
  readonly shed: (reason: 'in_flight' | 'event_loop') => void;
  readonly watch: (source: { inFlightNow(): number; eventLoopDelayMs(): number }) => void;
}

/** kvorum_requests_shed_total, kvorum_client_requests_in_flight and kvorum_event_loop_delay_seconds. */
function overloadMetrics(registry: Registry): OverloadMetrics {
  const shed = new Counter({
    name: 'kvorum_requests_shed_total',
    help: 'Client requests answered 503 overloaded without being run, by reason: in_flight (the in-flight limit) or event_loop (event-loop delay).',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Both series exported from the start at 0; looked up once, not per shed request.
  const series = { in_flight: shed.labels({ reason: 'in_flight' }), event_loop: shed.labels({ reason: 'event_loop' }) };
  series.in_flight.inc(0);
  series.event_loop.inc(0);
  const bySource = { inFlight: () => 0, delayMs: () => 0 };
  new Gauge({
    name: 'kvorum_client_requests_in_flight',
    help: 'Client requests (/kv, /batch) this node accepted and has not answered yet.',
    registers: [registry],
    collect() {
      this.set(bySource.inFlight());
    },
  });
  new Gauge({
    name: 'kvorum_event_loop_delay_seconds',
    help: 'Mean event-loop delay over the last sample interval, as overload protection measures it (0 when it is off).',
    registers: [registry],
    collect() {
      this.set(bySource.delayMs() / 1000);
    },
  });
  return {
    shed: (reason) => series[reason].inc(),
    watch: (source) => {
      bySource.inFlight = () => source.inFlightNow();
      bySource.delayMs = () => source.eventLoopDelayMs();
    },
  };
}

const quarantinedHelp = 'Stored rows (objects, hints) that could not be decoded or were not valid rows, moved to the quarantine table; each reads as absent.';

/**
 * Prometheus name and help of every core counter, and its labels when several core counters are
 * series of one Prometheus counter.
 */
const coreCounters: Record<CoreCounter, [name: string, help: string, labels?: Readonly<Record<string, string>>]> = {
  read_repairs: ['kvorum_read_repairs_total', 'Stale or missing replicas sent the merged object after a read.'],
  read_repairs_skipped: ['kvorum_read_repairs_skipped_total', 'Read repairs skipped because the peer already had the maximum in flight.'],
  hints_stored: ['kvorum_hints_stored_total', 'Writes kept as hints for a primary that did not take them.'],
  hints_delivered: ['kvorum_hints_delivered_total', 'Hints handed off to their owner and deleted.'],
  transfers_completed: ['kvorum_transfers_completed_total', 'Partitions this node finished receiving (streamed and Merkle-checked).'],
  transfer_keys: ['kvorum_transfer_keys_total', 'Keys this node received in partition transfers.'],
  transfer_bytes: ['kvorum_transfer_bytes_total', 'Estimated payload bytes this node received in partition transfers.'],
  transfer_errors: ['kvorum_transfer_errors_total', 'Transfer attempts that failed on this node (retried from the last page kept).'],
  hints_refused: ['kvorum_hints_refused_total', 'Hints refused because this node already held hintsPerPeerMax for that peer.'],
  ae_exchanges: ['kvorum_ae_exchanges_total', 'Anti-entropy exchanges completed (one peer, every shared partition).'],
  ae_keys_repaired: ['kvorum_ae_keys_repaired_total', 'Keys anti-entropy found different and changed on at least one side (merged both ways).'],
  ae_payload_bytes: ['kvorum_ae_payload_bytes_total', 'Estimated anti-entropy payload, both directions: hashes, keys, digests, objects (not wire bytes: no msgpack/HTTP framing).'],
  tombstones_reap_deferred: [
    'kvorum_tombstones_reap_deferred_total',
    'Tombstones past the grace period left for a later round: a primary lacked them, a member was unreachable, or a hint or in-flight copy of the key existed.',
  ],
  tombstones_reaped: ['kvorum_tombstones_reaped_total', 'Tombstones removed from this node: every primary held them past the grace period and no node held a hint or in-flight copy of the key.'],
  storage_quarantined_objects: ['kvorum_storage_quarantined_total', quarantinedHelp, { kind: 'object' }],
  storage_quarantined_hints: ['kvorum_storage_quarantined_total', quarantinedHelp, { kind: 'hint' }],
};

/** One increment function per core counter; counters sharing a name share one Prometheus counter. */
function coreIncrements(registry: Registry): Map<string, (by: number) => void> {
  const byName = new Map<string, Counter>();
  const increments = new Map<string, (by: number) => void>();
  for (const [counter, [name, help, labels]] of Object.entries(coreCounters)) {
    let prom = byName.get(name);
    if (!prom) byName.set(name, (prom = new Counter({ name, help, labelNames: Object.keys(labels ?? {}), registers: [registry] })));
    const series = prom;
    // A labelled series is exported from the start at 0, so a query sees "none yet", not "no data".
    if (labels) series.inc(labels, 0);
    increments.set(counter, labels ? (by) => series.inc(labels, by) : (by) => series.inc(by));
  }
  return increments;
}

/** What the gauges read at each scrape. */
export interface GaugeSources extends HostGaugeSources {
  readonly hintCounts: () => ReadonlyMap<string, number>;
  /** Transfers this node is receiving, by state. */
  readonly transferStates: () => readonly string[];
  readonly partitionsMoving: () => number;
}

const transferStates = ['queued', 'streaming', 'verifying', 'done', 'failed'];

function membershipGauges(registry: Registry, sources: GaugeSources): void {
  new Gauge({
    name: 'kvorum_transfers_active',
    help: 'Transfers this node is receiving, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const states = sources.transferStates();
      for (const state of transferStates) this.set({ state }, states.filter((s) => s === state).length);
    },
  });
  new Gauge({
    name: 'kvorum_partitions_moving',
    help: "Partitions of this node's ring whose target replicas differ from their replicas.",
    registers: [registry],
    collect() {
      this.set(sources.partitionsMoving());
    },
  });
}

export function createMetrics(nodeId: string, sources: GaugeSources): NodeMetrics {
  const { hintCounts } = sources;
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry });
  const increments = coreIncrements(registry);
  membershipGauges(registry, sources);
  hostGauges(registry, sources);
  new Gauge({
    name: 'kvorum_hints_pending',
    help: 'Hints this node holds, by the peer they are for.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [peer, count] of hintCounts()) this.set({ peer }, count);
    },
  });
  const requests = new Counter({
      name: 'kvorum_http_requests_total',
      help: 'HTTP requests served, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
  const latency = new Histogram({
      name: 'kvorum_http_request_duration_seconds',
      help: 'HTTP request latency, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
  return {
    registry,
    core: { inc: (counter, by = 1) => increments.get(counter)!(by) },
    observeRead: readObserver(registry),
    overload: overloadMetrics(registry),
    requests,
    latency,
    observeRequest: requestObserver(requests, latency),
    quorum: new Counter({
      name: 'kvorum_quorum_outcomes_total',
      help: 'Coordinated client operations by outcome: met, unavailable (503), or precondition_failed (412).',
      labelNames: ['op', 'outcome'],
      registers: [registry],
    }),
  };
}

/** Buckets of kvorum_read_siblings: 0 is a 404; siblingsMax (100) bounds what client writes leave. */
const readSiblingsBuckets = [0, 1, 2, 3, 5, 10, 25, 50, 100];
/** Buckets of kvorum_read_object_bytes: 0 up to the largest valueBytesMax (64 MiB), by powers of 4. */
const readObjectBytesBuckets = [0, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864];

/** observeRead: the two histograms of what client GETs answer. */
function readObserver(registry: Registry): NodeMetrics['observeRead'] {
  const siblings = new Histogram({
    name: 'kvorum_read_siblings',
    help: 'Live siblings per client GET answer (0: 404, 1: 200, more: 300).',
    buckets: readSiblingsBuckets,
    registers: [registry],
  });
  const bytes = new Histogram({
    name: 'kvorum_read_object_bytes',
    help: 'Bytes of the live values (all siblings) per client GET answer.',
    buckets: readObjectBytesBuckets,
    registers: [registry],
  });
  return (values) => {
    siblings.observe(values.length);
    bytes.observe(values.reduce((n, v) => n + v.data.byteLength, 0));
  };
}

/**
 * observeRequest: the labelled series are looked up once per (route, method, status), not per
 * request (prom-client hashes the label set on every call). Routes, methods and statuses are few.
 */
function requestObserver(requests: Counter<'route' | 'method' | 'status'>, latency: Histogram<'route' | 'method' | 'status'>): NodeMetrics['observeRequest'] {
  const series = new Map<string, { readonly count: { inc(): void }; readonly time: { observe(v: number): void } }>();
  return (route, method, status, seconds) => {
    const id = `${route} ${method} ${status}`;
    let s = series.get(id);
    if (!s) {
      const labels = { route, method, status: String(status) };
      series.set(id, (s = { count: requests.labels(labels), time: latency.labels(labels) }));
    }
    s.count.inc();
    s.time.observe(seconds);
  };
}
