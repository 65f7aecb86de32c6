// `kvorum cluster`: K local nodes as child processes on consecutive ports, stopped together.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { clusterHealthPollMs, clusterHealthWaitMs } from '../core/limits.js';

export interface ClusterOptions {
  readonly nodes: number;
  readonly basePort: number;
  readonly dataDir: string;
  readonly host: string;
  /** Extra `kvorum start` flags passed to every node (e.g. --n, --secret-file). */
  readonly extraArgs: readonly string[];
}

/** The secret `kvorum cluster` makes for its nodes when it is given none, under --data-dir. */
export const clusterSecretFile = 'cluster.secret';
const cliPath = fileURLToPath(new URL('./kvorum.js', import.meta.url));

export async function runCluster(opts: ClusterOptions): Promise<number> {
  const ids = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
  // With `-- --tls-cert ...` every node serves HTTPS: its URL, in --peers and printed, is https.
  const scheme = flagValue(opts.extraArgs, '--tls-cert') === undefined ? 'http' : 'https';
  const url = (i: number) => `${scheme}://${opts.host}:${opts.basePort + i}`;
  const peers = ids.map((id, i) => `${id}=${url(i)}`).join(',');
  const secretArgs = secretFileArgs(opts);
  const children: ChildProcess[] = ids.map((id, i) =>
    spawn(
      process.execPath,
      [cliPath, 'start', '--id', id, '--listen', `${opts.host}:${opts.basePort + i}`, '--data-dir', join(opts.dataDir, id), '--peers', peers, ...secretArgs, ...opts.extraArgs],
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
  // SIGHUP reloads each node's certificates (docs/api.md, TLS); it does not stop the cluster.
  process.on('SIGHUP', () => children.forEach((child) => child.exitCode === null && child.kill('SIGHUP')));
  // If one node dies on its own, take the others down too rather than leave a half cluster.
  exited.forEach((p, i) =>
    p.then((code) => {
      if (!stopping) {
        console.error(`kvorum cluster: node ${ids[i]} exited with code ${code}; stopping the others`);
        stopAll();
      }
    }),
  );

  if (await allHealthy(ids.map((_, i) => url(i)), () => stopping, flagValue(opts.extraArgs, '--tls-ca'))) {
    console.log(`kvorum cluster: ${opts.nodes} nodes ready`);
    ids.forEach((id, i) => console.log(`  ${id}  ${url(i)}`));
    console.log('Ctrl-C stops every node cleanly.');
  }
  const codes = await Promise.all(exited);
  return codes.every((c) => c === 0) ? 0 : 1;
}

/** The value of `--name VALUE` or `--name=VALUE` among the flags passed to every node. */
function flagValue(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at >= 0) return args[at + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** GET /health answers 200; an https node's certificate checked against `caFile` (the nodes' --tls-ca) when given. */
function healthCheck(caFile: string | undefined): (url: string) => Promise<boolean> {
  let ca: Buffer | undefined;
  try {
    ca = caFile === undefined ? undefined : readFileSync(caFile);
  } catch {
    ca = undefined; // the nodes exit on it themselves, saying why
  }
  if (ca === undefined) return (u) => fetch(`${u}/health`).then((r) => r.ok, () => false);
  const dispatcher = new Agent({ connect: { ca } });
  return (u) => request(`${u}/health`, { dispatcher }).then(async (r) => (await r.body.dump(), r.statusCode === 200), () => false);
}

/**
 * Unless the user gave the nodes a secret (flags after `--`, or the environment), the cluster gets
 * its own: a random one in D/cluster.secret (made once, mode 0600), so internal RPC is never open.
 */
function secretFileArgs(opts: ClusterOptions): string[] {
  const given = opts.extraArgs.some((a) => /^--secret(-file)?(=|$)/.test(a)) || process.env['KVORUM_SECRET'] || process.env['KVORUM_SECRET_FILE'];
  if (given) return [];
  const path = join(opts.dataDir, clusterSecretFile);
  mkdirSync(opts.dataDir, { recursive: true });
  if (!existsSync(path)) writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return ['--secret-file', path];
}

async function allHealthy(urls: readonly string[], cancelled: () => boolean, caFile: string | undefined): Promise<boolean> {
  const deadline = Date.now() + clusterHealthWaitMs;
  const healthy = healthCheck(caFile);
  while (Date.now() < deadline && !cancelled()) {
    const ok = await Promise.all(urls.map(healthy));
    if (ok.every(Boolean)) return true;
    await new Promise((resolve) => setTimeout(resolve, clusterHealthPollMs));
  }
  if (!cancelled()) console.error(`kvorum cluster: nodes not healthy after ${clusterHealthWaitMs} ms`);
  return false;
}
