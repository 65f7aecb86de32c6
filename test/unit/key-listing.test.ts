// Key listing (GET /kv) against fake time and a fake network: pages, order, cursors, the coverage
// query's fallback and its r>1 union, and the bounds of one page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { update } from '../../src/core/dvv.js';
import { KvError } from '../../src/core/errors.js';
import { decodeListCursor, encodeListCursor } from '../../src/core/key-cursor.js';
import { mergePages, pageProblem, type ListRequest, type ListResult } from '../../src/core/key-listing.js';
import { compareUtf8 } from '../../src/core/key-order.js';
import { listPageRoundsMax } from '../../src/core/limits.js';
import { createRing, partitionOf } from '../../src/core/ring.js';
import type { ClientOp, QuorumSpec } from '../../src/core/rpc.js';
import { actorIdOf, asNodeId, type NodeId } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

type Cluster = ReturnType<typeof fakeCluster>;
const text = (s: string) => new TextEncoder().encode(s);
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const put = (key: string, w: QuorumSpec = 'all'): ClientOp => ({ op: 'put', key, data: text(key), contentType: 'text/plain', w, pw: 0, timeoutMs: 2000 });
const del = (key: string): ClientOp => ({ op: 'delete', key, w: 'all', pw: 0, timeoutMs: 2000 });

async function write(c: Cluster, ops: ClientOp[]): Promise<void> {
  for (const op of ops) {
    const result = await c.node(c.ids[0]!).coordinator.execute(op);
    assert.ok(result.ok, `${op.op} ${op.key}: ${JSON.stringify(result)}`);
  }
}

/** The order a listing promises: by partition, then by UTF-8 bytes. */
function listingOrder(c: Cluster, keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => partitionOf(c.ring, a) - partitionOf(c.ring, b) || byUtf8(a, b));
}

type Page = Extract<ListResult, { ok: true }>;

/** Every page of a listing from `node`, following cursors; each page is checked against `limit`. */
async function listAll(c: Cluster, node: NodeId, opts: Partial<ListRequest> = {}): Promise<Page[]> {
  const pages: Page[] = [];
  const limit = opts.limit ?? 100;
  for (let cursor: string | undefined; ; ) {
    assert.ok(pages.length < 10_000, 'the listing ends');
    const page = await c.node(node).core.listing.page({ prefix: '', limit, r: 'one', timeoutMs: 2000, ...opts, cursor });
    assert.ok(page.ok, `page ${pages.length}: ${JSON.stringify(page)}`);
    assert.ok(page.keys.length <= limit, 'at most limit keys a page');
    pages.push(page);
    if (page.cursor === null) return pages;
    cursor = page.cursor;
  }
}

const keysOf = (pages: Page[]) => pages.flatMap((p) => p.keys);
const manyKeys = (n: number) => Array.from({ length: n }, (_, i) => (i % 9 === 0 ? `é-${i}` : i % 13 === 0 ? `😀-${i}` : i % 7 === 0 ? `\uFFFD${i}` : `key-${i}`));

describe('key listing: pages and order', () => {
  it('lists every live key exactly once, by partition then UTF-8 bytes, the same way twice', async () => {
    const c = fakeCluster(3);
    const keys = manyKeys(150);
    await write(c, keys.map((k) => put(k)));
    const deleted = keys.filter((_, i) => i % 10 === 3);
    await write(c, deleted.map(del));
    const live = keys.filter((k) => !deleted.includes(k));
    const first = await listAll(c, c.ids[1]!, { limit: 7 });
    assert.deepStrictEqual(keysOf(first), listingOrder(c, live));
    assert.ok(first.length >= Math.ceil(live.length / 7), 'pages of at most 7');
    const shape = (pages: Page[]) => pages.map(({ keys: k, cursor }) => ({ keys: k, cursor }));
    assert.deepStrictEqual(shape(await listAll(c, c.ids[2]!, { limit: 7 })), shape(first), 'another node, the same pages and cursors');
    assert.deepStrictEqual(keysOf(await listAll(c, c.ids[0]!, { limit: 1000 })), listingOrder(c, live), 'one page');
  });

  it('lists only the keys starting with the prefix, and binds the cursor to it', async () => {
    const c = fakeCluster(3);
    const keys = ['user/1', 'user/22', 'user/é', 'users/1', 'user', 'u', 'x/user/1', 'é', 'éa', 'ê', '😀/1', '😀/2'];
    await write(c, keys.map((k) => put(k)));
    for (const prefix of ['user/', 'user', 'u', 'é', '😀/', 'nothing', '']) {
      const expected = listingOrder(c, keys.filter((k) => k.startsWith(prefix)));
      assert.deepStrictEqual(keysOf(await listAll(c, c.ids[0]!, { prefix, limit: 2 })), expected, `prefix ${prefix}`);
    }
    const page = await c.node(c.ids[0]!).core.listing.page({ prefix: 'user/', limit: 1, cursor: undefined, r: 'one', timeoutMs: 2000 });
    assert.ok(page.ok && page.cursor !== null);
    await assert.rejects(
      c.node(c.ids[0]!).core.listing.page({ prefix: 'users/', limit: 1, cursor: page.cursor, r: 'one', timeoutMs: 2000 }),
      (err: unknown) => err instanceof KvError && err.code === 'invalid_cursor' && /another prefix/.test(err.message),
    );
    await assert.rejects(
      c.node(c.ids[0]!).core.listing.page({ prefix: '', limit: 1, cursor: 'garbage', r: 'one', timeoutMs: 2000 }),
      (err: unknown) => err instanceof KvError && err.code === 'invalid_cursor',
    );
  });

  it('a page makes at most listPageRoundsMax rounds: a sparse prefix gives empty pages with a cursor', async () => {
    const partitions = 4 * listPageRoundsMax;
    const c = fakeCluster(3, { partitions });
    await write(c, ['a', 'b', 'c'].map((k) => put(k)));
    const pages = await listAll(c, c.ids[0]!, { prefix: 'zzz' });
    assert.deepStrictEqual(pages.map((p) => p.keys.length), [0, 0, 0, 0]);
    assert.deepStrictEqual(pages.map((p) => p.cursor === null), [false, false, false, true]);
  });
});

describe('key listing: the coverage query', () => {
  it('r=one falls back to the next primary when one is down; r=all answers quorum_unavailable', async () => {
    const c = fakeCluster(5);
    const keys = manyKeys(120);
    await write(c, keys.map((k) => put(k)));
    // n2 is the first primary of partitions n1 is not a primary of: asked first there.
    const down = c.ids[1]!;
    c.network.setNode(down, { kind: 'down' });
    const from = c.ids[0]!;
    const pages = await listAll(c, from, { limit: 11 });
    assert.deepStrictEqual(keysOf(pages), listingOrder(c, keys), 'every key, though one node is down');
    assert.ok(c.network.log.some(([f, to, type]) => f === from && to === down && type === 'listKeys'), 'the down node was tried');
    assert.deepStrictEqual(keysOf(await listAll(c, from, { r: 'quorum' })), listingOrder(c, keys), 'r=quorum: two of three primaries');
    const partition = c.ring.replicas.findIndex((primaries) => primaries.includes(down));
    const all = await c.node(from).core.listing.page({ prefix: '', limit: 1000, cursor: undefined, r: 'all', timeoutMs: 2000 });
    assert.deepStrictEqual(all, {
      ok: false, node: from, code: 'quorum_unavailable',
      message: `Needed 3 replicas of partition ${partition}, 2 answered in time.`, details: { required: 3, acked: 2, partition },
    });
  });

  it('a partition none of whose primaries answers fails the page, even with r=one', async () => {
    const c = fakeCluster(4);
    await write(c, manyKeys(20).map((k) => put(k)));
    const from = c.ids[0]!;
    const partition = c.ring.replicas.findIndex((primaries) => !primaries.includes(from));
    for (const id of c.ring.replicas[partition]!) c.network.setNode(id, { kind: 'down' });
    const result = await c.node(from).core.listing.page({ prefix: '', limit: 1000, cursor: undefined, r: 'one', timeoutMs: 2000 });
    assert.equal(result.ok, false);
    assert.deepStrictEqual(!result.ok && result.details, { required: 1, acked: 0, partition });
  });

  it('r=one reads one replica; r=all lists the union of the replicas while they diverge', async () => {
    const c = fakeCluster(3);
    const [n1, n2, n3] = c.ids as [NodeId, NodeId, NodeId];
    await write(c, ['kept', 'gone'].map((k) => put(k)));
    // A write only n3 has, and a delete only n1 has (anti-entropy has not run).
    const actor = actorIdOf(n3, 'x');
    await c.node(n3).core.replica.merge('only-on-n3', update(undefined, undefined, actor, { kind: 'value', data: text('v'), contentType: 'text/plain' }).object);
    await c.node(n1).core.replica.update('gone', (current) => update(current, current!.context, actorIdOf(n1, 'x'), { kind: 'tombstone', deletedAtMs: 1 }).object);
    const listed = async (node: NodeId, r: QuorumSpec) => keysOf(await listAll(c, node, { r })).sort();
    assert.deepStrictEqual(await listed(n1, 'one'), ['kept'], 'n1 reads its own copy');
    assert.deepStrictEqual(await listed(n2, 'one'), ['gone', 'kept']);
    assert.deepStrictEqual(await listed(n1, 'all'), ['gone', 'kept', 'only-on-n3'], 'the union: a key live on any replica asked');
  });

  it('r=all merges paged answers of diverging replicas: every key once, in order', async () => {
    const c = fakeCluster(3);
    const [n1, n2, n3] = c.ids as [NodeId, NodeId, NodeId];
    // Keys of one partition, dealt out to the replicas: each holds some, none holds all.
    const candidates = Array.from({ length: 400 }, (_, i) => `p-${i}`);
    const partition = partitionOf(c.ring, candidates[0]!);
    const keys = candidates.filter((k) => partitionOf(c.ring, k) === partition).slice(0, 20);
    const holders = [[n1], [n2], [n3], [n1, n2], [n2, n3]];
    for (const [i, key] of keys.entries()) {
      const object = update(undefined, undefined, actorIdOf(n1, 'x'), { kind: 'value', data: text(key), contentType: 'text/plain' }).object;
      for (const holder of holders[i % holders.length]!) await c.node(holder).core.replica.merge(key, object);
    }
    const expected = [...keys].sort(byUtf8);
    for (const limit of [1, 2, 3, 7, 100]) {
      assert.deepStrictEqual(keysOf(await listAll(c, n1, { r: 'all', limit })), expected, `limit ${limit}`);
    }
    assert.notDeepStrictEqual(keysOf(await listAll(c, n1, { r: 'one' })), expected, 'one replica alone lacks some');
  });

  it('a peer whose answer breaks the rules counts as failed: the next primary answers', async () => {
    const c = fakeCluster(4);
    const keys = manyKeys(40);
    await write(c, keys.map((k) => put(k)));
    const [from, liar] = c.ids as [NodeId, NodeId];
    const honest = c.network.handlers.get(liar)!;
    c.network.handlers.set(liar, (r) => (r.type === 'listKeys' ? Promise.resolve({ type: 'keyPage', keys: ['z', 'a'], next: null }) : honest(r)));
    assert.deepStrictEqual(keysOf(await listAll(c, from, { limit: 9 })), listingOrder(c, keys));
    assert.ok(c.network.log.some(([f, to, type]) => f === from && to === liar && type === 'listKeys'), 'the liar was asked');
  });

  it('a silent primary with r=all ends the page with quorum_unavailable at the timeout', async () => {
    const c = fakeCluster(3);
    await write(c, ['a'].map((k) => put(k)));
    c.network.setNode(c.ids[2]!, { kind: 'silent' });
    const state: { result?: ListResult } = {};
    void c.node(c.ids[0]!).core.listing.page({ prefix: '', limit: 10, cursor: undefined, r: 'all', timeoutMs: 500 }).then((r) => (state.result = r));
    await c.time.advance(499);
    assert.equal(state.result, undefined, 'waits for the silent replica until the timeout');
    await c.time.advance(1);
    const result = state.result as ListResult | undefined;
    assert.ok(result !== undefined && !result.ok, 'answered at the timeout');
    assert.deepStrictEqual(result.details, { required: 3, acked: 2, partition: 0 });
  });
});

describe('key listing: merging and checking replica pages', () => {
  it('keeps only the keys up to the smallest next, then at most want', () => {
    const a = { keys: ['a', 'c', 'e'], next: 'e' };
    const b = { keys: ['b', 'd', 'f'], next: 'f' };
    assert.deepStrictEqual(mergePages([a, b], 10), { keys: ['a', 'b', 'c', 'd', 'e'], afterKey: 'e' });
    assert.deepStrictEqual(mergePages([a, b], 3), { keys: ['a', 'b', 'c'], afterKey: 'c' });
    assert.deepStrictEqual(mergePages([a, { keys: ['b', 'x'], next: undefined }], 10), { keys: ['a', 'b', 'c', 'e'], afterKey: 'e' });
    assert.deepStrictEqual(mergePages([{ keys: ['a', 'x'], next: undefined }, { keys: ['a', 'b'], next: undefined }], 10), { keys: ['a', 'b', 'x'], afterKey: undefined });
    assert.deepStrictEqual(mergePages([{ keys: [], next: 'm' }, { keys: ['n'], next: undefined }], 10), { keys: [], afterKey: 'm' });
    assert.deepStrictEqual(mergePages([{ keys: ['é', '😀'], next: undefined }, { keys: ['\uFFFD'], next: undefined }], 10), { keys: ['é', '\uFFFD', '😀'], afterKey: undefined });
  });

  it('refuses pages out of order, beyond the cursor, off the prefix or too long', () => {
    assert.equal(pageProblem({ keys: ['pa', 'pb'], next: 'pc' }, 'p', 'p', 2), undefined);
    assert.equal(pageProblem({ keys: [], next: undefined }, 'p', undefined, 1), undefined);
    assert.match(pageProblem({ keys: ['pa', 'pb'], next: undefined }, 'p', undefined, 1)!, /gave 2 keys/);
    assert.match(pageProblem({ keys: ['pb', 'pa'], next: undefined }, 'p', undefined, 5)!, /out of order/);
    assert.match(pageProblem({ keys: ['pa', 'pa'], next: undefined }, 'p', undefined, 5)!, /out of order/);
    assert.match(pageProblem({ keys: ['pa'], next: undefined }, 'p', 'pa', 5)!, /not after the cursor/);
    assert.match(pageProblem({ keys: ['qa'], next: undefined }, 'p', undefined, 5)!, /without the prefix/);
    assert.match(pageProblem({ keys: ['pb'], next: 'pa' }, 'p', undefined, 5)!, /before its keys/);
    assert.match(pageProblem({ keys: [], next: 'pa' }, 'p', 'pa', 5)!, /not after the cursor/);
    assert.match(pageProblem({ keys: [], next: 'q' }, 'p', undefined, 5)!, /without the prefix/);
  });

  it('compareUtf8 orders as the UTF-8 bytes do', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(byUtf8(a, b)));
      }),
      { numRuns: 2000 },
    );
    for (const [a, b] of [['\uFFFF', '😀'], ['\uE000', '\u{10000}'], ['a', 'ab'], ['é', 'z']]) assert.ok(compareUtf8(a!, b!) > 0 === byUtf8(a!, b!) > 0);
  });
});

describe('key listing: cursors', () => {
  const ring = createRing([asNodeId('n1')], 16, 1);
  const at = { partition: 5, afterKey: 'user/é😀' };

  it('round-trip, with or without a key, bound to the prefix', () => {
    for (const position of [at, { partition: 0, afterKey: undefined }, { partition: 15, afterKey: 'user/\u0000' }]) {
      const token = encodeListCursor(position, 'user/');
      assert.match(token, /^l1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'URL-safe');
      assert.deepStrictEqual(decodeListCursor(token, 'user/', ring), position);
    }
    assert.deepStrictEqual(decodeListCursor(encodeListCursor({ partition: 3, afterKey: 'x' }, ''), '', ring), { partition: 3, afterKey: 'x' });
  });

  it('refuses every token it would not have issued', () => {
    const token = encodeListCursor(at, 'user/');
    const payload = (json: string) => `${token.split('.').slice(0, 2).join('.')}.${Buffer.from(json).toString('base64url')}`;
    const cases: Array<[string, string, RegExp]> = [
      ['', 'user/', /unknown format/],
      ['garbage', 'user/', /unknown format/],
      [token.replace('l1.', 'l2.'), 'user/', /unknown format/],
      [`${token}.x`, 'user/', /unknown format/],
      [token, 'user', /another prefix/],
      [token, '', /another prefix/],
      [`${token}=`, 'user/', /not base64url/],
      [payload('[5,'), 'user/', /not JSON/],
      [payload('{"p":5}'), 'user/', /wrong shape/],
      [payload('[16]'), 'user/', /no such partition/],
      [payload('[-1]'), 'user/', /no such partition/],
      [payload('[1.5]'), 'user/', /no such partition/],
      [payload('[5,""]'), 'user/', /not a key/],
      [payload('[5,"\\ud800"]'), 'user/', /not a key/],
      [payload(`[5,"${'x'.repeat(513)}"]`), 'user/', /not a key/],
      [payload('[5,"other/1"]'), 'user/', /does not start with the prefix/],
      [payload('[5, "user/1"]'), 'user/', /not in the form/],
      [payload('[5,"user/1",1]'), 'user/', /wrong shape/],
      ['l1.' + 'x'.repeat(9000), 'user/', /longer than/],
    ];
    for (const [bad, prefix, why] of cases) {
      assert.throws(() => decodeListCursor(bad, prefix, ring), (err: unknown) => err instanceof KvError && err.code === 'invalid_cursor' && why.test(err.message), `${bad.slice(0, 40)}: ${why}`);
    }
  });
});
