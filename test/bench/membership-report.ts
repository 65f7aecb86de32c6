// Figures of the membership bench: the client's records cut into windows (throughput, latency
// percentiles, errors, the worst second), and the transfer figures of each step.
import type { LoadRecords } from './membership-common.js';
import { counterNames, type Counters, type StepResult } from './membership-steps.js';

export interface Window {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

export interface WindowStats {
  readonly name: string;
  readonly seconds: number;
  /** Requests due in the window (answered or not). */
  readonly requests: number;
  readonly ok: number;
  readonly okPerSecond: number;
  /** Requests not answered 2xx, by status ("0": connection error or timeout; "-1": unanswered when the client stopped). */
  readonly statuses: Record<string, number>;
  /** 503s answered in under 1.9 s of service time: not the coordinator's 2 s quorum timeout, but replicas refusing (421) or failing fast. */
  readonly fast503: number;
  readonly nonOk: number;
  /** Open-loop latency (from when due) of 2xx answers, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly getP99: number;
  readonly putP99: number;
  /** Same, from when the request was handed to the HTTP client (only a late client event loop left out). */
  readonly serviceP99: number;
  /** The full seconds of the window with the fewest 2xx answers, and the highest per-second p99. */
  readonly worstSecondOk: number;
  readonly worstSecondP99: number;
}

const percentile = (sorted: Float64Array, p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
const sortedOf = (xs: number[]): Float64Array => Float64Array.from(xs).sort();

/** Per full second of [fromMs, toMs): 2xx count and p99 of 2xx latency. */
export function perSecond(r: LoadRecords, fromMs: number, toMs: number): { ok: number; p99: number; nonOk: number }[] {
  const n = Math.max(0, Math.floor((toMs - fromMs) / 1000));
  const lat: number[][] = Array.from({ length: n }, () => []);
  const nonOk = new Array<number>(n).fill(0);
  for (let i = 0; i < r.t.length; i++) {
    const s = Math.floor((r.t[i]! - fromMs) / 1000);
    if (s < 0 || s >= n) continue;
    if (r.status[i]! >= 200 && r.status[i]! < 300) lat[s]!.push(r.latencyMs[i]!);
    else nonOk[s]!++;
  }
  return lat.map((l, s) => ({ ok: l.length, p99: percentile(sortedOf(l), 99), nonOk: nonOk[s]! }));
}

export function windowStats(r: LoadRecords, w: Window): WindowStats {
  const all: number[] = [];
  const gets: number[] = [];
  const puts: number[] = [];
  const service: number[] = [];
  const statuses: Record<string, number> = {};
  let fast503 = 0;
  let requests = 0;
  for (let i = 0; i < r.t.length; i++) {
    if (r.t[i]! < w.fromMs || r.t[i]! >= w.toMs) continue;
    requests++;
    const status = r.status[i]!;
    if (status < 200 || status >= 300) {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 503 && r.serviceMs[i]! < 1900) fast503++;
      continue;
    }
    all.push(r.latencyMs[i]!);
    service.push(r.serviceMs[i]!);
    (r.put[i] ? puts : gets).push(r.latencyMs[i]!);
  }
  const sorted = sortedOf(all);
  const seconds = (w.toMs - w.fromMs) / 1000;
  const secs = perSecond(r, w.fromMs, w.toMs);
  return {
    name: w.name,
    seconds,
    requests,
    ok: all.length,
    okPerSecond: all.length / seconds,
    statuses,
    fast503,
    nonOk: Object.values(statuses).reduce((a, b) => a + b, 0),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
    getP99: percentile(sortedOf(gets), 99),
    putP99: percentile(sortedOf(puts), 99),
    serviceP99: percentile(sortedOf(service), 99),
    worstSecondOk: secs.length === 0 ? NaN : Math.min(...secs.map((s) => s.ok)),
    worstSecondP99: secs.length === 0 ? NaN : Math.max(...secs.map((s) => (Number.isFinite(s.p99) ? s.p99 : 0))),
  };
}

export interface TransferFigures {
  readonly step: string;
  readonly stepSeconds: number;
  /** From the commit until the claimant's ring showed nothing moving. */
  readonly transferSeconds: number;
  readonly keysReceived: number;
  readonly bytesReceived: number;
  readonly transfersCompleted: number;
  readonly transferErrors: number;
  readonly aeKeysRepaired: number;
  readonly hintsStored: number;
  readonly readRepairs: number;
  readonly keysPerSecond: number;
  readonly mbPerSecond: number;
  /** Plan: (partition, receiver) pairs, and the fewest any balanced ring needs: the sum over members of max(0, after - before). */
  readonly planTransfers: number;
  readonly minTransfers: number;
  readonly planKeysMoving: number;
  readonly ownersMoved: number;
  readonly ownersMovedMin: number;
  readonly partitionsMoving: number;
}

/** Sum over nodes of after - before (a node missing before counts from 0; one missing after adds nothing). */
function delta(before: Record<string, Counters>, after: Record<string, Counters>, name: (typeof counterNames)[number]): number {
  return Object.entries(after).reduce((sum, [id, c]) => sum + c[name] - (before[id]?.[name] ?? 0), 0);
}

export function transferFigures(s: StepResult): TransferFigures {
  const d = (name: (typeof counterNames)[number]) => delta(s.countersBefore, s.countersAfter, name);
  const transferSeconds = (s.transfersDoneMs - s.commitMs) / 1000;
  return {
    step: s.name,
    stepSeconds: (s.endMs - s.startMs) / 1000,
    transferSeconds,
    keysReceived: d('transfer_keys'),
    bytesReceived: d('transfer_bytes'),
    transfersCompleted: d('transfers_completed'),
    transferErrors: d('transfer_errors'),
    aeKeysRepaired: d('ae_keys_repaired'),
    hintsStored: d('hints_stored'),
    readRepairs: d('read_repairs'),
    keysPerSecond: d('transfer_keys') / transferSeconds,
    mbPerSecond: d('transfer_bytes') / 1e6 / transferSeconds,
    planTransfers: s.plan.transfers.length,
    minTransfers: s.plan.members.reduce((sum, m) => sum + Math.max(0, m.after - m.before), 0),
    planKeysMoving: s.plan.keysMoving,
    ownersMoved: s.plan.ownersMoved,
    ownersMovedMin: s.plan.ownersMovedMin,
    partitionsMoving: s.plan.partitionsMoving,
  };
}
