// Builders for synthetic histories in the checkers' tests.
import type { FaultWindow, Op, RunInfo } from '../history.js';

export interface CallOptions {
  readonly node?: string;
  readonly quorum?: boolean;
  readonly status?: number | string;
  /** The completion's value; defaults to the invocation's for add/write, null for read. */
  readonly result?: Op['value'];
}

/** An operation's invoke and completion, `from` to `to` ms. */
export function call(
  process: number,
  f: Op['f'],
  key: string,
  value: Op['value'],
  from: number,
  to: number,
  type: 'ok' | 'fail' | 'info',
  options: CallOptions = {},
): [Op, Op] {
  const node = options.node ?? 'n1';
  const quorum = options.quorum === undefined ? {} : { quorum: options.quorum };
  const invoke: Op = { process, type: 'invoke', f, key, value: f === 'read' ? null : value, timeMs: from, node, ...quorum };
  const completion: Op = {
    process, type, f, key,
    value: options.result !== undefined ? options.result : f === 'read' ? value : value,
    timeMs: to, node, latencyMs: to - from,
    status: options.status ?? (type === 'ok' ? 200 : type === 'fail' ? 400 : 'timeout'),
    ...quorum,
  };
  return [invoke, completion];
}

/** Sorts calls into one history, ordered by time. */
export function history(...calls: readonly (readonly Op[])[]): Op[] {
  return calls.flat().sort((a, b) => a.timeMs - b.timeMs);
}

export function fault(kind: FaultWindow['kind'], startMs: number, endMs: number | undefined, nodes: string[] = ['n2']): FaultWindow {
  return { kind, description: `${kind} ${nodes.join(',')}`, nodes, startMs, endMs };
}

export function runInfo(workload: RunInfo['workload'], overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    seed: 42, nodes: 3, n: 3, timeSec: 10, workload, nemeses: ['partition'], client: 'safe',
    startedAt: '2025-01-01T00:00:00.000Z', ...overrides,
  };
}

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A plausible synthetic set run for the report: `processes` clients adding unique elements to 5 keys
 * and reading them, for `timeSec` seconds, through a partition, a kill and a pause; writes during the
 * partition are slow or time out, requests to the killed node are refused, requests to the paused one
 * time out. Final reads hold every element whose add was not refused.
 */
export function syntheticSetRun(options: { seed?: number; timeSec?: number; processes?: number; opsPerSec?: number; readFraction?: number } = {}) {
  const rand = prng(options.seed ?? 7);
  const timeSec = options.timeSec ?? 60;
  const processes = options.processes ?? 10;
  const nodes = ['n1', 'n2', 'n3'];
  const end = timeSec * 1000;
  const faults: FaultWindow[] = [
    { kind: 'partition', description: 'n1 | n2,n3 (majority/minority)', nodes: ['n1'], startMs: 0.15 * end, endMs: 0.4 * end },
    { kind: 'kill', description: 'SIGKILL n3, restart', nodes: ['n3'], startMs: 0.55 * end, endMs: 0.7 * end },
    { kind: 'pause', description: 'SIGSTOP n2', nodes: ['n2'], startMs: 0.8 * end, endMs: 0.88 * end },
  ];
  const keys = ['s0', 's1', 's2', 's3', 's4'];
  // Each process's schedule first, then elements and read values in invocation order, so a read
  // sees every add invoked before it (and, through n1 during the partition, misses the newest few).
  interface Planned { p: number; t: number; latency: number; key: string; node: string; type: 'ok' | 'fail' | 'info'; status: number | string; isAdd: boolean; inPartition: boolean }
  const planned: Planned[] = [];
  const gap = 1000 / ((options.opsPerSec ?? 200) / processes);
  for (let p = 0; p < processes; p++) {
    let t = rand() * gap;
    while (t < end) {
      const key = keys[Math.floor(rand() * keys.length)]!;
      const node = nodes[Math.floor(rand() * nodes.length)]!;
      const active = faults.filter((w) => t >= w.startMs && t <= (w.endMs ?? Infinity));
      let latency = Math.exp(Math.log(2.5) + 0.5 * (rand() * 2 - 1) + (rand() < 0.02 ? 2.5 : 0));
      let type: 'ok' | 'fail' | 'info' = 'ok';
      let status: number | string = 200;
      let inPartition = false;
      for (const w of active) {
        if (w.kind === 'partition' && (node === 'n1' || rand() < 0.3)) {
          inPartition = node === 'n1';
          if (rand() < 0.5) [type, status, latency] = ['info', 503, 200 + rand() * 800];
          else latency *= 20 + rand() * 30;
        }
        if (w.kind === 'kill' && node === 'n3') [type, status, latency] = ['fail', 'ECONNREFUSED', 0.2 + rand() * 0.5];
        if (w.kind === 'pause' && node === 'n2') [type, status, latency] = ['info', 'timeout', 1000];
      }
      planned.push({ p, t, latency, key, node, type, status, isAdd: rand() >= (options.readFraction ?? 0.4), inPartition });
      t += latency + rand() * gap * 2;
    }
  }
  planned.sort((a, b) => a.t - b.t);
  const history: Op[] = [];
  const present = new Map<string, number[]>(keys.map((k) => [k, []]));
  let next = 0;
  for (const o of planned) {
    const { p, t, latency, key, node, type, status } = o;
    if (o.isAdd) {
      const element = next++;
      if (type !== 'fail' && (type === 'ok' || rand() < 0.5)) present.get(key)!.push(element);
      history.push(...call(p, 'add', key, element, r2(t), r2(t + latency), type, { node, status }));
    } else {
      const all = present.get(key)!;
      const seen = type !== 'ok' ? null : o.inPartition ? all.slice(0, Math.max(0, all.length - 3)) : [...all];
      history.push(...call(p, 'read', key, seen, r2(t), r2(t + latency), type, { node, status }));
    }
  }
  history.sort((a, b) => a.timeMs - b.timeMs);
  const finalReads = keys.flatMap((key) => nodes.map((node) => ({ key, node, status: 200, value: [...present.get(key)!] })));
  const replicaVersions = keys.flatMap((key) => nodes.map((node) => ({ key, node, version: `v-${key}-${present.get(key)!.length}` })));
  const info = runInfo('set', { timeSec, nemeses: ['partition', 'kill', 'pause'] });
  return { info, history, faults, finalReads, replicaVersions, convergenceMs: 1840 };
}

const r2 = (n: number) => Math.round(n * 100) / 100;
