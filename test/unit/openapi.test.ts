// docs/openapi.json and src/client/openapi-types.ts are generated (`npm run openapi`): both must be
// what the code generates now. (test/integration/openapi.test.ts checks what a running node serves.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openApiDocumentText } from '../../src/api/openapi-document.js';
import { documentedRoute, sortKeys } from '../../src/api/openapi.js';

const root = join(import.meta.dirname, '../..');
const rerun = 'run `npm run openapi` and commit docs/openapi.json and src/client/openapi-types.ts';

describe('OpenAPI document and client types', () => {
  it('docs/openapi.json is the document the code builds', async () => {
    const built = await openApiDocumentText();
    const checkedIn = await readFile(join(root, 'docs', 'openapi.json'), 'utf8');
    assert.ok(built === checkedIn, `docs/openapi.json is stale: ${rerun}`);
  });

  it('src/client/openapi-types.ts is what openapi-typescript generates from docs/openapi.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvorum-openapi-'));
    try {
      const out = join(dir, 'openapi-types.ts');
      await promisify(execFile)(process.execPath, [join(root, 'scripts', 'openapi.mjs'), '--types-out', out], { cwd: root, timeout: 60_000 });
      const [generated, checkedIn] = await Promise.all([readFile(out, 'utf8'), readFile(join(root, 'src', 'client', 'openapi-types.ts'), 'utf8')]);
      assert.ok(generated === checkedIn, `src/client/openapi-types.ts is stale: ${rerun}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sortKeys sorts every object\'s keys and keeps arrays in order', () => {
    const sorted = sortKeys({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } });
    assert.equal(JSON.stringify(sorted), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('documentedRoute: wildcard key routes become {key}, internal routes are hidden, docBody becomes the body', () => {
    const kv = documentedRoute({ url: '/kv/*', schema: { response: { 200: { description: 'x' } } } });
    assert.equal(kv.url, '/kv/{key}');
    assert.ok(kv.schema.params, 'the key is a path parameter');
    assert.ok((kv.schema.response as Record<number, { headers: object }>)[200]!.headers, 'every answer documents X-Kvorum-Node');
    assert.equal(documentedRoute({ url: '/replica/kv/*' }).url, '/replica/kv/{key}');
    assert.equal(documentedRoute({ url: '/internal/rpc' }).schema.hide, true);
    const staged = documentedRoute({ url: '/admin/join', schema: { docBody: { type: 'object' } } as object });
    assert.deepEqual(staged.schema.body, { type: 'object' });
    assert.equal('docBody' in staged.schema, false);
  });
});
