// HTTP throughput bench: kvorum (3 nodes, N=3, PUT ?w=2 / GET ?r=2) against a no-op fastify
// server, driven by the same load generator. See test/bench/README.md.
//   npm run bench -- [--seconds 10] [--warmup 2] [--connections 64] [--value-bytes 1024]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../kit/paths.js';
import { Proc } from '../kit/proc.js';
import { startCluster, type TestCluster } from '../kit/test-cluster.js';
import { resultMarker, valueFor, type LoadResult, type LoadSpec } from './common.js';
import { fmt, table } from './convergence-common.js';

const loadScript = join(repoRoot, 'test/bench/load.ts');
const noopScript = join(repoRoot, 'test/bench/noop-server.ts');

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    'value-bytes': { type: 'string', default: '1024' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('usage: node --import tsx test/bench/http-bench.ts [--seconds S] [--warmup S] [--connections C] [--value-bytes B]');
  process.exit(0);
}
const positiveInt = (name: string, raw: string, min: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
  return n;
};
const seconds = positiveInt('seconds', flags.seconds, 1);
const warmup = positiveInt('warmup', flags.warmup, 0);
const connections = positiveInt('connections', flags.connections, 3);
const valueBytes = positiveInt('value-bytes', flags['value-bytes'], 16);
const nodeCount = 3;
const targets = { put: 0.1, get: 0.2 } as const;

// ---- children and cleanup -------------------------------------------------------------------

/** The no-op server and load generators (the kit's Proc: watched, killed by pid if we die). */
const children = new Set<Proc>();
let cluster: TestCluster | undefined;
let tmpDir: string | undefined;

function startChild(name: string, args: string[], onLine?: (line: string) => void): Proc {
  const child = new Proc(name, args, onLine ? { onLine } : {});
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM each child and kvorum node by pid, SIGKILL whatever is still running after `graceMs`. */
async function stopChildren(graceMs = 5000): Promise<void> {
  const stopping = [...children].map(async (child) => {
    child.kill('SIGTERM');
    await child.waitExit(graceMs).catch(() => child.kill('SIGKILL'));
  });
  for (const node of cluster?.nodes ?? []) node.kill('SIGTERM');
  stopping.push(...(cluster?.nodes ?? []).map((node) => node.waitExit(graceMs).then(() => undefined, () => undefined)));
  await Promise.all(stopping);
  await cluster?.stop(); // SIGKILLs what is left, removes the data dirs
}

function removeTmp(): void {
  if (tmpDir === undefined) return;
  rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaningUp ??= stopChildren().finally(removeTmp);
  return cleaningUp;
}

// Last resort if the process exits some other way (the kit's Proc SIGKILLs its children on exit).
process.on('exit', removeTmp);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping every child and removing ${tmpDir ?? 'temp dirs'}`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---- helpers --------------------------------------------------------------------------------

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user+system) the processes have used so far; undefined where /proc is not available. */
function cpuSeconds(pids: readonly number[]): number | undefined {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after "(comm)": state is the 1st, utime the 12th, stime the 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return undefined;
    }
  }
  return ticks / clockTicks;
}

function failed(child: Proc, why: string): Error {
  return new Error(`${child.label} ${why}; its last output:\n  ${child.logs().split('\n').slice(-40).join('\n  ') || '(none)'}`);
}

function startNoop(): Promise<{ child: Proc; url: string }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const child = startChild('noop-server', ['--import', 'tsx', noopScript, '--value-bytes', String(valueBytes)], (line) => {
      const m = /^\{"port":(\d+)\}$/.exec(line);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${m[1]}` });
      }
    });
    const timer = setTimeout(() => !done && ((done = true), reject(failed(child, 'did not print its port within 15 s'))), 15_000);
    void child.exited.then(({ code }) => !done && ((done = true), clearTimeout(timer), reject(failed(child, `exited (code ${code}) before listening`))));
  });
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let line: string | undefined;
  const child = startChild(`load ${spec.method}`, ['--import', 'tsx', loadScript, JSON.stringify(spec)], (l) => {
    if (l.startsWith(resultMarker)) line = l;
  });
  // closed, not exited: the result line must have been read from its stdout.
  const { code } = await child.closed;
  if (code !== 0 || line === undefined) throw failed(child, `exited with code ${code} without a result`);
  return JSON.parse(line.slice(resultMarker.length)) as LoadResult;
}

/** --profile DIR: every node writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
function profileArgs(): { nodeExecArgs?: string[] } {
  return flags.profile === undefined ? {} : { nodeExecArgs: ['--cpu-prof', '--cpu-prof-dir', flags.profile] };
}

// ---- the run --------------------------------------------------------------------------------

interface Row {
  readonly target: string;
  readonly op: 'PUT' | 'GET';
  readonly r: LoadResult;
  /** CPU seconds the target's server processes used during the phase. */
  readonly serverCpu: number | undefined;
}

/** Runs one measured phase and the target's server CPU use around it. */
async function measured(spec: LoadSpec, serverPids: readonly number[]): Promise<{ r: LoadResult; serverCpu: number | undefined }> {
  const before = cpuSeconds(serverPids);
  const r = await runLoad(spec);
  const after = cpuSeconds(serverPids);
  return { r, serverCpu: before === undefined || after === undefined ? undefined : after - before };
}

async function benchTarget(name: string, urls: string[], serverPids: number[], dir: string): Promise<Row[]> {
  const putQuery = 'w=2';
  const getQuery = 'r=2';
  const base = { urls, connections, valueBytes };
  const warmKeys = join(dir, `${name}-warm.keys`);
  const keys = join(dir, `${name}.keys`);
  if (warmup > 0) {
    process.stdout.write(`  ${name}: warm-up ${warmup}s PUT + ${warmup}s GET ... `);
    await runLoad({ ...base, seconds: warmup, method: 'PUT', query: putQuery, keyPrefix: 'warm-', keysOut: warmKeys });
    await runLoad({ ...base, seconds: warmup, method: 'GET', query: getQuery, keyPrefix: '', keysIn: warmKeys });
    process.stdout.write('done\n');
  }
  process.stdout.write(`  ${name}: PUT ${seconds}s ... `);
  const put = await measured({ ...base, seconds, method: 'PUT', query: putQuery, keyPrefix: 'key-', keysOut: keys }, serverPids);
  process.stdout.write(`${Math.round(put.r.ok / put.r.seconds)} req/s; GET ${seconds}s ... `);
  if ((put.r.keysWritten ?? 0) === 0) throw new Error(`${name}: no PUT succeeded, nothing to read`);
  const get = await measured({ ...base, seconds, method: 'GET', query: getQuery, keyPrefix: '', keysIn: keys }, serverPids);
  process.stdout.write(`${Math.round(get.r.ok / get.r.seconds)} req/s\n`);
  return [
    { target: name, op: 'PUT', ...put },
    { target: name, op: 'GET', ...get },
  ];
}

/** Reads back a sample of the keys written to kvorum and checks every byte of the value. */
async function verifySample(urls: string[], keysFile: string, sample: number): Promise<string> {
  const keys = readFileSync(keysFile, 'utf8').split('\n').filter(Boolean);
  let good = 0;
  const bad: string[] = [];
  for (let i = 0; i < Math.min(sample, keys.length); i++) {
    const key = keys[Math.floor((i * keys.length) / sample)]!;
    const url = urls[i % urls.length]!;
    const res = await fetch(`${url}/kv/${key}?r=2`);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status === 200 && body.equals(valueFor(key, valueBytes))) good++;
    else bad.push(`${key}@${url}: ${res.status}, ${body.length} bytes`);
  }
  return `${good}/${Math.min(sample, keys.length)} sampled keys read back intact${bad.length ? ` (bad: ${bad.slice(0, 3).join('; ')})` : ''}`;
}

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log('kvorum HTTP bench');
  console.log(`  node ${process.version}, ${os.platform()}/${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), available parallelism ${os.availableParallelism()}`);
  console.log(
    `  ${connections} keep-alive connections, ${valueBytes}-byte values (distinct per request), ${seconds}s per phase, ${warmup}s warm-up per op; ` +
      `kvorum: N=3, PUT ?w=2, GET ?r=2, connections split over the 3 nodes`,
  );

  tmpDir = mkdtempSync(join(os.tmpdir(), 'kvorum-bench-'));
  const secret = randomBytes(16).toString('hex');
  const [noop, started] = await Promise.all([startNoop(), startCluster({ nodes: nodeCount, secret, extraArgs: ['--log-level', 'warn'], ...profileArgs() })]);
  cluster = started;
  const urls = started.nodes.map((n) => n.url);
  console.log(`  kvorum: ${urls.join(' ')} (data in ${join(started.nodes[0]!.dataDir, '..')}); no-op: ${noop.url}\n`);

  const rows: Row[] = [];
  rows.push(...(await benchTarget('no-op', [noop.url, noop.url, noop.url], [noop.child.pid!], tmpDir)));
  rows.push(...(await benchTarget('kvorum', urls, started.nodes.map((n) => n.pid()!), tmpDir)));
  const check = await verifySample(urls, join(tmpDir, 'kvorum.keys'), 30);
  for (const n of started.nodes) if (!n.running()) throw new Error(`kvorum ${n.id} (${n.url}) died during the run; its last output:\n${n.logs()}`);

  console.log('\n' + table(
    [
      ['target', 'op', 'req/s (2xx)', 'p50 ms', 'p99 ms', 'responses', 'non-2xx', 'errors', 'srv CPU', 'srv us/req', 'gen CPU', 'statuses'],
      ...rows.map(({ target, op, r, serverCpu }) => [
        target,
        op,
        fmt(r.ok / r.seconds, 0),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        String(r.responses),
        String(r.non2xx),
        String(r.errors),
        serverCpu === undefined ? '-' : `${fmt(serverCpu / r.seconds, 2)}`,
        serverCpu === undefined ? '-' : fmt((serverCpu * 1e6) / r.ok, 0),
        fmt(r.generatorCpuSeconds / r.seconds, 2),
        Object.entries(r.statusCounts).map(([code, n]) => `${code}:${n}`).join(' '),
      ]),
    ],
    2,
  ));

  const rate = (target: string, op: string) => {
    const r = rows.find((x) => x.target === target && x.op === op)!.r;
    return r.ok / r.seconds;
  };
  console.log(`  (srv CPU / gen CPU: cores used by the server processes / by the load generator, 1.00 = one core busy; ${os.cpus().length} here.\n   srv us/req: server CPU microseconds per 2xx response, all server processes of the target summed.)`);
  console.log('\nratio kvorum/no-op (2xx req/s)');
  console.log(table(
    [
      ['op', 'kvorum req/s', 'no-op req/s', 'ratio', 'target', 'verdict'],
      ...(['PUT', 'GET'] as const).map((op) => {
        const ratio = rate('kvorum', op) / rate('no-op', op);
        const want = op === 'PUT' ? targets.put : targets.get;
        return [op, fmt(rate('kvorum', op), 0), fmt(rate('no-op', op), 0), fmt(ratio, 3), `>= ${want.toFixed(2)}`, ratio >= want ? 'meets' : 'BELOW'];
      }),
    ],
    1,
  ));
  const nonOk = rows.filter((x) => x.r.non2xx > 0 || x.r.errors > 0);
  if (nonOk.length > 0) console.log(`\nnote: non-2xx responses or errors in: ${nonOk.map((x) => `${x.target} ${x.op}`).join(', ')}`);
  console.log(`\nkvorum read-back check: ${check}`);
  const warnings = started.logs().split('\n').filter(Boolean);
  if (warnings.length > 0) console.log(`kvorum logged (warn and above, last lines):\n  ${warnings.slice(-10).join('\n  ')}`);
}

try {
  await main();
} catch (err) {
  if (!interrupted) console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
