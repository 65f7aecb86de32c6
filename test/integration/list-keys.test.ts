// GET /kv (docs/api.md section 2, "GET /kv") end to end over HTTP against a real 3-node cluster.
// N=2, so each node is a primary of about two thirds of the partitions: a listing reads some
// partitions locally and asks a peer (internal RPC listKeys) for the others, and with a node
// stopped, r=one must fall back to the other primary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, type HttpResponse } from '../kit/http.js';
import { waitAllUp } from '../helpers/convergence.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';

let cluster: TestCluster | undefined;
const node = (i: number): TestNode => cluster!.nodes[i]!;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

const keyOf = (i: number): string =>
  i % 3 === 0 ? `a/${i}` : i % 5 === 0 ? `b/é-${i}` : i % 7 === 0 ? `😀/${i}` : i % 11 === 0 ? `sp ace/${i}` : `c/${i}`;
const written = Array.from({ length: 400 }, (_, i) => keyOf(i));
const deleted = written.filter((_, i) => i % 10 === 4);
const live = written.filter((k) => !deleted.includes(k));

/** Runs `work` on every item, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i]!, i);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface ListBody {
  keys: string[];
  cursor: string | null;
}

const listUrl = (n: TestNode, query: string) => `${n.url}/kv${query ? `?${query}` : ''}`;

function assertListBody(res: HttpResponse, limit: number): ListBody {
  assert.equal(res.status, 200, `expected 200, got ${res.status}: ${res.text().slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.json<ListBody>();
  assert.deepStrictEqual(Object.keys(body).sort(), ['cursor', 'keys']);
  assert.ok(Array.isArray(body.keys) && body.keys.every((k) => typeof k === 'string'));
  assert.ok(body.keys.length <= limit, `at most ${limit} keys, got ${body.keys.length}`);
  assert.ok(body.cursor === null || /^[A-Za-z0-9._-]+$/.test(body.cursor), 'a URL-safe cursor');
  return body;
}

/** Every page of a listing through `n`; `query` without limit or cursor. */
async function listAll(n: TestNode, limit: number, query = ''): Promise<string[][]> {
  const pages: string[][] = [];
  for (let cursor: string | null | undefined; cursor !== null; ) {
    assert.ok(pages.length < 1000, 'the listing ends');
    const q = [query, `limit=${limit}`, cursor === undefined ? '' : `cursor=${cursor}`].filter(Boolean).join('&');
    const body = assertListBody(await http('GET', listUrl(n, q)), limit);
    pages.push(body.keys);
    cursor = body.cursor;
  }
  return pages;
}

function assertEachOnce(listed: string[], expected: readonly string[], what: string): void {
  assert.equal(new Set(listed).size, listed.length, `${what}: a key listed twice`);
  assert.deepStrictEqual([...listed].sort(), [...expected].sort(), what);
}

async function assertError(res: HttpResponse, status: number, code: string, what: string): Promise<void> {
  assert.equal(res.status, status, `${what}: expected ${status} ${code}, got ${res.status}: ${res.text().slice(0, 300)}`);
  assert.equal(res.json<{ error: string }>().error, code, what);
  assert.ok(res.headers.get('x-kvorum-node'), `${what}: X-Kvorum-Node`);
}

describe('GET /kv: key listing (3 nodes, N=2)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, n: 2 });
    // Every write on both primaries (pw=all), never on a fallback as a hint: a listing reads
    // primaries only. So first let every node see every other up.
    await waitAllUp(cluster);
    await pool(written, 16, async (key, i) => {
      const res = await http('PUT', `${node(i % 3).url}/kv/${encodeURIComponent(key)}?w=all&pw=all`, { body: key });
      assert.equal(res.status, 204, `PUT ${key}: ${res.status} ${res.text()}`);
    });
    await pool(deleted, 16, async (key, i) => {
      const res = await http('DELETE', `${node(i % 3).url}/kv/${encodeURIComponent(key)}?w=all&pw=all`);
      assert.equal(res.status, 204, `DELETE ${key}: ${res.status}`);
    });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('lists every live key exactly once, in pages, in the same order through every node, deleted keys left out', async () => {
    const first = await listAll(node(0), 37);
    assertEachOnce(first.flat(), live, 'limit 37 through n1');
    assert.ok(first.length >= Math.ceil(live.length / 37));
    for (const n of cluster!.nodes) {
      assert.deepStrictEqual((await listAll(n, 37)).flat(), first.flat(), `the same order through ${n.id}`);
    }
    assert.deepStrictEqual((await listAll(node(1), 1000)).flat(), first.flat(), 'one page of 1000');
    assert.deepStrictEqual((await listAll(node(2), 100, 'r=all')).flat(), first.flat(), 'r=all: the union of replicas in sync');
    const res = await http('GET', listUrl(node(2), ''));
    assert.equal(assertListBody(res, 100).keys.length, 100, 'limit 100 by default');
    assert.equal(res.headers.get('x-kvorum-node'), node(2).id);
  });

  test('prefix: only the keys starting with it, percent-encoded UTF-8, + as a space', async () => {
    for (const [query, prefix] of [
      ['prefix=a%2F', 'a/'],
      ['prefix=a/', 'a/'],
      ['prefix=b%2F%C3%A9', 'b/é'],
      ['prefix=%F0%9F%98%80', '😀'],
      ['prefix=sp+ace', 'sp ace'],
      ['prefix=sp%20ace%2F', 'sp ace/'],
      ['prefix=c%2F1', 'c/1'],
      ['prefix=nothing', 'nothing'],
      ['prefix=', ''],
    ] as const) {
      const expected = live.filter((k) => k.startsWith(prefix));
      assertEachOnce((await listAll(node(0), 13, query)).flat(), expected, query);
    }
  });

  test('every bad input answers its catalogued error', async () => {
    const first = assertListBody(await http('GET', listUrl(node(0), 'prefix=a%2F&limit=1')), 1);
    assert.ok(first.cursor !== null);
    const cases: Array<[string, number, string]> = [
      ['limit=0', 400, 'invalid_limit'],
      ['limit=1001', 400, 'invalid_limit'],
      ['limit=abc', 400, 'invalid_limit'],
      ['limit=', 400, 'invalid_limit'],
      ['limit=-1', 400, 'invalid_limit'],
      ['limit=1.5', 400, 'invalid_limit'],
      ['limit=1&limit=2', 400, 'invalid_limit'],
      [`limit=${'9'.repeat(20)}`, 400, 'invalid_limit'],
      ['cursor=garbage', 400, 'invalid_cursor'],
      ['cursor=', 400, 'invalid_cursor'],
      [`cursor=${first.cursor}`, 400, 'invalid_cursor'], // issued for prefix a/, used without one
      [`prefix=b%2F&cursor=${first.cursor}`, 400, 'invalid_cursor'],
      [`prefix=a%2F&cursor=${first.cursor}x`, 400, 'invalid_cursor'],
      [`cursor=${'x'.repeat(9000)}`, 400, 'invalid_cursor'],
      [`prefix=${'p'.repeat(513)}`, 400, 'invalid_key'],
      [`prefix=${'%C3%A9'.repeat(257)}`, 400, 'invalid_key'],
      ['prefix=%FF', 400, 'invalid_key'],
      ['prefix=%E2%82', 400, 'invalid_key'],
      ['prefix=%2G', 400, 'invalid_key'],
      ['prefix=a&prefix=b', 400, 'invalid_key'],
      ['r=0', 400, 'invalid_quorum'],
      ['r=3', 400, 'invalid_quorum'],
      ['r=most', 400, 'invalid_quorum'],
      ['timeout=0', 400, 'invalid_timeout'],
      ['timeout=60001', 400, 'invalid_timeout'],
      ['timeout=soon', 400, 'invalid_timeout'],
    ];
    for (const [query, status, code] of cases) await assertError(await http('GET', listUrl(node(1), query)), status, code, query.slice(0, 60));
    const res = await http('GET', listUrl(node(0), `prefix=a%2F&cursor=${first.cursor}&limit=1000`));
    assertEachOnce([...first.keys, ...assertListBody(res, 1000).keys], live.filter((k) => k.startsWith('a/')), 'the cursor with its own prefix');
    // Prefixes of exactly 512 bytes are accepted.
    assert.deepStrictEqual(assertListBody(await http('GET', listUrl(node(1), `prefix=${'%C3%A9'.repeat(256)}`)), 100), { keys: [], cursor: null });
    await assertError(await http('GET', `${node(2).url}/kv/`), 400, 'invalid_key', 'GET /kv/ is still an empty key');
    await assertError(await http('PUT', `${node(2).url}/kv`, { body: 'x' }), 404, 'not_found', 'PUT /kv');
  });

  test('with a node stopped, r=one completes by falling back to the other primary; r=all is 503', async () => {
    const stopped = node(2);
    stopped.kill('SIGKILL');
    await stopped.waitExit(10_000);
    for (const n of [node(0), node(1)]) assertEachOnce((await listAll(n, 50)).flat(), live, `r=one through ${n.id}`);
    const res = await http('GET', listUrl(node(0), 'r=all&limit=1000'));
    await assertError(res, 503, 'quorum_unavailable', 'r=all');
    const body = res.json<{ required: number; acked: number; partition: number }>();
    assert.equal(body.required, 2);
    assert.equal(body.acked, 1);
    assert.equal(typeof body.partition, 'number');
  });
});
