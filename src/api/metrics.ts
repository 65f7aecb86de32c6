// Prometheus metrics for one node (its own registry, so several nodes in one process never mix).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface NodeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route' | 'method' | 'status'>;
  readonly quorum: Counter<'op' | 'outcome'>;
}

export function createMetrics(nodeId: string): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'kvorum_http_requests_total',
      help: 'HTTP requests served, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'kvorum_http_request_duration_seconds',
      help: 'HTTP request latency, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    quorum: new Counter({
      name: 'kvorum_quorum_outcomes_total',
      help: 'Coordinated client operations by outcome: met, or unavailable (503).',
      labelNames: ['op', 'outcome'],
      registers: [registry],
    }),
  };
}
