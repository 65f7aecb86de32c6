// A 3-member etcd cluster for the bench's `--vs etcd`: the `etcd` binary found on PATH (Debian's
// etcd-server, etcd 3.4; the bench never installs it), members e1..e3 on free 127.0.0.1 client
// and peer ports, data dirs under the bench's temp dir, default durability (every raft batch
// fsynced). Started and stopped by pid (the kit's watchdog kills them if the bench dies first).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freePorts } from '../kit/ports.js';
import { unwatchPid, watchPid } from '../kit/watchdog.js';

const members = 3;
const healthDeadlineMs = 30_000;
const healthPollMs = 200;
const stopGraceMs = 5000;
const logLinesKept = 100;

export interface EtcdCluster {
  /** Client URLs, one per member (the JSON gateway listens there). */
  readonly urls: readonly string[];
  readonly version: string;
  /** Pids of the members still running. */
  pids(): number[];
  logs(): string;
  /** SIGTERM each member by pid, SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** The path of `etcd` on PATH, or undefined. */
export function findEtcd(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, 'etcd');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface Member {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Starts the cluster with data under `dir` and waits until every member reports healthy (a leader elected). */
export async function startEtcd(binary: string, dir: string): Promise<EtcdCluster> {
  const ports = await freePorts(members * 2);
  const names = Array.from({ length: members }, (_, i) => `e${i + 1}`);
  const clientUrls = names.map((_, i) => `http://127.0.0.1:${ports[i]}`);
  const peerUrls = names.map((_, i) => `http://127.0.0.1:${ports[members + i]}`);
  const initialCluster = names.map((name, i) => `${name}=${peerUrls[i]}`).join(',');
  const token = `kvorum-bench-${randomBytes(4).toString('hex')}`;
  const lines: string[] = [];
  const started = names.map((name, i) =>
    spawnMember(binary, name, lines, [
      '--name', name,
      '--data-dir', join(dir, name),
      '--listen-client-urls', clientUrls[i]!,
      '--advertise-client-urls', clientUrls[i]!,
      '--listen-peer-urls', peerUrls[i]!,
      '--initial-advertise-peer-urls', peerUrls[i]!,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', token,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-level', 'warn',
    ]),
  );
  const cluster: EtcdCluster = {
    urls: clientUrls,
    version: 'unknown',
    pids: () => started.filter((m) => m.child.exitCode === null && m.child.signalCode === null).map((m) => m.child.pid!),
    logs: () => lines.join('\n'),
    stop: () => stopMembers(started),
  };
  try {
    await Promise.all(clientUrls.map((url, i) => waitHealthy(url, started[i]!)));
    return { ...cluster, version: await versionOf(clientUrls[0]!) };
  } catch (err) {
    await cluster.stop();
    throw new Error(`${(err as Error).message}\n--- etcd output ---\n${cluster.logs()}`);
  }
}

function spawnMember(binary: string, name: string, lines: string[], args: string[]): Member {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const dataDir = args[args.indexOf('--data-dir') + 1]!;
  if (child.pid !== undefined) watchPid(child.pid, dataDir);
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(`[${name}] ${line}`);
    lines.splice(0, Math.max(0, lines.length - logLinesKept));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      if (child.pid !== undefined) unwatchPid(child.pid);
      resolve();
    });
    child.once('error', (err) => {
      lines.push(`[${name}] spawn error: ${err.message}`);
      resolve();
    });
  });
  return { name, child, exited };
}

async function waitHealthy(url: string, member: Member): Promise<void> {
  const deadline = Date.now() + healthDeadlineMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (member.child.exitCode !== null || member.child.signalCode !== null) throw new Error(`etcd ${member.name} exited (code ${member.child.exitCode}) while starting`);
    try {
      const res = await fetch(`${url}/health`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200 && last.includes('"true"')) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, healthPollMs));
  }
  throw new Error(`etcd ${member.name} (${url}) not healthy within ${healthDeadlineMs / 1000} s (last: ${last})`);
}

async function versionOf(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/version`);
    return ((await res.json()) as { etcdserver?: string }).etcdserver ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function stopMembers(started: readonly Member[]): Promise<void> {
  await Promise.all(
    started.map(async (m) => {
      const running = () => m.child.exitCode === null && m.child.signalCode === null && m.child.pid !== undefined;
      if (!running()) return;
      signal(m.child, 'SIGTERM');
      const timer = setTimeout(() => running() && signal(m.child, 'SIGKILL'), stopGraceMs);
      await m.exited;
      clearTimeout(timer);
    }),
  );
}

/** Signals the member by pid; one that exited meanwhile is not an error. */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(child.pid!, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
