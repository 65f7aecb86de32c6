// The OpenAPI document (docs/api.md, "OpenAPI"): a node serves exactly the checked-in
// docs/openapi.json at GET /openapi.json, and its answers are the ones the document describes
// (status listed, media type listed, JSON body matching the schema). One real node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, type HttpResponse } from '../kit/http.js';
import { answerProblems, type OpenApiDocument } from '../kit/openapi-check.js';
import { repoRoot } from '../kit/paths.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';

const documentPath = join(repoRoot, 'docs', 'openapi.json');
const checkedIn = readFileSync(documentPath, 'utf8');
const doc = JSON.parse(checkedIn) as OpenApiDocument;

describe('OpenAPI document (1 node)', () => {
  let cluster: TestCluster | undefined;
  const url = () => cluster!.nodes[0]!.url;
  const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

  before(async () => {
    cluster = await startCluster({ nodes: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('GET /openapi.json serves docs/openapi.json byte for byte', async () => {
    const res = await http('GET', `${url()}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(
      res.text() === checkedIn,
      `the served document differs from docs/openapi.json: run \`npm run openapi\` and commit docs/openapi.json and src/client/openapi-types.ts`,
    );
  });

  test('the document: OpenAPI 3.1, the client routes under /kv/{key}, no internal RPC, every operation tagged and summarised', () => {
    assert.equal((JSON.parse(checkedIn) as { openapi: string }).openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths['/kv/{key}'] ?? {}).sort(), ['delete', 'get', 'put']);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/internal') || p.includes('*')), 'no /internal route, no wildcard');
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        assert.ok(op.summary && op.description, `${method} ${path}: summary and description`);
        assert.equal(op.tags?.length, 1, `${method} ${path}: one tag`);
        assert.ok(['client', 'admin', 'membership'].includes(op.tags[0]), `${method} ${path}: tag ${op.tags[0]}`);
      }
    }
    return Promise.resolve();
  });

  test('GET /docs is the Swagger UI page', async () => {
    const res = await http('GET', `${url()}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.text(), /swagger/i);
  });

  test('client answers match the document: 204, 200, 300, 404, 400, 503', async () => {
    const kv = (key: string, query = '') => `${url()}/kv/${key}${query ? `?${query}` : ''}`;
    const answers: [string, string, HttpResponse][] = [];
    const check = async (method: string, target: string, opts: Parameters<typeof http>[2] = {}) => {
      const res = await http(method, target, opts);
      answers.push([method, '/kv/{key}', res]);
      return res;
    };
    const text = { 'content-type': 'text/plain' };
    const written = await check('PUT', kv('doc-a'), { body: 'one', headers: text });
    assert.equal(written.status, 204);
    assert.equal((await check('GET', kv('doc-a'))).status, 200);
    assert.equal((await check('PUT', kv('doc-a', 'returnbody=true'), { body: 'two', headers: text })).status, 300, 'a write without context: siblings');
    assert.equal((await check('GET', kv('doc-a'))).status, 300);
    const read = await check('GET', kv('doc-a'));
    const context = read.headers.get('x-kvorum-context')!;
    assert.equal((await check('PUT', kv('doc-a', 'returnbody=true'), { body: 'merged', headers: { ...text, 'x-kvorum-context': context } })).status, 200);
    const merged = await check('GET', kv('doc-a'));
    assert.equal((await check('DELETE', kv('doc-a'), { headers: { 'x-kvorum-context': merged.headers.get('x-kvorum-context')! } })).status, 204);
    assert.equal((await check('GET', kv('doc-a'))).status, 404);
    assert.equal((await check('GET', kv('doc-a', 'r=9'))).status, 400);
    assert.equal((await check('PUT', kv('doc-a', 'w=2&timeout=200'), { body: 'x' })).status, 503, 'w=2 of 1 member');
    assert.equal((await check('DELETE', kv('doc-a', 'returnbody=maybe'))).status, 400);
    assert.deepEqual(answers.flatMap(([method, path, res]) => answerProblems(doc, method, path, res)), []);
  });

  test('admin and membership answers match the document', async () => {
    const answers: [string, string, HttpResponse][] = [];
    const check = async (method: string, path: string, opts: { body?: unknown; template?: string } = {}) => {
      const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const res = await http(method, `${url()}${path}`, body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } });
      answers.push([method, opts.template ?? path, res]);
      return res;
    };
    await http('PUT', `${url()}/kv/doc-b`, { body: 'b' });
    for (const path of ['/health', '/cluster', '/metrics', '/admin/transfers', '/admin/transfers/local', '/admin/partition-keys', '/admin/overview', '/admin/overview/local']) {
      assert.equal((await check('GET', path)).status, 200, path);
    }
    assert.equal((await check('GET', '/admin/plan')).status, 409, 'one member of N=3: no plan can be valid');
    assert.equal((await check('GET', '/replica/kv/doc-b', { template: '/replica/kv/{key}' })).status, 200);
    assert.equal((await check('GET', '/replica/kv/never', { template: '/replica/kv/{key}' })).status, 404);
    assert.equal((await check('GET', '/ui')).status, 200);
    assert.equal((await check('GET', '/ui/console.js', { template: '/ui/{file}' })).status, 200);
    assert.match((await check('GET', '/ui/', { template: '/ui/{file}' })).text(), /<title>kvorum console<\/title>/, '/ui/ is the page too');
    assert.equal((await check('GET', '/ui/console.css', { template: '/ui/{file}' })).status, 200);
    assert.equal((await check('GET', '/ui/..%2Fpackage.json', { template: '/ui/{file}' })).status, 404, 'only the console\'s own files');
    assert.equal((await check('PUT', '/admin/transfer-limits', { body: { concurrency: 2 } })).status, 200);
    assert.equal((await check('POST', '/admin/commit', { body: {} })).status, 409, 'nothing staged');
    assert.equal((await check('POST', '/admin/join', { body: { node: 'Not An Id' } })).status, 400);
    assert.deepEqual(answers.flatMap(([method, path, res]) => answerProblems(doc, method, path, res)), []);
  });
});
