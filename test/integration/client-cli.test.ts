// The data CLI (kvorum get|put|del|ls, built on the TypeScript client) against a real 3-node
// cluster (N=3): put, get, del, siblings, listing, ttl, and the exit codes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KvorumClient } from '../../src/client/index.js';
import { cliPath } from '../kit/paths.js';
import { freePorts } from '../kit/ports.js';
import { runNode, type NodeRun } from '../kit/run-node.js';
import { startCluster, withLogs, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';

const cluster = await startCluster({ nodes: 3, extraArgs: ['--log-level', 'warn'] });
const [n1, n2, n3] = cluster.nodes as [TestNode, TestNode, TestNode];
const client = (nodes = cluster.nodes.map((n) => n.url)) => new KvorumClient({ nodes });
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(cluster.logs, fn));

/** How long a test waits for a TTL to pass, and for one CLI run. */
const expiryDeadlineMs = 15_000;
const cliDeadlineMs = 30_000;

/** `kvorum ARGS` (the built CLI), fed `stdin`. */
const cli = (args: readonly string[], stdin?: Buffer | string): Promise<NodeRun> => runNode([cliPath, ...args], { deadlineMs: cliDeadlineMs, stdin });
const contextOf = (stderr: string) => /^context: (\S+)$/m.exec(stderr)?.[1];

describe('data CLI (3 nodes, N=3)', () => {
  after(() => cluster.stop());

    test('put, get, del and their exit codes (0 ok, 1 not found, 2 usage, 3 error answer)', async () => {
      const url = ['--url', n1.url];
      const put = await cli(['put', 'cli key/1', 'h\u00e9llo', ...url]);
      assert.equal(put.code, 0, put.stderr);
      assert.ok(contextOf(put.stderr));
      const got = await cli(['get', 'cli key/1', ...url]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout.toString('utf8'), 'h\u00e9llo');
      assert.match(got.stderr, /^content-type: text\/plain; charset=utf-8$/m);
      const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
      assert.equal((await cli(['put', 'cli-bin', '--content-type', 'application/x-bin', '--url', `http://127.0.0.1:${(await freePorts(1))[0]},${n2.url}`], bytes)).code, 0);
      const bin = await cli(['get', 'cli-bin', '--url', n3.url, '--json']);
      const json = JSON.parse(bin.stdout.toString()) as Record<string, unknown>;
      assert.deepEqual([json['kind'], json['value'], json['contentType'], typeof json['context']], ['value', bytes.toString('base64'), 'application/x-bin', 'string']);
      const del = await cli(['del', 'cli key/1', '--context', contextOf(got.stderr)!, ...url]);
      assert.equal(del.code, 0, del.stderr);
      const gone = await cli(['get', 'cli key/1', ...url]);
      assert.deepEqual([gone.code, gone.stdout.length], [1, 0]);
      assert.match(gone.stderr, /not found/);
      for (const args of [['get'], ['get', 'a', 'b'], ['put'], ['get', 'k', '--bogus'], ['put', 'k', 'v', '--ttl', 'soon'], ['ls', 'extra']]) {
        const run = await cli([...args, ...url]);
        assert.equal(run.code, 2, `kvorum ${args.join(' ')}: ${run.stderr}`);
      }
      const tooLong = await cli(['get', 'k'.repeat(513), ...url]);
      assert.equal(tooLong.code, 3);
      assert.match(tooLong.stderr, /invalid_key/);
      const unreachable = await cli(['get', 'k', '--url', `http://127.0.0.1:${(await freePorts(1))[0]}`]);
      assert.equal(unreachable.code, 3);
      assert.match(unreachable.stderr, /unreachable/);
    });

    test('get prints siblings numbered, with their content type, as text or base64', async () => {
      await client([n1.url]).put('cli-sib', 'plain text');
      await client([n2.url]).put('cli-sib', Buffer.from([0, 159, 146, 150]));
      const run = await cli(['get', 'cli-sib', '--url', `${n1.url},${n2.url}`]);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.toString().trim().split('\n');
      assert.match(lines[0]!, /^2 siblings/);
      assert.deepEqual(lines.slice(1).map((l) => l.slice(0, 4)), ['[1] ', '[2] ']);
      assert.deepEqual(lines.slice(1).map((l) => l.slice(4)).sort(), [
        `application/octet-stream (base64): ${Buffer.from([0, 159, 146, 150]).toString('base64')}`,
        'text/plain; charset=utf-8: plain text',
      ]);
      assert.ok(contextOf(run.stderr));
    });

    test('ls lists the keys of a prefix; --limit caps them', async () => {
      const kv = client();
      const keys = Array.from({ length: 12 }, (_, i) => `cli-ls/${String(i).padStart(2, '0')}`);
      for (const key of keys) await kv.put(key, 'v', { w: 'all' });
      await kv.put('cli-lt-other', 'v', { w: 'all' });
      const all = await cli(['ls', '--prefix', 'cli-ls/', '--url', n2.url]);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(all.stdout.toString().trim().split('\n').sort(), keys);
      const some = await cli(['ls', '--prefix', 'cli-ls/', '--limit', '5', '--url', n2.url]);
      assert.equal(some.stdout.toString().trim().split('\n').length, 5);
    });

    test('put --ttl: get shows the expiry, then the key is gone (exit 1)', async () => {
      assert.equal((await cli(['put', 'cli-ttl', 'brief', '--ttl', '1', '--url', n1.url])).code, 0);
      await waitFor(async () => (await cli(['get', 'cli-ttl', '--url', n1.url])).code === 1, { timeoutMs: expiryDeadlineMs, what: 'cli-ttl to expire' });
    });
});
