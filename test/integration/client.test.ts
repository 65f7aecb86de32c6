// The TypeScript client (kvorum/client) against a real
// 3-node cluster (N=3): reads and writes, siblings and update(), deletes, typed errors, failover
// when the first node dies, aborts, TTL, conditional requests and ETags, listing, batches, the
// sibling cap, and the README's client script.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  KvorumClient, KvorumError, OutcomeUnknownError, PreconditionFailedError, QuorumUnavailableError, TooManySiblingsError, UnresolvedSiblingsError,
  type GetResult, type Sibling,
} from '../../src/client/index.js';
import { siblingsMax } from '../../src/core/limits.js';
import { http } from '../kit/http.js';
import { repoRoot } from '../kit/paths.js';
import { freePorts } from '../kit/ports.js';
import { runNode } from '../kit/run-node.js';
import { startCluster, withLogs, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';

const cluster = await startCluster({ nodes: 3, extraArgs: ['--log-level', 'warn'] });
const [n1, n2, n3] = cluster.nodes as [TestNode, TestNode, TestNode];
const urls = () => cluster.nodes.map((n) => n.url);
const client = (nodes = urls(), timeoutMs?: number) => new KvorumClient({ nodes, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

/** How long a test waits for a TTL to pass, and for the README's script to run. */
const expiryDeadlineMs = 15_000;
const exampleDeadlineMs = 30_000;

const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(cluster.logs, fn));

const text = (r: GetResult) => {
  assert.equal(r?.kind, 'value', `expected one value, got ${JSON.stringify(r)}`);
  return r.kind === 'value' ? r.value.toString('utf8') : '';
};
const values = (siblings: readonly Sibling[]) => siblings.map((s) => s.value.toString('utf8')).sort();
const joinSorted = (siblings: readonly Sibling[]) => values(siblings).join('+');
const killAndWait = async (node: TestNode) => {
  node.kill('SIGKILL');
  await node.waitExit(10_000);
};


describe('TypeScript client (3 nodes, N=3)', () => {
  after(() => cluster.stop());

  describe('reads and writes', () => {
    test('put then get: a string as UTF-8 text, bytes with their content type, the context to write again with', async () => {
      const kv = client();
      const { context } = await kv.put('basic-text', 'h\u00e9llo');
      assert.match(context, /^[A-Za-z0-9._~-]+$/);
      const got = await kv.get('basic-text', { r: 'all' });
      assert.equal(text(got), 'h\u00e9llo');
      assert.equal(got?.kind === 'value' && got.contentType, 'text/plain; charset=utf-8');
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await kv.put('basic-bytes', bytes, { contentType: 'application/x-test', w: 'all' });
      for (const reader of [[n2.url], [n3.url]]) {
        const read = await client(reader).get('basic-bytes', { r: 1 });
        assert.ok(read?.kind === 'value' && read.value.equals(bytes) && read.contentType === 'application/x-test');
      }
      const again = await kv.put('basic-text', 'second', { context: got?.kind === 'value' ? got.context : '' });
      assert.equal(text(await kv.get('basic-text', { r: 'all' })), 'second', 'a write with the context supersedes: no sibling');
      await kv.put('basic-text', Buffer.from('third'), { context: again.context, contentType: 'text/x-third' });
      const third = await kv.get('basic-text');
      assert.deepEqual(third?.kind === 'value' && [third.value.toString(), third.contentType], ['third', 'text/x-third']);
    });

    test('a key never written is null; keys are percent-encoded as one path segment', async () => {
      const kv = client();
      assert.equal(await kv.get('never-written'), null);
      for (const key of ['users/42', 'a+b', 'a b', 'caf\u00e9', '100%', '?#&=', '...']) {
        await kv.put(key, `value of ${key}`);
        assert.equal(text(await kv.get(key)), `value of ${key}`);
      }
      assert.equal((await http('GET', `${n2.url}/kv/users%2F42`)).text(), 'value of users/42');
      assert.equal((await http('GET', `${n2.url}/kv/a+b`)).text(), 'value of a+b');
    });

    test('delete with the context of a read: the key is null; update after it supersedes the tombstone', async () => {
      const kv = client();
      await kv.put('del-key', 'doomed');
      const read = await kv.get('del-key');
      const deleted = await kv.delete('del-key', { context: read?.kind === 'value' ? read.context : undefined, w: 'all' });
      assert.match(deleted.context, /^[A-Za-z0-9._~-]+$/);
      for (const n of cluster.nodes) assert.equal(await client([n.url]).get('del-key', { r: 1 }), null);
      const updated = await kv.update('del-key', (current) => {
        assert.equal(current, null);
        return 'back';
      });
      assert.equal(updated.value.toString(), 'back');
      assert.equal(text(await kv.get('del-key', { r: 'all' })), 'back');
    });
  });

  describe('siblings and update()', () => {
    test('two writes without context become siblings; update with resolve converges them to one value', async () => {
      await client([n1.url]).put('sib-colour', 'red');
      await client([n2.url]).put('sib-colour', 'blue', { contentType: 'text/x-blue' });
      const got = await client().get('sib-colour', { r: 'all' });
      assert.ok(got?.kind === 'siblings');
      assert.deepEqual(values(got.siblings), ['blue', 'red']);
      assert.deepEqual(got.siblings.map((s) => s.contentType).sort(), ['text/plain; charset=utf-8', 'text/x-blue']);
      const kv = client();
      let changes = 0;
      await assert.rejects(kv.update('sib-colour', (c) => c ?? 'x'), (e: unknown) => e instanceof UnresolvedSiblingsError && e.code === 'unresolved_siblings' && e.siblings.length === 2);
      assert.equal((await kv.get('sib-colour', { r: 'all' }))?.kind, 'siblings', 'without resolve nothing was written');
      const result = await kv.update(
        'sib-colour',
        (current) => {
          changes++;
          return { value: `${current!.value.toString()}!`, contentType: 'text/plain' };
        },
        { resolve: joinSorted },
      );
      assert.deepEqual([result.value.toString(), result.contentType, changes], ['blue+red!', 'text/plain', 1]);
      for (const n of cluster.nodes) assert.equal(text(await client([n.url]).get('sib-colour', { r: 'all' })), 'blue+red!');
    });

    test('update creates a missing key and changes it; a concurrent write becomes a sibling, never a lost update', async () => {
      const kv = client();
      const count = (c: { value: Buffer } | null) => Number(c?.value.toString() ?? '0') + 1;
      assert.equal((await kv.update('upd-counter', (c) => String(count(c)))).value.toString(), '1');
      assert.equal((await kv.update('upd-counter', (c) => String(count(c)))).value.toString(), '2');
      // Another client reads the same version and writes in between our read and our write.
      const other = client([n2.url]);
      await kv.update('upd-counter', async (c) => {
        const seen = await other.get('upd-counter');
        await other.put('upd-counter', 'other', { context: seen?.kind === 'value' ? seen.context : undefined });
        return String(count(c));
      });
      const both = await kv.get('upd-counter', { r: 'all' });
      assert.ok(both?.kind === 'siblings', 'both writes survive');
      assert.deepEqual(values(both.siblings), ['3', 'other']);
      await kv.update('upd-counter', (c) => c!, { resolve: (s) => values(s).find((v) => v !== 'other')! });
      assert.equal(text(await kv.get('upd-counter', { r: 'all' })), '3');
    });
  });

  describe('errors', () => {
    test('an over-long key and a bad quorum are typed KvorumErrors with the catalog code', async () => {
      const kv = client();
      const invalidKey = (e: unknown) => e instanceof KvorumError && e.status === 400 && e.code === 'invalid_key' && e.message.length > 0;
      await assert.rejects(kv.get('k'.repeat(513)), invalidKey);
      await assert.rejects(kv.put('k'.repeat(513), 'v'), invalidKey);
      await assert.rejects(kv.delete('k'.repeat(513)), invalidKey);
      await assert.rejects(kv.put('err-quorum', 'v', { w: 5 }), (e: unknown) => e instanceof KvorumError && e.code === 'invalid_quorum');
      assert.equal(kv.nodeUrl, n1.url, 'an error answer is no failover');
    });

    test('w=all with a node stopped: QuorumUnavailableError; update retries it a bounded number of times and honours its signal', async () => {
      await killAndWait(n3);
      try {
        const kv = client();
        await assert.rejects(kv.put('err-all', 'v', { w: 'all', timeout: 1000 }), (e: unknown) => {
          assert.ok(e instanceof QuorumUnavailableError, String(e));
          assert.deepEqual([e.status, e.code, e.required], [503, 'quorum_unavailable', 3]);
          assert.ok(e.acked === 1 || e.acked === 2, `acked ${e.acked}: the coordinator's own copy, and n2's if it came before n3's refusal`);
          return true;
        });
        let attempts = 0;
        await assert.rejects(kv.update('err-all', () => String(++attempts), { w: 'all', timeout: 1000, retries: 2 }), QuorumUnavailableError);
        assert.equal(attempts, 3, 'the first attempt and 2 retries');
        await assert.rejects(kv.update('err-all', () => 'x', { w: 'all', retries: 1000, signal: AbortSignal.timeout(500) }), { name: 'TimeoutError' });
        await kv.put('err-quorum-ok', 'v'); // the default quorum (2 of 3) still writes
      } finally {
        await n3.restart();
      }
    });
  });

  describe('failover and aborts', () => {
    test('an abort ends a request to a paused node at once, with no failover; a read past timeoutMs fails over, a write does not', async () => {
      await client().put('abort-key', 'v', { w: 'all' });
      n2.kill('SIGSTOP');
      try {
        const kv = client([n2.url, n1.url]);
        await assert.rejects(kv.get('abort-key', { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
        assert.equal(kv.nodeUrl, n2.url, 'an abort is not a node failure');
        const quick = client([n2.url, n1.url], 500);
        await assert.rejects(quick.put('abort-write', 'v'), (e: unknown) => e instanceof OutcomeUnknownError && e.code === 'timeout');
        assert.equal(text(await quick.get('abort-key')), 'v', 'the read fails over to n1');
        assert.equal(quick.nodeUrl, n1.url);
      } finally {
        n2.kill('SIGCONT');
      }
    });

    test('the first node killed mid-sequence: the next operations go to the next node', async () => {
      const kv = client();
      await kv.put('fo-key', 'one');
      assert.equal(text(await kv.get('fo-key')), 'one');
      await killAndWait(n1);
      try {
        const read = await kv.get('fo-key');
        assert.equal(text(read), 'one');
        await kv.put('fo-key', 'two', { context: read?.kind === 'value' ? read.context : undefined });
        assert.equal(kv.nodeUrl, n2.url);
        assert.equal(text(await kv.get('fo-key')), 'two');
        const [unused] = await freePorts(1);
        assert.equal(text(await client([`http://127.0.0.1:${unused}`, n3.url]).get('fo-key')), 'two', 'a node never up is skipped too');
      } finally {
        await n1.restart();
      }
    });
  });

  describe('TTL', () => {
    test('a value written with ttl carries expiresAt and reads as null once it passes', async () => {
      const kv = client();
      const before = Date.now();
      await kv.put('ttl-key', 'brief', { ttl: 1, w: 'all' });
      const got = await kv.get('ttl-key');
      assert.ok(got?.kind === 'value' && got.expiresAt !== undefined, 'expiresAt is set');
      assert.ok(got.expiresAt >= before + 1000 && got.expiresAt <= Date.now() + 1000 + 5000, `expiresAt ${got.expiresAt} about a second from now`);
      await waitFor(async () => (await kv.get('ttl-key', { r: 'all' })) === null, { timeoutMs: expiryDeadlineMs, what: 'ttl-key to expire' });
      await assert.rejects(kv.put('ttl-bad', 'v', { ttl: 0 }), (e: unknown) => e instanceof KvorumError && e.code === 'invalid_ttl');
    });

    test('siblings carry their own expiresAt; update with ttl writes a value with a TTL', async () => {
      const kv = client();
      await kv.put('ttl-sib', 'lasting');
      await kv.put('ttl-sib', 'fading', { ttl: 3600 });
      const got = await kv.get('ttl-sib');
      assert.ok(got?.kind === 'siblings');
      const bySibling = Object.fromEntries(got.siblings.map((s) => [s.value.toString(), s.expiresAt]));
      assert.equal(bySibling['lasting'], undefined);
      assert.ok(typeof bySibling['fading'] === 'number' && bySibling['fading'] > Date.now());
      await kv.update('ttl-sib', () => 'merged', { resolve: joinSorted, ttl: 1 });
      await waitFor(async () => (await kv.get('ttl-sib', { r: 'all' })) === null, { timeoutMs: expiryDeadlineMs, what: 'ttl-sib to expire' });
    });
  });

  describe('conditional requests and ETags', () => {
    test('ifNoneMatch "*" creates only a missing key; ifMatch writes and deletes only the version read', async () => {
      const kv = client();
      await kv.put('cond-key', 'first', { ifNoneMatch: '*' });
      await assert.rejects(kv.put('cond-key', 'again', { ifNoneMatch: '*' }), (e: unknown) => e instanceof PreconditionFailedError && e.status === 412 && e.code === 'precondition_failed');
      const read = await kv.get('cond-key');
      const context = read?.kind === 'value' ? read.context : '';
      await kv.put('cond-key', 'second', { ifMatch: context });
      await assert.rejects(kv.put('cond-key', 'stale', { ifMatch: context }), PreconditionFailedError);
      await assert.rejects(kv.delete('cond-key', { ifMatch: context }), PreconditionFailedError);
      assert.equal(text(await kv.get('cond-key', { r: 'all' })), 'second', 'the refused writes changed nothing');
      const current = await kv.get('cond-key');
      await kv.delete('cond-key', { ifMatch: current?.kind === 'value' ? current.context : '' });
      assert.equal(await kv.get('cond-key'), null);
      await kv.put('cond-key', 'recreated', { ifNoneMatch: '*' });
      await assert.rejects(kv.put('cond-key', 'x', { ifMatch: context, context }), (e: unknown) => e instanceof KvorumError && e.code === 'invalid_precondition');
    });

    test('update({conditional: true}) retries a write that lost the race instead of making a sibling', async () => {
      const kv = client();
      await kv.put('cond-upd', '1');
      let calls = 0;
      const result = await kv.update(
        'cond-upd',
        async (c) => {
          if (++calls === 1) {
            const seen = await kv.get('cond-upd');
            await kv.put('cond-upd', 'interloper', { context: seen?.kind === 'value' ? seen.context : undefined });
          }
          return `${c!.value.toString()}+mine`;
        },
        { conditional: true },
      );
      assert.equal(calls, 2, 'the first attempt got 412 and was retried on a fresh read');
      assert.equal(result.value.toString(), 'interloper+mine');
      assert.equal(text(await kv.get('cond-upd', { r: 'all' })), 'interloper+mine', 'no sibling');
    });

    test('get returns an ETag; ifNoneMatch with it is notModified until the key changes', async () => {
      const kv = client();
      await kv.put('etag-key', 'v1');
      const first = await kv.get('etag-key');
      assert.ok(first?.kind === 'value' && first.etag !== undefined);
      assert.match(first.etag, /^"[0-9a-f]{16}"$/);
      const same = await kv.get('etag-key', { ifNoneMatch: first.etag });
      assert.deepEqual(same, { kind: 'notModified', etag: first.etag, context: first.context });
      assert.equal((await kv.get('etag-key', { ifNoneMatch: ['"0000000000000000"', first.etag] }))?.kind, 'notModified');
      await kv.put('etag-key', 'v2', { context: first.context });
      const changed = await kv.get('etag-key', { ifNoneMatch: first.etag });
      assert.ok(changed?.kind === 'value' && changed.etag !== first.etag);
      assert.equal(changed.value.toString(), 'v2');
      await kv.put('etag-key', 'v3');
      const siblings = await kv.get('etag-key');
      assert.ok(siblings?.kind === 'siblings' && /^"[0-9a-f]{16}"$/.test(siblings.etag ?? ''));
    });
  });

  describe('listing', () => {
    test('list pages through a prefix, following the cursor to null; keys() yields every live key once', async () => {
      const kv = client();
      const keys = Array.from({ length: 25 }, (_, i) => `ls-${String(i).padStart(2, '0')} \u00e9`);
      for (const key of keys) await kv.put(key, 'v', { w: 'all' });
      await kv.put('lt-other', 'v', { w: 'all' });
      await kv.put('ls-deleted', 'v', { w: 'all' });
      await kv.delete('ls-deleted', { w: 'all' });
      const pages = [];
      for await (const page of kv.list({ prefix: 'ls-', limit: 7 })) pages.push(page);
      assert.ok(pages.every((p) => p.keys.length <= 7));
      assert.equal(pages.at(-1)!.cursor, null);
      assert.ok(pages.slice(0, -1).every((p) => typeof p.cursor === 'string'));
      assert.deepEqual(pages.flatMap((p) => p.keys).sort(), keys);
      const listed = [];
      for await (const key of kv.keys({ prefix: 'ls-', r: 'all' })) listed.push(key);
      assert.deepEqual(listed.sort(), keys);
      await assert.rejects(kv.list({ limit: 1001 }).next(), (e: unknown) => e instanceof KvorumError && e.code === 'invalid_limit');
      await assert.rejects(kv.list({ prefix: 'ls-', cursor: 'garbage!' }).next(), (e: unknown) => e instanceof KvorumError && e.code === 'invalid_cursor');
    });
  });

  describe('batches', () => {
    test('batch runs gets, puts and deletes and types each result', async () => {
      const kv = client();
      await kv.put('batch-old', 'old');
      const results = await kv.batch([
        { op: 'put', key: 'batch-a', value: 'A', contentType: 'text/x-a', w: 'all' },
        { op: 'get', key: 'batch-old', r: 'all' },
        { op: 'get', key: 'batch-missing' },
        { op: 'delete', key: 'batch-old', w: 'all' },
        { op: 'get', key: 'batch-a' },
      ]);
      assert.ok(results[0].ok && results[0].status === 204 && /^[A-Za-z0-9._~-]+$/.test(results[0].result.context));
      assert.ok(results[1].ok && results[1].status === 200 && text(results[1].result) === 'old');
      assert.deepEqual(results[2].ok && [results[2].status, results[2].result], [404, null]);
      assert.ok(results[3].ok && results[3].status === 204);
      assert.ok(results[4].ok, 'ops on the same key run in order');
      assert.ok(results[4].result?.kind === 'value' && results[4].result.contentType === 'text/x-a');
      assert.equal(await kv.get('batch-old'), null);
      assert.equal(text(await kv.get('batch-a')), 'A');
    });

    test('a batch with a malformed op is refused whole (invalid_batch) and runs nothing; a failing op is its own error', async () => {
      const kv = client();
      await assert.rejects(
        kv.batch([{ op: 'put', key: 'batch-never', value: 'v' }, { op: 'put', key: 'k'.repeat(513), value: 'v' }]),
        (e: unknown) => e instanceof KvorumError && e.status === 400 && e.code === 'invalid_batch',
      );
      assert.equal(await kv.get('batch-never'), null);
      await kv.put('batch-exists', 'v');
      const [failed, next] = await kv.batch([
        { op: 'put', key: 'batch-exists', value: 'not written', ifNoneMatch: '*' },
        { op: 'put', key: 'batch-next', value: 'written' },
      ]);
      assert.ok(!failed.ok && failed.error instanceof PreconditionFailedError && failed.status === 412, JSON.stringify(failed));
      assert.ok(next.ok && next.status === 204, 'the other ops still run');
      assert.equal(text(await kv.get('batch-exists')), 'v');
      assert.equal(text(await kv.get('batch-next')), 'written');
    });
  });

  describe('sibling cap', () => {
    test('a write past the cap is TooManySiblingsError; update with resolve brings the key back', async () => {
      const kv = client();
      let refused: unknown;
      for (let i = 0; i <= siblingsMax && refused === undefined; i++) await kv.put('cap-key', String(i)).catch((e: unknown) => (refused = e));
      assert.ok(refused instanceof TooManySiblingsError && refused.status === 409 && refused.code === 'too_many_siblings', String(refused));
      await kv.update('cap-key', (c) => c!, { resolve: (s) => String(s.length) });
      assert.equal(text(await kv.get('cap-key', { r: 'all' })), String(siblingsMax));
    });
  });

  describe('README', () => {
    const examplePath = join(repoRoot, 'examples', 'client-walkthrough.mjs');
    const code = readFileSync(examplePath, 'utf8').replace(/^(\/\/.*\n)+/, '');

    test("the README shows examples/client-walkthrough.mjs's code", async () => {
      assert.ok(readFileSync(join(repoRoot, 'README.md'), 'utf8').includes(code), 'README.md must contain the code of examples/client-walkthrough.mjs (below its comment) verbatim');
    });

    test('examples/client-walkthrough.mjs runs against the cluster', async () => {
      const run = await runNode([examplePath], { deadlineMs: exampleDeadlineMs, env: { ...process.env, KVORUM_NODES: urls().join(',') } });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString(), 'hello\nblue+red\ncolour\nsession expired\n');
    });
  });
});
