// `kvorum cluster`: K local nodes as child processes on consecutive ports, stopped together.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { clusterHealthPollMs, clusterHealthWaitMs } from '../core/limits.js';

export interface ClusterOptions {
  readonly nodes: number;
  readonly basePort: number;
  readonly dataDir: string;
  readonly host: string;
  /** Extra `kvorum start` flags passed to every node (e.g. --n, --secret). */
  readonly extraArgs: readonly string[];
}

const cliPath = fileURLToPath(new URL('./kvorum.js', import.meta.url));

export async function runCluster(opts: ClusterOptions): Promise<number> {
  const ids = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
  const url = (i: number) => `http://${opts.host}:${opts.basePort + i}`;
  const peers = ids.map((id, i) => `${id}=${url(i)}`).join(',');
  const children: ChildProcess[] = ids.map((id, i) =>
    spawn(
      process.execPath,
      [cliPath, 'start', '--id', id, '--listen', `${opts.host}:${opts.basePort + i}`, '--data-dir', join(opts.dataDir, id), '--peers', peers, ...opts.extraArgs],
      { stdio: 'inherit' },
    ),
  );
  let stopping = false;
  const exited = children.map((child) => new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))));
  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  // If one node dies on its own, take the others down too rather than leave a half cluster.
  exited.forEach((p, i) =>
    p.then((code) => {
      if (!stopping) {
        console.error(`kvorum cluster: node ${ids[i]} exited with code ${code}; stopping the others`);
        stopAll();
      }
    }),
  );

  if (await allHealthy(ids.map((_, i) => url(i)), () => stopping)) {
    console.log(`kvorum cluster: ${opts.nodes} nodes ready`);
    ids.forEach((id, i) => console.log(`  ${id}  ${url(i)}`));
    console.log('Ctrl-C stops every node cleanly.');
  }
  const codes = await Promise.all(exited);
  return codes.every((c) => c === 0) ? 0 : 1;
}

async function allHealthy(urls: readonly string[], cancelled: () => boolean): Promise<boolean> {
  const deadline = Date.now() + clusterHealthWaitMs;
  while (Date.now() < deadline && !cancelled()) {
    const ok = await Promise.all(urls.map((u) => fetch(`${u}/health`).then((r) => r.ok, () => false)));
    if (ok.every(Boolean)) return true;
    await new Promise((resolve) => setTimeout(resolve, clusterHealthPollMs));
  }
  if (!cancelled()) console.error(`kvorum cluster: nodes not healthy after ${clusterHealthWaitMs} ms`);
  return false;
}
