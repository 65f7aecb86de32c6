// docs/api.md sections 2-3 end to end over HTTP against a real 3-node cluster (N=3): every error of the
// catalog (each rejected request changes nothing), and the admin API. Reads and writes: client-api.test.ts.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { http } from '../kit/http.js';
import { waitFor } from '../kit/wait.js';
import {
  assertError, assertNodeHeader, assertOk, get, kv, maxValueBytes, node, nodes, put, snapshot, test, useClientApiCluster, utf8,
} from '../helpers/client-api.js';

describe('client API errors and admin API (3 nodes, N=3)', () => {
  useClientApiCluster();

  describe('errors (each rejected request changes nothing)', () => {
    const base = 'err-base';
    let before: Awaited<ReturnType<typeof snapshot>>;

    const unchanged = async (what: string) => {
      assert.deepEqual(await snapshot(base), before, `${what} must not change ${base}`);
    };

    test('setup: a key with one known value', async () => {
      assertOk(await put(node(0), base, 'original', { contentType: 'text/plain' }), 204, 'PUT');
      before = await snapshot(base);
      assert.equal(before.status, 200);
      assert.equal(Buffer.from(before.body!, 'base64').toString('utf8'), 'original');
    });

    test('invalid_key: empty /kv/, 513 bytes (status, code; nothing stored under a similar key)', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await http(method, `${node(0).url}/kv/`, method === 'PUT' ? { body: utf8('x') } : {});
        assertError(res, 400, 'invalid_key', { node: node(0).id });
      }
      const long = 'q'.repeat(513);
      assertError(await put(node(1), long, 'x'), 400, 'invalid_key', { node: node(1).id });
      assertError(await get(node(1), long.slice(0, 512)), 404, 'not_found');
      assertError(await get(node(1), long.slice(1)), 404, 'not_found');
      await unchanged('invalid_key');
    });

    test('invalid_key: not valid UTF-8 (%FF, truncated %E2%82): 400 invalid_key; nothing stored under a similar key', async () => {
      for (const [bad, lookalikes] of [
        ['bad-%FF', ['bad-', 'bad-%EF%BF%BD', 'bad-%C3%BF']],
        ['bad-%E2%82', ['bad-', 'bad-%EF%BF%BD', 'bad-%E2%82%AC']],
        ['%E2%82', ['%EF%BF%BD', '%C3%A2%C2%82']],
        ['bad-%2G', ['bad-', 'bad-%252G']], // not even valid percent-encoding
      ] as const) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await http(method, kv(node(2), bad, method === 'GET' ? 'r=all' : 'w=all'), method === 'PUT' ? { body: utf8('x') } : {});
          // X-Kvorum-Node is checked in its own test below.
          assertError(res, 400, 'invalid_key', { nodeHeader: false });
        }
        for (const key of lookalikes) assertError(await get(node(0), key), 404, 'not_found');
      }
      await unchanged('invalid_key');
    });

    test('invalid_key responses for invalid UTF-8 carry X-Kvorum-Node', async () => {
      // These are answered by fastify's frameworkErrors, where hooks (which add the header) do not run.
      for (const bad of ['bad-%FF', '%E2%82', 'bad-%2G']) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const res = await http(method, kv(node(2), bad), method === 'PUT' ? { body: utf8('x') } : {});
          assertError(res, 400, 'invalid_key', { node: node(2).id });
        }
      }
    });

    test('invalid_quorum: w=0, w=4 (N=3), w=abc, pw=3&w=2, pr=2&r=1, r=0, r=4', async () => {
      for (const query of ['w=0', 'w=4', 'w=abc', 'pw=3&w=2', 'pw=all&w=1', 'w=', 'w=-1', 'w=2.0', 'pw=4&w=all']) {
        assertError(await put(node(0), base, 'changed', { query }), 400, 'invalid_quorum', { node: node(0).id });
        assertError(await http('DELETE', kv(node(1), base, query)), 400, 'invalid_quorum', { node: node(1).id });
      }
      for (const query of ['r=0', 'r=4', 'r=abc', 'pr=2&r=1', 'pr=all&r=quorum', 'pr=4']) {
        assertError(await get(node(2), base, query), 400, 'invalid_quorum', { node: node(2).id });
      }
      await unchanged('invalid_quorum');
    });

    test('invalid_context: an undecodable X-Kvorum-Context', async () => {
      const garbage = ['garbage', 'c1.!!!!', 'c1.bm90IGpzb24', 'c9.W1tdLFtdXQ', 'c1.W1tbIkJBRCIsMV1dLFtdXQ'];
      for (const context of garbage) {
        assertError(await put(node(0), base, 'changed', { context }), 400, 'invalid_context', { node: node(0).id });
        assertError(await http('DELETE', kv(node(1), base, 'w=all'), { headers: { 'x-kvorum-context': context } }), 400, 'invalid_context', {
          node: node(1).id,
        });
      }
      await unchanged('invalid_context');
    });

    test('invalid_timeout: 0, 60001, 1.5, abc', async () => {
      for (const t of ['0', '60001', '1.5', 'abc', '-5', '']) {
        assertError(await put(node(0), base, 'changed', { query: `w=all&timeout=${t}` }), 400, 'invalid_timeout', { node: node(0).id });
        assertError(await get(node(1), base, `timeout=${t}`), 400, 'invalid_timeout', { node: node(1).id });
        assertError(await http('DELETE', kv(node(2), base, `timeout=${t}`)), 400, 'invalid_timeout', { node: node(2).id });
      }
      await unchanged('invalid_timeout');
    });

    test(`value_too_large: ${maxValueBytes + 1} bytes is 413; ${maxValueBytes} bytes is accepted`, async () => {
      const tooBig = Buffer.alloc(maxValueBytes + 1, 0x61);
      assertError(await put(node(0), base, tooBig), 413, 'value_too_large', { node: node(0).id });
      assertError(await put(node(1), 'too-large-new', tooBig), 413, 'value_too_large', { node: node(1).id });
      // The same without Content-Length (chunked): the limit still holds.
      const chunked = await fetch(kv(node(2), base, 'w=all'), {
        method: 'PUT',
        body: new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 9; i++) controller.enqueue(new Uint8Array(maxValueBytes / 8));
            controller.close();
          },
        }),
        duplex: 'half',
        signal: AbortSignal.timeout(10_000),
      } as RequestInit & { duplex: 'half' });
      assert.equal(chunked.status, 413, 'chunked body over the limit');
      assert.equal(((await chunked.json()) as { error: string }).error, 'value_too_large');
      assertError(await get(node(0), 'too-large-new'), 404, 'not_found');
      await unchanged('value_too_large');

      const exact = Buffer.alloc(maxValueBytes, 0x62);
      assertOk(await put(node(1), 'max-value', exact), 204, `PUT ${maxValueBytes} bytes`);
      const res = await get(node(2), 'max-value');
      assertOk(res, 200, 'GET max-size value');
      assert.ok(res.body.equals(exact));
    });

    test('not_found: unknown key and unknown route both carry the node header', async () => {
      assertError(await get(node(0), 'nope-never'), 404, 'not_found', { node: node(0).id });
      assertError(await http('GET', `${node(1).url}/no-such-route`), 404, 'not_found', { node: node(1).id });
    });
  });

  describe('admin API', () => {
    test('GET /health is 200 {status:"ok", node}', async () => {
      for (const n of nodes()) {
        const res = await http('GET', `${n.url}/health`);
        assertOk(res, 200, 'health');
        assert.deepEqual(res.json(), { status: 'ok', node: n.id });
        assertNodeHeader(res, n.id);
      }
    });

    test('GET /cluster: node, n, partitions, members (id, url as in --peers, status), ring of N distinct owners', async () => {
      const ids = nodes().map((n) => n.id).sort();
      const rings: unknown[] = [];
      for (const n of nodes()) {
        // Peer status comes from periodic probes: wait until this node has seen every peer up.
        const view = await waitFor(
          async () => {
            const res = await http('GET', `${n.url}/cluster`);
            assertOk(res, 200, '/cluster');
            const body = res.json();
            return body.members.every((m: { status: string }) => m.status === 'up') ? body : undefined;
          },
          { timeoutMs: 10_000, what: `${n.id}'s /cluster to show every member up` },
        );
        assert.equal(view.node, n.id);
        assert.equal(view.n, 3);
        assert.equal(view.partitions, 64);
        // phi: null for the node itself, a peer's a number that changes with time (2 decimals at most).
        for (const m of view.members as { id: string; phi: unknown }[]) {
          if (m.id === n.id) assert.equal(m.phi, null, `${n.id} has no phi for itself`);
          else assert.ok(typeof m.phi === 'number' && m.phi >= 0 && m.phi < 8 && Number(m.phi.toFixed(2)) === m.phi, `phi of ${m.id}: ${String(m.phi)}`);
        }
        assert.deepEqual(
          [...view.members].sort((a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1)).map((m: { phi: unknown }) => ({ ...m, phi: typeof m.phi })),
          nodes().map((m) => ({ id: m.id, url: m.url, membership: 'valid', status: 'up', phi: m.id === n.id ? 'object' : 'number', hintsPending: 0 })),
        );
        assert.equal(view.ringVersion, 0, 'no membership change yet');
        assert.equal(view.claimant, 'n1', 'the first member by id is the claimant of a new cluster');
        assert.equal(view.ring.length, 64);
        view.ring.forEach((entry: { partition: number; owners: string[] }, i: number) => {
          assert.deepEqual(Object.keys(entry).sort(), ['owners', 'partition', 'pending']);
          assert.equal(entry.partition, i);
          assert.equal(entry.owners.length, 3);
          assert.equal(new Set(entry.owners).size, 3, 'owners are distinct');
          for (const o of entry.owners) assert.ok(ids.includes(o), `owner ${o} is a member`);
        });
        rings.push(view.ring);
        assertNodeHeader(await http('GET', `${n.url}/cluster`), n.id);
      }
      assert.deepEqual(rings[1], rings[0], 'every node computes the same ring');
      assert.deepEqual(rings[2], rings[0], 'every node computes the same ring');
    });

    test('GET /metrics is Prometheus text with request and quorum counters', async () => {
      for (const n of nodes()) {
        const res = await http('GET', `${n.url}/metrics`);
        assertOk(res, 200, 'metrics');
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
        assertNodeHeader(res, n.id);
        const text = res.text();
        assert.match(text, /^# TYPE kvorum_http_requests_total counter$/m);
        assert.match(text, /^# TYPE kvorum_quorum_outcomes_total counter$/m);
        assert.match(text, /^kvorum_http_requests_total\{[^}]*\} [0-9]+$/m);
        // Every node coordinated some reads above.
        assert.match(text, /^kvorum_quorum_outcomes_total\{[^}]*outcome="met"[^}]*\} [1-9][0-9]*$/m);
      }
    });
  });
});
