// The client API tests' shared cluster and assertions: one real 3-node cluster (N=3, so every node
// is a primary of every key and coordinates what it receives) per test file, and helpers that
// check responses against the contract in docs/api.md.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { http, type HttpResponse } from '../kit/http.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';

export const maxValueBytes = 65_536;
export const utf8 = (s: string) => Buffer.from(s, 'utf8');

let cluster: TestCluster | undefined;

/** Starts the file's cluster before its tests and stops it after; call inside the top describe. */
export function useClientApiCluster(): void {
  before(async () => {
    cluster = await startCluster({ nodes: 3, extraArgs: ['--max-value-bytes', String(maxValueBytes)] });
  });
  after(async () => {
    await cluster?.stop();
  });
}

export const nodes = (): TestNode[] => cluster!.nodes;
export const node = (i: number): TestNode => cluster!.nodes[i]!;
export const kv = (n: TestNode, encodedKey: string, query = '') => `${n.url}/kv/${encodedKey}${query ? `?${query}` : ''}`;
/** A test body, with the cluster's recent output printed if it fails. */
export const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

export function assertNodeHeader(res: HttpResponse, expected?: string): void {
  const got = res.headers.get('x-kvorum-node');
  assert.ok(got, `X-Kvorum-Node missing on a ${res.status} response`);
  if (expected !== undefined) assert.equal(got, expected, 'X-Kvorum-Node');
}

/** A JSON error from the catalog: status, `error` code, a message, and (unless told not to) X-Kvorum-Node. */
export function assertError(res: HttpResponse, status: number, code: string, opts: { node?: string; nodeHeader?: boolean } = {}): Record<string, unknown> {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text().slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, 'errors are JSON');
  const body = res.json<Record<string, unknown>>();
  assert.equal(body['error'], code);
  assert.equal(typeof body['message'], 'string');
  assert.ok((body['message'] as string).length > 0, 'message is not empty');
  if (opts.nodeHeader !== false) assertNodeHeader(res, opts.node);
  return body;
}

export function assertOk(res: HttpResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status}: ${res.text().slice(0, 300)}`);
}

export async function put(n: TestNode, key: string, value: Buffer | string, opts: { query?: string; contentType?: string; context?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  if (opts.context !== undefined) headers['x-kvorum-context'] = opts.context;
  return http('PUT', kv(n, key, opts.query ?? 'w=all'), { body: value, headers });
}

export async function get(n: TestNode, key: string, query = 'r=all') {
  return http('GET', kv(n, key, query));
}

/** What a key looks like to a client right now (r=all through every node), to prove a request changed nothing. */
export async function snapshot(key: string) {
  const views = [];
  for (const n of nodes()) {
    const res = await get(n, key);
    views.push({
      status: res.status,
      contentType: res.status === 200 ? res.headers.get('content-type') : null,
      body: res.status === 404 ? null : res.body.toString('base64'),
      context: res.headers.get('x-kvorum-context'),
    });
  }
  for (const v of views.slice(1)) assert.deepEqual(v, views[0], 'every node gives the same r=all answer');
  return views[0]!;
}

/** Sibling values of a 300 answer, decoded and sorted. */
export function siblingsOf(res: HttpResponse): { values: string[]; contentTypes: string[]; context: string } {
  assert.equal(res.status, 300, `expected 300 siblings, got ${res.status}: ${res.text().slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = res.json<{ context: string; siblings: { value: string; contentType: string }[] }>();
  assert.equal(typeof body.context, 'string');
  assert.equal(body.context, res.headers.get('x-kvorum-context'), 'the body context is the header context');
  assert.ok(Array.isArray(body.siblings));
  const pairs = body.siblings.map((s) => {
    assert.deepEqual(Object.keys(s).sort(), ['contentType', 'value']);
    return [Buffer.from(s.value, 'base64').toString('utf8'), s.contentType] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { values: pairs.map((p) => p[0]), contentTypes: pairs.map((p) => p[1]), context: body.context };
}
