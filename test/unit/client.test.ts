// The TypeScript client (src/client) against stub HTTP servers that answer as the contract says:
// the failover rule (which failures move to the next node, and that a write that may have been
// applied is never sent again), aborts and deadlines, error mapping, and the decoding of listing
// pages and batch results. test/integration/client.test.ts runs it against a real cluster.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import {
  KvorumClient, KvorumError, OutcomeUnknownError, OverloadedError, PreconditionFailedError, QuorumUnavailableError, TooManySiblingsError, UnreachableError,
  errorFromAnswer, type ClientErrorCode, type ServerErrorCode,
} from '../../src/client/index.js';
import { attemptSignal, pause } from '../../src/client/transport.js';
import { backoffMs } from '../../src/client/update.js';
import type { ErrorCode, errorCatalog } from '../../src/core/errors.js';
import { freePorts } from '../kit/ports.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse) => void;

interface Stub {
  readonly url: string;
  readonly seen: Seen[];
  handler: Handler;
}

const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function stub(handler: Handler): Promise<Stub> {
  const seen: Seen[] = [];
  const self: Stub = { url: '', seen, handler };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      self.handler(s, res);
    });
  });
  servers.push(server);
  const [port] = await freePorts(1);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(self, { url: `http://127.0.0.1:${port}` });
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-kvorum-node': 'stub', ...headers }).end(JSON.stringify(body));
const writtenTo = (res: ServerResponse) => res.writeHead(204, { 'x-kvorum-context': 'ctx-new', 'x-kvorum-node': 'stub' }).end();
const written: Handler = (_req, res) => writtenTo(res);
const shuttingDown = (_req: Seen, res: ServerResponse) => json(res, 503, { error: 'shutting_down', message: 'stopping' });
const overloaded = (_req: Seen, res: ServerResponse) => json(res, 503, { error: 'overloaded', message: 'busy' }, { 'retry-after': '1' });
const resetting = (_req: Seen, res: ServerResponse) => res.socket?.resetAndDestroy();
const silent = () => undefined;
const refusedUrl = async () => `http://127.0.0.1:${(await freePorts(1))[0]}`;

// Type-level: the client's server codes are the catalog's (derived from it), and its own codes are none of them.
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const serverCodesAreTheCatalog: Equal<ServerErrorCode, keyof typeof errorCatalog> & Equal<ServerErrorCode, ErrorCode> = true;
const clientCodesAreNotServerCodes: Equal<Extract<ClientErrorCode, ServerErrorCode>, never> = true;

describe('client: errors', () => {
  it('maps error bodies to KvorumError, with subclasses for the codes programs branch on', () => {
    assert.ok(serverCodesAreTheCatalog && clientCodesAreNotServerCodes);
    const quorum = errorFromAnswer(503, { error: 'quorum_unavailable', message: 'Needed 3 replicas, 2 answered in time.', required: 3, acked: 2 });
    assert.ok(quorum instanceof QuorumUnavailableError && quorum instanceof KvorumError);
    assert.deepEqual([quorum.status, quorum.code, quorum.message, quorum.required, quorum.acked], [503, 'quorum_unavailable', 'Needed 3 replicas, 2 answered in time.', 3, 2]);
    assert.deepEqual(quorum.details, { required: 3, acked: 2 });
    assert.ok(errorFromAnswer(412, { error: 'precondition_failed', message: 'm' }) instanceof PreconditionFailedError);
    assert.ok(errorFromAnswer(409, { error: 'too_many_siblings', message: 'm' }) instanceof TooManySiblingsError);
    const plain = errorFromAnswer(400, { error: 'invalid_key', message: 'bad key' });
    assert.equal(plain.constructor, KvorumError);
    assert.deepEqual([plain.status, plain.code], [400, 'invalid_key']);
    const foreign = errorFromAnswer(502, undefined);
    assert.deepEqual([foreign.status, foreign.code], [502, 'bad_response']);
  });

  it('refuses the keys fetch cannot address (. and ..) before sending anything', async () => {
    const node = await stub(written);
    const client = new KvorumClient({ nodes: [node.url] });
    for (const key of ['.', '..']) {
      await assert.rejects(client.get(key), (e: unknown) => e instanceof KvorumError && e.code === 'unsupported_key' && e.status === null);
    }
    assert.equal(node.seen.length, 0);
  });

  it('percent-encodes keys as one path segment and sends the options as query and headers', async () => {
    const node = await stub(written);
    const client = new KvorumClient({ nodes: [`${node.url}/`] });
    await client.put('users/42 a+b\u00e9?#%', 'v', { w: 'all', pw: 1, timeout: 500, ttl: 60, context: 'c1', contentType: 'text/x' });
    await client.delete('k', { ifMatch: 'c2', w: 2 });
    await client.put('k', Buffer.from([1, 2]), { ifNoneMatch: '*' });
    const [put, del, create] = node.seen;
    assert.equal(put!.url, '/kv/users%2F42%20a%2Bb%C3%A9%3F%23%25?w=all&pw=1&timeout=500&ttl=60');
    assert.deepEqual([put!.method, put!.headers['content-type'], put!.headers['x-kvorum-context'], put!.body.toString()], ['PUT', 'text/x', 'c1', 'v']);
    assert.deepEqual([del!.method, del!.url, del!.headers['if-match'], del!.headers['x-kvorum-context']], ['DELETE', '/kv/k?w=2', 'c2', undefined]);
    assert.deepEqual([create!.headers['if-none-match'], create!.headers['content-type'], [...create!.body]], ['*', 'application/octet-stream', [1, 2]]);
  });
});

describe('client: failover', () => {
  it('moves to the next node on a refused connection, for writes too, and stays there', async () => {
    const live = await stub(written);
    const client = new KvorumClient({ nodes: [await refusedUrl(), live.url] });
    assert.deepEqual(await client.put('k', 'v'), { context: 'ctx-new' });
    assert.equal(client.nodeUrl, live.url);
    await client.put('k', 'v2');
    assert.equal(live.seen.length, 2);
  });

  it('moves to the next node on 503 shutting_down, for writes too', async () => {
    const stopping = await stub(shuttingDown);
    const live = await stub(written);
    const client = new KvorumClient({ nodes: [stopping.url, live.url] });
    await client.put('k', 'v');
    assert.deepEqual([stopping.seen.length, live.seen.length], [1, 1]);
  });

  it('moves to the next node on 503 overloaded, for writes and batches too (the node ran nothing), and stays there', async () => {
    const busy = await stub(overloaded);
    const live = await stub(written);
    const client = new KvorumClient({ nodes: [busy.url, live.url] });
    assert.deepEqual(await client.put('k', 'v'), { context: 'ctx-new' });
    assert.equal(client.nodeUrl, live.url);
    await client.delete('k');
    assert.deepEqual([busy.seen.length, live.seen.length], [1, 2]);
  });

  it('every node refusing, one of them overloaded: OverloadedError (503, nothing done), not UnreachableError', async () => {
    const busy = await stub(overloaded);
    const stopping = await stub(shuttingDown);
    const client = new KvorumClient({ nodes: [stopping.url, busy.url, await refusedUrl()] });
    await assert.rejects(client.put('k', 'v'), (e: unknown) => {
      assert.ok(e instanceof OverloadedError, String(e));
      assert.deepEqual([e.status, e.code], [503, 'overloaded']);
      return true;
    });
    assert.deepEqual([stopping.seen.length, busy.seen.length], [1, 1], 'each node tried once');
  });

  it('update() retries while every node is overloaded, then succeeds', async () => {
    let refusals = 2;
    const node = await stub((req, res) => {
      if (refusals > 0) {
        refusals--;
        return overloaded(req, res);
      }
      return req.method === 'GET' ? res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"no"}') : writtenTo(res);
    });
    const client = new KvorumClient({ nodes: [node.url] });
    assert.equal((await client.update('k', () => 'v')).value.toString(), 'v');
    assert.equal(refusals, 0);
  });

  it('a write whose connection broke after it was sent is never sent again: OutcomeUnknownError', async () => {
    const broken = await stub(resetting);
    const live = await stub(written);
    const client = new KvorumClient({ nodes: [broken.url, live.url] });
    for (const write of [() => client.put('k', 'v'), () => client.delete('k'), () => client.batch([{ op: 'put', key: 'k', value: 'v' }])]) {
      await assert.rejects(write(), (e: unknown) => e instanceof OutcomeUnknownError && e.code === 'connection_lost');
    }
    assert.equal(live.seen.length, 0);
  });

  it('a read whose connection broke moves to the next node', async () => {
    const broken = await stub(resetting);
    const live = await stub((_req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'x-kvorum-context': 'c' }).end('v'));
    const client = new KvorumClient({ nodes: [broken.url, live.url] });
    const got = await client.get('k');
    assert.equal(got?.kind === 'value' && got.value.toString(), 'v');
    assert.equal(live.seen.length, 1);
  });

  it('a write that times out is not sent again (OutcomeUnknownError timeout); a read that times out moves on', async () => {
    const stalled = await stub(silent);
    const live = await stub((req, res) => (req.method === 'GET' ? res.writeHead(200, { 'x-kvorum-context': 'c' }).end('v') : writtenTo(res)));
    const client = new KvorumClient({ nodes: [stalled.url, live.url], timeoutMs: 200 });
    await assert.rejects(client.put('k', 'v'), (e: unknown) => e instanceof OutcomeUnknownError && e.code === 'timeout' && e.status === null);
    assert.equal(live.seen.length, 0);
    assert.equal((await client.get('k'))?.kind, 'value');
    assert.equal(live.seen.length, 1);
  });

  it('raises the attempt deadline to the request timeout plus slack', async () => {
    let answer: (() => void) | undefined;
    const slow = await stub((_req, res) => (answer = () => writtenTo(res)));
    const client = new KvorumClient({ nodes: [slow.url], timeoutMs: 50 });
    const put = client.put('k', 'v', { timeout: 2000 });
    await waitUntil(() => answer !== undefined);
    await pause(150); // past timeoutMs, within timeout + slack: the pause is the point of the test
    answer!();
    assert.deepEqual(await put, { context: 'ctx-new' });
  });

  it('every node failing is UnreachableError naming each node and why', async () => {
    const stopping = await stub(shuttingDown);
    const refused = await refusedUrl();
    const client = new KvorumClient({ nodes: [refused, stopping.url] });
    await assert.rejects(client.put('k', 'v'), (e: unknown) => {
      assert.ok(e instanceof UnreachableError);
      assert.equal(e.code, 'unreachable');
      assert.deepEqual(e.failures, [{ node: refused, reason: 'ECONNREFUSED' }, { node: stopping.url, reason: '503 shutting_down' }]);
      return true;
    });
  });

  it('any other answer is the answer: a 503 quorum_unavailable is not failed over', async () => {
    const first = await stub((_req, res) => json(res, 503, { error: 'quorum_unavailable', message: 'm', required: 3, acked: 2 }));
    const second = await stub(written);
    const client = new KvorumClient({ nodes: [first.url, second.url] });
    await assert.rejects(client.put('k', 'v'), QuorumUnavailableError);
    assert.equal(second.seen.length, 0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await pause(5);
  }
}

describe('client: aborts', () => {
  it('an abort ends a request in flight with the signal reason, and is no failover', async () => {
    const stalled = await stub(silent);
    const live = await stub(written);
    const client = new KvorumClient({ nodes: [stalled.url, live.url] });
    const controller = new AbortController();
    const get = client.get('k', { signal: controller.signal });
    await waitUntil(() => stalled.seen.length === 1);
    controller.abort();
    await assert.rejects(get, { name: 'AbortError' });
    await assert.rejects(client.put('k', 'v', { signal: controller.signal }), { name: 'AbortError' });
    assert.equal(live.seen.length, 0);
    assert.equal(stalled.seen.length, 1, 'an aborted signal sends nothing');
  });

  it('the fallback without AbortSignal.any: a deadline, the caller abort, and clean-up', async () => {
    const deadline = attemptSignal(undefined, 20, null);
    await waitUntil(() => deadline.signal.aborted);
    assert.equal(deadline.timedOut(), true);
    assert.equal((deadline.signal.reason as Error).name, 'TimeoutError');
    const controller = new AbortController();
    const combined = attemptSignal(controller.signal, 60_000, null);
    controller.abort(new Error('stop'));
    assert.equal(combined.signal.aborted, true);
    assert.equal(combined.timedOut(), false);
    assert.equal((combined.signal.reason as Error).message, 'stop');
    combined.dispose();
    const disposed = attemptSignal(new AbortController().signal, 10, null);
    disposed.dispose();
    await pause(30); // past the disposed deadline: the pause is the point of the test
    assert.equal(disposed.signal.aborted, false);
  });

  it('pause ends early on abort; backoff stays within its bounds', async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal);
    controller.abort(new Error('enough'));
    await assert.rejects(waiting, /enough/);
    for (let n = 0; n < 20; n++) assert.ok(backoffMs(n) >= 0 && backoffMs(n) < 1000);
  });
});

describe('client: listing and batches (decoding, against a stub of the contract)', () => {
  it('list follows the cursor until null; keys() flattens the pages', async () => {
    const pages: Record<string, { keys: string[]; cursor: string | null }> = {
      '': { keys: ['a1', 'a2'], cursor: 'c1' },
      c1: { keys: [], cursor: 'c2' },
      c2: { keys: ['a 3+'], cursor: null },
    };
    const node = await stub((req, res) => json(res, 200, pages[new URL(req.url, 'http://x').searchParams.get('cursor') ?? '']));
    const client = new KvorumClient({ nodes: [node.url] });
    const seen = [];
    for await (const page of client.list({ prefix: 'a b+', limit: 2, r: 'quorum' })) seen.push(page);
    assert.deepEqual(seen, [pages['']!, pages['c1']!, pages['c2']!]);
    assert.equal(node.seen[0]!.url, '/kv?prefix=a%20b%2B&limit=2&r=quorum');
    assert.equal(node.seen[1]!.url, '/kv?prefix=a%20b%2B&limit=2&cursor=c1&r=quorum');
    const keys = [];
    for await (const key of client.keys({ prefix: 'a b+' })) keys.push(key);
    assert.deepEqual(keys, ['a1', 'a2', 'a 3+']);
  });

  it('list on a server without listing throws its 404 not_found', async () => {
    const node = await stub((_req, res) => json(res, 404, { error: 'not_found', message: 'No route GET /kv.' }));
    const client = new KvorumClient({ nodes: [node.url] });
    await assert.rejects(client.list().next(), (e: unknown) => e instanceof KvorumError && e.code === 'not_found');
  });

  it('batch sends the ops (values base64) and types each result by its op', async () => {
    const sibling = { value: Buffer.from('x').toString('base64'), contentType: 'text/plain', expiresAt: 1_700_000_000_000 };
    const results = [
      { status: 200, headers: { 'x-kvorum-context': 'c1', 'content-type': 'text/plain', etag: '"0123456789abcdef"', 'x-kvorum-expires-at': '1700000000000', 'x-kvorum-node': 'n2' }, value: Buffer.from('hello').toString('base64') },
      { status: 300, headers: { 'x-kvorum-context': 'c2', etag: '"fedcba9876543210"', 'x-kvorum-node': 'n1' }, body: { context: 'c2', siblings: [sibling, { value: '', contentType: 'a/b' }] } },
      { status: 404, headers: { 'x-kvorum-node': 'n1' }, body: { error: 'not_found', message: 'No live value for this key.' } },
      { status: 204, headers: { 'x-kvorum-context': 'c3', 'x-kvorum-node': 'n1' } },
      { status: 412, headers: { 'x-kvorum-node': 'n1' }, body: { error: 'precondition_failed', message: 'no' } },
      { status: 304, headers: { 'x-kvorum-context': 'c4', etag: '"0000000000000001"', 'x-kvorum-node': 'n3' } },
    ];
    const node = await stub((_req, res) => json(res, 200, { results }));
    const client = new KvorumClient({ nodes: [node.url] });
    const out = await client.batch([
      { op: 'get', key: 'a' },
      { op: 'get', key: 'b', r: 'all' },
      { op: 'get', key: 'missing' },
      { op: 'put', key: 'c', value: 'v', ttl: 5, w: 2 },
      { op: 'delete', key: 'd', ifMatch: 'stale' },
      { op: 'get', key: 'e', ifNoneMatch: '"0000000000000001"' },
    ]);
    const sent = JSON.parse(node.seen[0]!.body.toString()) as { ops: unknown[] };
    assert.equal(node.seen[0]!.headers['content-type'], 'application/json');
    assert.deepEqual(sent.ops[3], { op: 'put', key: 'c', ttl: 5, w: 2, value: Buffer.from('v').toString('base64'), contentType: 'text/plain; charset=utf-8' });
    assert.deepEqual(out[0], { status: 200, node: 'n2', ok: true, result: { kind: 'value', value: Buffer.from('hello'), contentType: 'text/plain', context: 'c1', etag: '"0123456789abcdef"', expiresAt: 1_700_000_000_000 } });
    assert.deepEqual(out[1].ok && out[1].result, {
      kind: 'siblings', context: 'c2', etag: '"fedcba9876543210"',
      siblings: [{ value: Buffer.from('x'), contentType: 'text/plain', expiresAt: 1_700_000_000_000 }, { value: Buffer.alloc(0), contentType: 'a/b' }],
    });
    assert.deepEqual(out[2], { status: 404, node: 'n1', ok: true, result: null });
    assert.deepEqual(out[3], { status: 204, node: 'n1', ok: true, result: { context: 'c3' } });
    assert.ok(!out[4].ok && out[4].error instanceof PreconditionFailedError);
    assert.deepEqual(out[5].ok && out[5].result, { kind: 'notModified', etag: '"0000000000000001"', context: 'c4' });
  });

  it('a refused batch throws its error; a batch of gets fails over like a read, one with a write does not', async () => {
    const refusing = await stub((_req, res) => json(res, 400, { error: 'invalid_batch', message: 'op 1: bad key', index: 1 }));
    await assert.rejects(new KvorumClient({ nodes: [refusing.url] }).batch([{ op: 'get', key: 'k' }]), (e: unknown) => e instanceof KvorumError && e.code === 'invalid_batch' && e.details['index'] === 1);
    const broken = await stub(resetting);
    const live = await stub((_req, res) => json(res, 200, { results: [{ status: 404, headers: {}, body: { error: 'not_found', message: 'm' } }] }));
    const nodes = [broken.url, live.url];
    assert.deepEqual(await new KvorumClient({ nodes }).batch([{ op: 'get', key: 'k' }]), [{ status: 404, ok: true, result: null }]);
    await assert.rejects(new KvorumClient({ nodes }).batch([{ op: 'get', key: 'k' }, { op: 'delete', key: 'k' }]), OutcomeUnknownError);
    assert.equal(live.seen.length, 1);
  });
});
