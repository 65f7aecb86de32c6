// The HTTP bench's kvorum targets: a 3-node cluster (the test kit's, N=3) with a given `--sync`
// mode, stopped by pid when its phases are done (or at cleanup), and a byte-for-byte read-back of
// a sample of the keys a phase wrote.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../kit/test-cluster.js';
import { valueFor } from './common.js';
import { onCleanup, stopGraceMs } from './bench-procs.js';
import type { Target } from './bench-phases.js';

const nodeCount = 3;
export const putQuery = 'w=2';
export const getQuery = 'r=2';

/** `kvorum start --sync` values (src/node/knobs.ts). */
export type SyncMode = 'normal' | 'full';

export interface KvorumTarget extends Target {
  readonly cluster: TestCluster;
  /** Stops the nodes (SIGTERM by pid, SIGKILL after a grace period) and removes their data. */
  stop(): Promise<void>;
  /** Throws if a node died. */
  checkAlive(): void;
}

/** Starts the cluster; `nodeExecArgs` go to every node's `node` (e.g. --cpu-prof). */
export async function startKvorum(sync: SyncMode, nodeExecArgs: readonly string[] | undefined): Promise<KvorumTarget> {
  const secret = randomBytes(16).toString('hex');
  const cluster = await startCluster({ nodes: nodeCount, secret, extraArgs: ['--log-level', 'warn', '--sync', sync], ...(nodeExecArgs ? { nodeExecArgs } : {}) });
  const stop = onCleanup(async () => {
    for (const node of cluster.nodes) node.kill('SIGTERM');
    await Promise.all(cluster.nodes.map((node) => node.waitExit(stopGraceMs).catch(() => undefined)));
    await cluster.stop(); // SIGKILLs what is left, removes the data dirs
  });
  return {
    name: `kvorum sync=${sync}`,
    api: 'kvorum',
    urls: cluster.nodes.map((n) => n.url),
    serverPids: () => cluster.nodes.flatMap((n) => n.pid() ?? []),
    putQuery,
    getQuery,
    cluster,
    stop,
    checkAlive: () => {
      for (const n of cluster.nodes) if (!n.running()) throw new Error(`kvorum ${n.id} (${n.url}) died during the run; its last output:\n${n.logs()}`);
    },
  };
}

/** Where a cluster keeps its data (for the header). */
export const dataRoot = (t: KvorumTarget): string => join(t.cluster.nodes[0]!.dataDir, '..');

/** Reads back a sample of the keys in `keysFile` (r=2) and checks every byte of the value. */
export async function verifySample(urls: readonly string[], keysFile: string, sample: number, valueBytes: number): Promise<string> {
  const keys = readFileSync(keysFile, 'utf8').split('\n').filter(Boolean);
  const n = Math.min(sample, keys.length);
  let good = 0;
  const bad: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[Math.floor((i * keys.length) / n)]!;
    const url = urls[i % urls.length]!;
    const res = await fetch(`${url}/kv/${key}?${getQuery}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status === 200 && body.equals(valueFor(key, valueBytes))) good++;
    else bad.push(`${key}@${url}: ${res.status}, ${body.length} bytes`);
  }
  return `${good}/${n} sampled keys read back intact${bad.length ? ` (bad: ${bad.slice(0, 3).join('; ')})` : ''}`;
}
