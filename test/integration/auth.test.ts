// Client authentication and authorization (issue 15, point 2) on real nodes: tokens made by the
// real `kvorum token` CLI; every route the app registers, asked with no token, bad ones (garbage,
// wrong scheme, 70 KB, revoked, expired) and each role (with and without a key prefix); batches,
// listings, /metrics open vs admin-only, revocation and a bad file while the node runs, the
// typed client and the CLIs with a token.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ForbiddenError, KvorumClient, UnauthorizedError } from '../../src/client/index.js';
import { appRoutes, type AppRoute } from '../kit/app-routes.js';
import { send, type RawAnswer } from '../kit/auth-http.js';
import { cliPath } from '../kit/paths.js';
import { runNode, type NodeRun } from '../kit/run-node.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';

const cliDeadlineMs = 30_000;
/** Revocation and file changes apply within about a second (the node stats the file every 1 s); this bounds the wait. */
const reloadDeadlineMs = 5_000;
const cli = (args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<NodeRun> => runNode([cliPath, ...args], { deadlineMs: cliDeadlineMs, env });

const dir = await mkdtemp(join(tmpdir(), 'kvorum-auth-'));
const authFile = join(dir, 'auth.json');

async function create(role: string, ...more: string[]): Promise<string> {
  const run = await cli(['token', 'create', '--role', role, ...more, '--auth-file', authFile]);
  assert.equal(run.code, 0, run.stderr);
  const token = run.stdout.toString('utf8');
  assert.match(token, /^kvt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/, 'stdout holds the token and nothing else');
  return token.trim();
}

type Kind = 'none' | 'garbage' | 'scheme' | 'oversized' | 'revoked' | 'expired' | 'read' | 'write' | 'admin' | 'readP' | 'writeP';
const badKinds: readonly Kind[] = ['none', 'garbage', 'scheme', 'oversized', 'revoked', 'expired'];
const tokens = {} as Record<'revoked' | 'expired' | 'read' | 'write' | 'admin' | 'readP' | 'writeP', string>;
const prefix = 'app1-';
/** A token's secret part (`kvt_<16 hex>_<secret>`; the secret may itself hold `_`). */
const secretOf = (token: string) => token.slice('kvt_'.length + 17);

function authHeader(kind: Kind): Record<string, string> {
  switch (kind) {
    case 'none':
      return {};
    case 'garbage':
      return { authorization: `Bearer kvt_0123456789abcdef_${'A'.repeat(43)}` };
    case 'scheme':
      return { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` };
    case 'oversized':
      return { authorization: `Bearer ${'x'.repeat(70_000)}` };
    default:
      return { authorization: `Bearer ${tokens[kind]}` };
  }
}

/** What each route needs, written down here independently of src/api/auth-rules.ts. */
type Need = 'open' | 'internal' | 'metrics' | 'any' | 'read' | 'write' | 'list' | 'batch' | 'admin';

function needOf(route: AppRoute): Need | undefined {
  const { method, url } = route;
  if (url === '/health' || url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/')) return 'open';
  if (url === '/ui' || url === '/ui/:file') return 'open';
  if (url === '/internal/rpc') return 'internal';
  if (url === '/metrics') return 'metrics';
  if (url === '/kv/*') return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
  if (url === '/kv') return 'list';
  if (url === '/kv/') return 'any';
  if (url === '/batch') return 'batch';
  const admin = ['/cluster', '/replica/kv/*', '/admin/join', '/admin/leave', '/admin/replace', '/admin/remove', '/admin/clear', '/admin/commit',
    '/admin/plan', '/admin/transfers', '/admin/transfers/cancel', '/admin/transfers/local', '/admin/transfer-limits', '/admin/partition-keys',
    '/admin/overview', '/admin/overview/local', '/admin/backup'];
  return admin.includes(url) ? 'admin' : undefined;
}

/** One request standing for a route: inside or outside the prefix tokens' prefix. */
interface Sample {
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

function samplesOf(route: AppRoute): { inside: Sample; outside?: Sample } {
  const json = { 'content-type': 'application/json' };
  const withBody = ['POST', 'PUT', 'PATCH', 'QUERY'].includes(route.method);
  if (route.url === '/kv/*') {
    const body = route.method === 'PUT' ? 'v' : undefined;
    return { inside: { path: `/kv/${prefix}k`, body }, outside: { path: '/kv/other-k', body } };
  }
  if (route.url === '/kv') return { inside: { path: `/kv?prefix=${prefix}` }, outside: { path: '/kv' } };
  if (route.url === '/batch') {
    const batch = (key: string) => ({ path: '/batch', headers: json, body: JSON.stringify({ ops: [{ op: 'get', key }] }) });
    return { inside: batch(`${prefix}k`), outside: batch('other-k') };
  }
  const path = route.url.replace('/docs/static/*', '/docs/static/index.html').replace('/replica/kv/*', `/replica/kv/${prefix}k`).replace('/ui/:file', '/ui/console.js');
  if (route.url === '/internal/rpc') return { inside: { path, body: 'not msgpack' } };
  return { inside: withBody ? { path, body: '{}', headers: json } : { path } };
}

/** The expected answer: 401, 403, or 'served' (anything the route itself answers: never 401 or 403). */
function expected(need: Need, kind: Kind, inside: boolean, metricsAdmin: boolean): 401 | 403 | 'served' {
  if (need === 'open' || need === 'internal' || (need === 'metrics' && !metricsAdmin)) return 'served';
  if (badKinds.includes(kind)) return 401;
  const prefixed = kind === 'readP' || kind === 'writeP';
  switch (need) {
    case 'admin':
    case 'metrics':
      return kind === 'admin' ? 'served' : 403;
    case 'read':
    case 'list':
      return prefixed && !inside ? 403 : 'served';
    case 'batch':
    case 'write':
      if (kind === 'read' || kind === 'readP') return 403;
      return prefixed && !inside ? 403 : 'served';
    default:
      return 'served';
  }
}

function check(answer: RawAnswer, want: 401 | 403 | 'served', what: string): void {
  if (want === 'served') {
    assert.ok(answer.status !== 401 && answer.status !== 403 && answer.status !== 0, `${what}: got ${answer.status} ${answer.body.slice(0, 200)}`);
    return;
  }
  assert.equal(answer.status, want, `${what}: ${answer.body.slice(0, 200)}`);
  assert.match(String(answer.headers['www-authenticate']), /^Bearer realm="kvorum"/, what);
  if (answer.body !== '') assert.equal((JSON.parse(answer.body) as { error: string }).error, want === 401 ? 'unauthorized' : 'forbidden', what);
}

let cluster: TestCluster;
let n1: TestNode;
let n2: TestNode;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster.logs(), fn));

describe('client tokens (--auth-file; n2 with --metrics-access admin)', () => {
  before(async () => {
    tokens.read = await create('read', '--note', 'reader');
    tokens.write = await create('write');
    tokens.admin = await create('admin');
    tokens.readP = await create('read', '--prefix', prefix);
    tokens.writeP = await create('write', '--prefix', prefix);
    tokens.expired = await create('write', '--expires-in', '1s');
    tokens.revoked = await create('admin');
    const revoke = await cli(['token', 'revoke', '--id', tokens.revoked.split('_')[1]!, '--auth-file', authFile]);
    assert.equal(revoke.code, 0, revoke.stderr);
    cluster = await startCluster({
      nodes: 2,
      n: 2,
      extraArgs: ['--auth-file', authFile, '--log-level', 'info'],
      nodeArgs: (id) => (id === 'n2' ? ['--metrics-access', 'admin'] : []),
    });
    [n1, n2] = cluster.nodes as [TestNode, TestNode];
    // The expired token's second runs out: wait for the node to say so.
    await waitFor(async () => {
      const answer = await send('GET', `${n1.url}/kv/x`, authHeader('expired'));
      return answer.status === 401 && /expired/.test(answer.body);
    }, { timeoutMs: reloadDeadlineMs, what: 'the expired token refused as expired' });
  });
  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('every route the app registers, with every kind of token: 401, 403 or served as the role table says', async () => {
    const routes = await appRoutes();
    assert.ok(routes.length > 40, `the app's routes: ${routes.length}`);
    const kinds: Kind[] = [...badKinds, 'read', 'write', 'admin', 'readP', 'writeP'];
    let asked = 0;
    for (const route of routes) {
      const need = needOf(route);
      assert.ok(need !== undefined, `no expectation for ${route.method} ${route.url}: add it to this test (and a rule to src/api/auth-rules.ts)`);
      const { inside, outside } = samplesOf(route);
      for (const node of need === 'metrics' ? [n1, n2] : [n1]) {
        for (const kind of kinds) {
          for (const [sample, isInside] of [[inside, true], ...(outside ? [[outside, false]] : [])] as [Sample, boolean][]) {
            const answer = await send(route.method, `${node.url}${sample.path}`, { ...sample.headers, ...authHeader(kind) }, sample.body);
            check(answer, expected(need, kind, isInside, node === n2), `${route.method} ${sample.path} at ${node.id} with ${kind}`);
            asked++;
          }
        }
      }
    }
    assert.ok(asked > 500, `requests made: ${asked}`);
    assert.equal((await send('GET', `${n1.url}/health`)).status, 200, 'the node is still up after the 70 KB headers');
  });

  test('401 messages: missing, expired, revoked; an unknown route is 401 without a token and 404 with one', async () => {
    const missing = await send('GET', `${n1.url}/kv/${prefix}k`);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="kvorum"');
    assert.match(missing.body, /Authorization: Bearer/);
    assert.match((await send('GET', `${n1.url}/kv/${prefix}k`, authHeader('expired'))).body, /expired at 20/);
    assert.match((await send('GET', `${n1.url}/kv/${prefix}k`, authHeader('revoked'))).body, /unknown or was revoked/);
    assert.equal((await send('GET', `${n1.url}/no-such-route`)).status, 401);
    assert.equal((await send('GET', `${n1.url}/no-such-route`, authHeader('read'))).status, 404);
  });

  test('a prefix token writes inside its prefix; a batch with one op outside is 403 and runs nothing', async () => {
    const w = authHeader('writeP');
    assert.equal((await send('PUT', `${n1.url}/kv/${prefix}a`, w, 'A')).status, 204);
    assert.equal((await send('GET', `${n1.url}/kv/${prefix}a`, authHeader('readP'))).body, 'A');
    const ops = [{ op: 'put', key: `${prefix}b`, value: 'Qg==' }, { op: 'put', key: 'other-b', value: 'Qg==' }];
    const refused = await send('POST', `${n1.url}/batch`, { ...w, 'content-type': 'application/json' }, JSON.stringify({ ops }));
    assert.equal(refused.status, 403, refused.body);
    assert.match(refused.body, /ops\[1\]/);
    const admin = authHeader('admin');
    assert.equal((await send('GET', `${n1.url}/kv/${prefix}b?r=all`, admin)).status, 404, 'the op inside the prefix did not run either');
    // Batches need a write token, even of gets only.
    const gets = JSON.stringify({ ops: [{ op: 'get', key: `${prefix}a` }] });
    const read = await send('POST', `${n1.url}/batch`, { ...authHeader('read'), 'content-type': 'application/json' }, gets);
    assert.equal(read.status, 403, read.body);
    const got = await send('POST', `${n1.url}/batch`, { ...w, 'content-type': 'application/json' }, gets);
    assert.equal((JSON.parse(got.body) as { results: { status: number }[] }).results[0]!.status, 200);
    const puts = JSON.stringify({ ops: [ops[0]] });
    const ok = await send('POST', `${n1.url}/batch`, { ...w, 'content-type': 'application/json' }, puts);
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as { results: { status: number }[] }).results[0]!.status, 204);
    // Listing: with its prefix (or a longer one) it is served, without it refused.
    const listed = await send('GET', `${n1.url}/kv?prefix=${prefix}&r=all`, authHeader('readP'));
    assert.deepEqual((JSON.parse(listed.body) as { keys: string[] }).keys.sort(), [`${prefix}a`, `${prefix}b`]);
    assert.equal((await send('GET', `${n1.url}/kv?prefix=${prefix}a`, authHeader('readP'))).status, 200);
    assert.equal((await send('GET', `${n1.url}/kv?prefix=app`, authHeader('readP'))).status, 403);
  });

  test('the typed client and the data CLI with a token; a 401 is not failed over', async () => {
    const client = new KvorumClient({ nodes: [n1.url, n2.url], token: tokens.writeP });
    await client.put(`${prefix}client`, 'c');
    assert.equal((await client.get(`${prefix}client`))?.kind, 'value');
    await assert.rejects(client.put('other-client', 'c'), (err) => err instanceof ForbiddenError && err.status === 403);
    const anonymous = new KvorumClient({ nodes: [n1.url, n2.url] });
    await assert.rejects(anonymous.get(`${prefix}client`), (err) => err instanceof UnauthorizedError && err.code === 'unauthorized');
    assert.equal(anonymous.nodeUrl, n1.url, 'a 401 is the answer, not a node failure');
    const env = { ...process.env, KVORUM_TOKEN: tokens.writeP };
    const put = await cli(['put', `${prefix}cli`, 'v', '--url', n1.url], env);
    assert.equal(put.code, 0, put.stderr);
    const got = await cli(['get', `${prefix}cli`, '--url', n2.url, '--token', tokens.readP]);
    assert.deepEqual([got.code, got.stdout.toString()], [0, 'v']);
    const without = await cli(['get', `${prefix}cli`, '--url', n1.url], { ...process.env, KVORUM_TOKEN: '' });
    assert.equal(without.code, 3);
    assert.match(without.stderr, /unauthorized/);
    const outside = await cli(['put', 'other-cli', 'v', '--url', n1.url], env);
    assert.equal(outside.code, 3);
    assert.match(outside.stderr, /forbidden/);
    const status = await cli(['status', '--url', n1.url], { ...process.env, KVORUM_TOKEN: tokens.admin });
    assert.equal(status.code, 0, status.stderr);
    assert.equal((await cli(['status', '--url', n1.url], { ...process.env, KVORUM_TOKEN: tokens.read })).code, 1);
    const plan = await cli(['admin', 'plan', '--url', n1.url, '--token', tokens.admin]);
    assert.equal(plan.code, 0, plan.stderr);
    const refused = await cli(['admin', 'plan', '--url', n1.url], { ...process.env, KVORUM_TOKEN: tokens.write });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /forbidden/);
    const backupOut = join(dir, 'auth-backup.db');
    const backup = await cli(['admin', 'backup', '--url', n1.url, '--out', backupOut], { ...process.env, KVORUM_TOKEN: tokens.admin });
    assert.equal(backup.code, 0, backup.stderr);
    const noBackup = await cli(['admin', 'backup', '--url', n1.url, '--out', join(dir, 'refused.db'), '--token', tokens.write]);
    assert.equal(noBackup.code, 1);
    assert.match(noBackup.stderr, /forbidden/);
    await rm(backupOut, { force: true });
  });

  test('revoked while the node runs: refused within a bounded wait; a bad file is refused and the old tokens stay', async () => {
    const victim = await create('read');
    const url = `${n2.url}/kv/${prefix}k`;
    await waitFor(async () => (await send('GET', url, { authorization: `Bearer ${victim}` })).status !== 401, { timeoutMs: reloadDeadlineMs, what: 'the new token accepted' });
    const revoke = await cli(['token', 'revoke', '--id', victim, '--auth-file', authFile]);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.ok(!revoke.stderr.includes(secretOf(victim)), 'the token is never printed back');
    const started = Date.now();
    await waitFor(async () => (await send('GET', url, { authorization: `Bearer ${victim}` })).status === 401, { timeoutMs: reloadDeadlineMs, what: 'the revoked token refused' });
    console.log(`# revocation applied after ${Date.now() - started} ms`);
    assert.equal((await cli(['token', 'revoke', '--id', 'ffffffffffffffff', '--auth-file', authFile])).code, 1, 'no such token: exit 1');

    const good = readFileSync(authFile, 'utf8');
    writeFileSync(authFile, '{"version": 1, "tokens": [{"id": "nope"}]}');
    await waitFor(() => /auth file refused/.test(cluster.logs()), { timeoutMs: reloadDeadlineMs, what: 'the bad file refused in the log' });
    assert.equal((await send('GET', `${n1.url}/cluster`, authHeader('admin'))).status, 200, 'the tokens loaded before stay in force');
    const onBad = await cli(['token', 'create', '--role', 'read', '--auth-file', authFile]);
    assert.equal(onBad.code, 3, 'the CLI does not write over a file it cannot read');
    assert.match(onBad.stderr, /not a valid auth file at tokens\.0/);
    writeFileSync(authFile, good);
    const fresh = await create('admin');
    await waitFor(async () => (await send('GET', `${n1.url}/cluster`, { authorization: `Bearer ${fresh}` })).status === 200, { timeoutMs: reloadDeadlineMs, what: 'the file read again' });
  });

  test('SIGHUP rereads the auth file at once', async () => {
    const loaded = () => n1.logs().split('\n').filter((line) => line.includes('"auth file loaded"')).length;
    const before = loaded();
    n1.kill('SIGHUP');
    await waitFor(() => loaded() > before, { timeoutMs: reloadDeadlineMs, what: 'the file reread after SIGHUP' });
    assert.ok(n1.running(), 'SIGHUP does not stop the node');
    assert.equal((await send('GET', `${n1.url}/cluster`, authHeader('admin'))).status, 200);
  });

  test('token list shows ids, roles, prefixes and dates, never hashes or salts; usage errors exit 2', async () => {
    const list = await cli(['token', 'list', '--auth-file', authFile, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout.toString()) as Record<string, unknown>[];
    assert.ok(rows.some((r) => r['prefix'] === prefix && r['role'] === 'write'));
    assert.ok(rows.some((r) => r['expired'] === true));
    for (const row of rows) assert.deepEqual(Object.keys(row).sort(), ['createdAt', 'expired', 'expiresAt', 'id', 'note', 'prefix', 'role']);
    const text = await cli(['token', 'list', '--auth-file', authFile]);
    assert.match(text.stdout.toString(), /^ID +ROLE +PREFIX +CREATED +EXPIRES +NOTE$/m);
    assert.doesNotMatch(text.stdout.toString(), /salt|hash/);
    for (const args of [['token', 'create', '--auth-file', authFile], ['token', 'create', '--role', 'root', '--auth-file', authFile], ['token', 'create', '--role', 'admin', '--prefix', 'a', '--auth-file', authFile],
      ['token', 'create', '--role', 'read', '--expires-in', 'soon', '--auth-file', authFile], ['token', 'list'], ['token', 'nope', '--auth-file', authFile]]) {
      assert.equal((await cli(args)).code, 2, args.join(' '));
    }
    assert.equal((await cli(['token', 'list', '--auth-file', join(dir, 'missing.json')])).code, 3);
  });

  test('no token or Authorization header ever appears in the nodes\' logs', async () => {
    const logs = cluster.logs();
    for (const token of Object.values(tokens)) assert.ok(!logs.includes(secretOf(token)), 'a token secret in the log');
    assert.doesNotMatch(logs, /kvt_|Bearer /);
  });
});

describe('a node without --auth-file, and one with a bad file', () => {
  test('without --auth-file the node warns at start that its API is open; a malformed file stops the start (exit 2)', async () => {
    const open = await startCluster({ nodes: 1, extraArgs: ['--log-level', 'warn'] });
    try {
      await waitFor(() => /no --auth-file: the client and admin API are open to anyone who can reach this port/.test(open.logs()), { timeoutMs: reloadDeadlineMs, what: 'the warning' });
      assert.equal((await send('GET', `${open.nodes[0]!.url}/cluster`)).status, 200);
    } finally {
      await open.stop();
    }
    const dir2 = await mkdtemp(join(tmpdir(), 'kvorum-auth-bad-'));
    try {
      writeFileSync(join(dir2, 'auth.json'), '{"version": 2, "tokens": []}');
      const run = await cli(['start', '--id', 'x', '--listen', '127.0.0.1:1', '--data-dir', join(dir2, 'data'), '--auth-file', join(dir2, 'auth.json')]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /not a valid auth file at version/);
    } finally {
      await rm(dir2, { recursive: true, force: true });
    }
  });
});
