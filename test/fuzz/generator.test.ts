// The fuzzer's generator without a cluster: pure (a case is the same bytes every time), never
// touches a canary name, and every answer it allows is one the error catalog knows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCatalog } from '../../src/core/errors.js';
import { generate } from './generator.js';
import { canaryPrefix } from './gen-util.js';
import type { FuzzCase } from './types.js';
import { renderRequest } from './wire-request.js';
import { bytesExpression } from './describe.js';

const config = { nodes: 3, valueBytesMax: 1024 * 1024, secret: 'test-secret' };
const casesChecked = 400;

const bytesOf = (c: FuzzCase) => c.steps.map((s) => (Buffer.isBuffer(s.request) ? s.request : renderRequest(s.request)));

describe('fuzz generator', () => {
  it('is a pure function of (seed, worker, index)', () => {
    for (let i = 0; i < casesChecked; i += 7) {
      const a = bytesOf(generate(12345, i % 4, i, config));
      const b = bytesOf(generate(12345, i % 4, i, config));
      assert.deepEqual(a, b, `case ${i % 4}.${i}`);
    }
    assert.notDeepEqual(bytesOf(generate(1, 0, 0, config)), bytesOf(generate(2, 0, 0, config)));
  });

  it('never names a canary key, and allows only catalogued codes', () => {
    const canary = Buffer.from(`/${canaryPrefix}`);
    const canaryEncoded = /\/(%63|c)(%61|a)(%6e|n)(%61|a)(%72|r)(%79|y)-/i;
    for (let i = 0; i < casesChecked; i++) {
      const c = generate(777, i % 4, i, config);
      for (const bytes of bytesOf(c)) {
        assert.equal(bytes.indexOf(canary), -1, `${c.name} names a canary`);
        assert.doesNotMatch(bytes.subarray(0, 200).toString('latin1'), canaryEncoded, `${c.name} names a canary`);
      }
      for (const step of c.steps) {
        assert.ok(step.expect.length > 0, `${c.name} expects an answer`);
        for (const e of step.expect) {
          assert.ok(e.ok.length + e.errors.length > 0, `${c.name} allows some answer`);
          for (const code of e.errors) assert.ok(code in errorCatalog, `${code} is catalogued`);
          assert.ok(!e.errors.includes('internal_error'), `${c.name} never allows a 500`);
        }
      }
    }
  });

  it('describes requests as expressions of their exact bytes', () => {
    for (let i = 0; i < 60; i++) {
      for (const bytes of bytesOf(generate(99, 0, i, config))) {
        if (bytes.length > 4000) continue;
        const expression = bytesExpression(bytes, Infinity);
        assert.ok(Buffer.from(new Function(`return ${expression};`)() as string, 'latin1').equals(bytes), expression.slice(0, 200));
      }
    }
  });
});
