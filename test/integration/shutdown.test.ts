// Graceful shutdown (docs/api.md section 1): SIGTERM under load exits 0 and loses no acknowledged write;
// `kvorum cluster` runs K nodes and stops them all on SIGINT.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Proc, forgetTempDir, registerTempDir } from '../kit/proc.js';
import { cliPath } from '../kit/paths.js';
import { freeConsecutivePorts, portRefuses } from '../kit/ports.js';
import { http, waitHealthy } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { waitAllUp } from '../helpers/convergence.js';
import { RawConnection } from '../kit/raw-http.js';
import { errorCatalog } from '../../src/core/errors.js';
import { shutdownGraceMs } from '../../src/core/limits.js';

/** Every error code a user may see (docs/api.md's table plus the documented extras such as shutting_down). */
const catalogCodes = Object.keys(errorCatalog);

describe('graceful shutdown of one node under concurrent writes', () => {
  let cluster: TestCluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it('SIGTERM mid-stream: exit code 0, and every PUT it acknowledged is there after a restart', () =>
    withLogs(
      () => cluster?.logs() ?? '',
      async () => {
        cluster = await startCluster({ nodes: 3 });
        const target = cluster.nodes[0]!;
        const writers = 16;
        const acked = new Map<string, string>(); // key -> value, for every 204 from the target
        const failures: string[] = [];
        const wrongNode: string[] = [];
        let stop = false;
        const writerDeadline = Date.now() + 25_000; // bound the stream even if the node never stops

        const writer = async (w: number) => {
          for (let i = 0; !stop && Date.now() < writerDeadline; i++) {
            const key = `sd-${w}-${i}`;
            const value = `value ${w}/${i} ${'x'.repeat(i % 97)}`;
            let status: number;
            try {
              const res = await http('PUT', `${target.url}/kv/${key}?w=1`, { body: value, timeoutMs: 5000 });
              status = res.status;
              if (status === 204) {
                // N=3: the target is a primary of every key, so it coordinates (and stores) each write.
                if (res.headers.get('x-kvorum-node') !== target.id) wrongNode.push(key);
                acked.set(key, value);
                continue;
              }
              failures.push(`${key}: HTTP ${status} ${res.text().slice(0, 100)}`);
            } catch (err) {
              failures.push(`${key}: ${(err as Error).message}`);
            }
            return; // the node is going away: this writer is done
          }
        };
        const stream = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));

        try {
          await waitFor(() => acked.size >= 200, { timeoutMs: 15_000, what: '200 acknowledged writes before the SIGTERM' });
          const ackedBeforeSignal = acked.size;
          target.kill('SIGTERM');
          const exit = await target.waitExit(15_000);
          assert.deepEqual(exit, { code: 0, signal: null }, 'a SIGTERMed node exits 0');
          stop = true;
          await stream;
          assert.ok(acked.size >= ackedBeforeSignal);
          assert.ok(failures.length > 0, 'writers saw the node go away');
          assert.deepEqual(wrongNode, [], 'writes acknowledged by another coordinator');
        } finally {
          stop = true;
          await stream;
        }

        await target.restart();
        // r=all needs n1 answering n2: wait until n2's probes reach the new process (its pooled
        // connections to the old one are gone by then), as a client retrying a 503 would.
        await waitAllUp(cluster!);
        const keys = [...acked.keys()];
        const check = async (key: string) => {
          const viaTarget = await http('GET', `${target.url}/kv/${key}?r=1`);
          assert.equal(viaTarget.status, 200, `acknowledged ${key} via the restarted node (r=1): ${viaTarget.status}`);
          assert.equal(viaTarget.body.toString('utf8'), acked.get(key));
          const viaAll = await http('GET', `${cluster!.nodes[1]!.url}/kv/${key}?r=all`);
          assert.equal(viaAll.status, 200, `acknowledged ${key} with r=all: ${viaAll.status}`);
          assert.equal(viaAll.body.toString('utf8'), acked.get(key));
        };
        for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map(check));
      },
    ),
  );

  it('a keep-alive connection busy at SIGTERM: its request is finished, and the next one on it is closed or answered per the contract', () =>
    withLogs(
      () => cluster?.logs() ?? '',
      async () => {
        // A request that arrives on a keep-alive connection which was busy when the node began
        // stopping must not get a response outside the contract (fastify's own
        // `503 {"error":"Service Unavailable"}` without X-Kvorum-Node was one).
        assert.ok(cluster, 'the cluster from the previous test');
        const n = cluster.nodes[1]!;
        const conn = await RawConnection.open(n.port);
        let exitWait: Promise<unknown> | undefined;
        try {
          conn.write(
            'PUT /kv/keepalive-key?w=all HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n' +
              'Content-Length: 10\r\nExpect: 100-continue\r\nConnection: keep-alive\r\n\r\n',
          );
          const proceed = await conn.readResponse(5000);
          assert.ok(proceed !== 'closed' && proceed.status === 100, 'the node took the request (100 Continue)');
          conn.write('12345');
          n.kill('SIGTERM');
          exitWait = n.waitExit(15_000);
          await waitFor(() => portRefuses(n.port), { timeoutMs: 5000, what: `${n.id} to stop accepting connections after SIGTERM` });

          conn.write('67890');
          const first = await conn.readResponse(5000);
          assert.notEqual(first, 'closed', 'the request in flight at SIGTERM is answered');
          if (first === 'closed') return;
          assert.equal(first.status, 204, `in-flight PUT: ${first.status} ${first.body.toString('utf8')}`);
          assert.equal(first.headers['x-kvorum-node'], n.id);

          conn.write('GET /kv/keepalive-key?r=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          const second = await conn.readResponse(5000);
          if (second !== 'closed') {
            const detail = `${second.status} ${JSON.stringify(second.headers)} ${second.body.toString('utf8')}`;
            assert.ok(second.headers['x-kvorum-node'], `a response during shutdown carries X-Kvorum-Node: ${detail}`);
            if (second.status >= 400) {
              assert.ok(catalogCodes.includes(JSON.parse(second.body.toString('utf8')).error), `a catalog error code: ${detail}`);
            }
          }
        } finally {
          conn.destroy();
          const exit = await (exitWait ?? n.waitExit(15_000));
          assert.deepEqual(exit, { code: 0, signal: null });
        }
        await n.restart();
        const res = await http('GET', `${n.url}/kv/keepalive-key?r=all`);
        assert.equal(res.status, 200);
        assert.equal(res.body.toString('utf8'), '1234567890');
      },
    ),
  );

  it('a keep-alive connection left idle after its in-flight request does not hold the stopping node for the grace period', () =>
    withLogs(
      () => cluster?.logs() ?? '',
      async () => {
        // Regression: the response to a request in flight at SIGTERM must say `Connection: close`,
        // or the idle connection would hold app.close() for the whole shutdown grace period.
        assert.ok(cluster, 'the cluster from the previous tests');
        const n = cluster.nodes[2]!;
        const conn = await RawConnection.open(n.port);
        let exitWait: Promise<unknown> | undefined;
        const signalled = Date.now();
        try {
          conn.write('PUT /kv/idle-after-stop?w=all HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
          const proceed = await conn.readResponse(5000);
          assert.ok(proceed !== 'closed' && proceed.status === 100, 'the node took the request (100 Continue)');
          conn.write('ab');
          n.kill('SIGTERM');
          exitWait = n.waitExit(15_000);
          await waitFor(() => portRefuses(n.port), { timeoutMs: 5000, what: `${n.id} to stop accepting connections after SIGTERM` });
          conn.write('cd');
          const res = await conn.readResponse(5000);
          assert.ok(res !== 'closed' && res.status === 204, 'the in-flight PUT is finished');
          // The client now sends nothing more but keeps its end open, as an idle keep-alive pool would.
          await waitFor(() => conn.isClosed, {
            timeoutMs: 3000,
            what: `${n.id} (stopping) to close the idle keep-alive connection (response said Connection: ${res.headers['connection']})`,
          });
          const exit = await exitWait;
          assert.deepEqual(exit, { code: 0, signal: null });
          const elapsed = Date.now() - signalled;
          assert.ok(elapsed < shutdownGraceMs / 2, `exited ${elapsed} ms after SIGTERM with nothing in flight`);
        } finally {
          conn.destroy();
          if (exitWait) await exitWait.catch(() => undefined);
        }
      },
    ),
  );
});

/** Pids of a process's direct children (Linux /proc; empty elsewhere). */
async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a `kvorum cluster` supervisor we started and every node it spawned: SIGINT (it stops its
 * nodes), then SIGKILL for whatever is left, by pid (the supervisor and the children we saw it start).
 */
async function stopSupervisor(p: Proc, known: readonly number[]): Promise<void> {
  const children = new Set(known);
  if (p.running && p.pid !== undefined) for (const pid of await childPids(p.pid)) children.add(pid);
  if (p.running) {
    p.kill('SIGINT');
    await p.waitExit(12_000).catch(() => undefined);
  }
  if (p.running) {
    p.kill('SIGKILL');
    await p.waitExit(5000).catch(() => undefined);
  }
  for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
}

describe('kvorum cluster', () => {
  let proc: Proc | undefined;
  let dataDir: string | undefined;
  let children: number[] = [];
  after(async () => {
    if (proc) await stopSupervisor(proc, children);
    if (dataDir) {
      await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      forgetTempDir(dataDir);
    }
  });

  it('`cluster --nodes 3` becomes healthy, serves a write, and exits 0 on SIGINT with every node gone', () =>
    withLogs(
      () => proc?.logs() ?? '',
      async () => {
        dataDir = await mkdtemp(join(tmpdir(), 'kvorum-cluster-'));
        registerTempDir(dataDir);
        let base = 0;
        let urls: string[] = [];
        for (let attempt = 1; ; attempt++) {
          base = await freeConsecutivePorts(3);
          urls = [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`);
          const p = new Proc('cluster', [cliPath, 'cluster', '--nodes', '3', '--base-port', String(base), '--data-dir', dataDir]);
          proc = p;
          try {
            await Promise.all(urls.map((u) => waitHealthy(u, 20_000, () => p.running)));
            break;
          } catch (err) {
            // A port taken between our check and the spawn: try another base (a few times).
            await stopSupervisor(p, []);
            if (attempt >= 3 || !/EADDRINUSE/.test(p.logs())) throw err;
          }
        }
        const supervisor = proc!;
        children = await childPids(supervisor.pid!);
        await waitFor(() => urls.every((u) => supervisor.logs().includes(u)), { timeoutMs: 5000, what: 'the cluster to print every node URL' });

        const put = await http('PUT', `${urls[0]}/kv/cluster-key?w=all`, { body: 'hello', headers: { 'content-type': 'text/plain' } });
        assert.equal(put.status, 204);
        const got = await http('GET', `${urls[2]}/kv/cluster-key?r=all`);
        assert.equal(got.status, 200);
        assert.equal(got.body.toString('utf8'), 'hello');
        // Given no secret, the cluster made its own, in a file only its owner reads: internal RPC is closed.
        const secret = (await readFile(join(dataDir, 'cluster.secret'), 'utf8')).trim();
        assert.equal((await stat(join(dataDir, 'cluster.secret'))).mode & 0o777, 0o600);
        assert.equal((await http('POST', `${urls[0]}/internal/rpc`, { body: Buffer.alloc(1), headers: { 'content-type': 'application/msgpack' } })).status, 401);
        for (const pid of children) assert.ok(!(await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(secret), 'no secret on a node command line');
        const view = (await http('GET', `${urls[1]}/cluster`)).json();
        assert.deepEqual(view.members.map((m: { id: string; url: string }) => [m.id, m.url]), [['n1', urls[0]], ['n2', urls[1]], ['n3', urls[2]]]);

        supervisor.kill('SIGINT');
        const exit = await supervisor.waitExit(15_000);
        assert.deepEqual(exit, { code: 0, signal: null }, '`kvorum cluster` exits 0 on SIGINT');
        for (let i = 0; i < 3; i++) assert.ok(await portRefuses(base + i), `port ${base + i} still accepts connections`);
        if (children.length > 0) {
          assert.equal(children.length, 3, 'the supervisor ran 3 node processes');
          for (const pid of children) assert.ok(!alive(pid), `node process ${pid} still running`);
        }
      },
    ),
  );
});
