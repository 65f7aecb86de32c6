// POST /batch without a server: the checks every op meets before any runs (batch-ops.ts), the
// request each op stands for, and the scheduling (batch-routes.ts): one key's ops in order, at most
// batchKeysConcurrency keys at once. End to end: test/integration/batch.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeContext } from '../../src/core/context-token.js';
import { KvError } from '../../src/core/errors.js';
import { batchKeysConcurrency, batchOpsMax } from '../../src/core/limits.js';
import type { ActorId } from '../../src/core/types.js';
import { planBatch, type PlannedOp } from '../../src/api/batch-ops.js';
import { runInKeyOrder } from '../../src/api/batch-routes.js';

const rules = { n: 3, defaults: { r: 'quorum', w: 'quorum' } } as const;
const now = Date.UTC(2030, 0, 1);
const plan = (body: unknown) => planBatch(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), rules, now);
const ctx = (key: string) => encodeContext({ vv: [['n1.a' as ActorId, 5]], cloud: [] }, key);

function refused(body: unknown, index?: number): string {
  try {
    plan(body);
  } catch (err) {
    assert.ok(err instanceof KvError && err.code === 'invalid_batch', String(err));
    assert.deepEqual(err.details, index === undefined ? {} : { index });
    return err.message;
  }
  assert.fail(`accepted: ${JSON.stringify(body).slice(0, 200)}`);
}

describe('batch: planning', () => {
  it('turns each op into the request it stands for', () => {
    const ops = plan({
      ops: [
        { op: 'get', key: 'a/b c', r: 2, pr: 'one', timeout: '100', ifNoneMatch: '"00", W/"11"' },
        { op: 'put', key: 'caf\u00e9', value: 'aGk=', contentType: ' text/plain ', w: 'all', ttl: 60, returnbody: true, ifNoneMatch: '*' },
        { op: 'delete', key: '..', ifMatch: ctx('..') },
        { op: 'put', key: 'k', value: '', context: ctx('k') },
      ],
    });
    assert.deepEqual(ops, [
      { key: 'a/b c', method: 'GET', url: '/kv/a%2Fb%20c?r=2&pr=one&timeout=100', headers: { 'if-none-match': '"00", W/"11"' } },
      {
        key: 'caf\u00e9',
        method: 'PUT',
        url: '/kv/caf%C3%A9?w=all&ttl=60&returnbody=true',
        headers: { 'if-none-match': '*', 'content-type': 'text/plain' },
        body: Buffer.from('hi'),
      },
      { key: '..', method: 'DELETE', url: '/kv/..', headers: { 'if-match': ctx('..') } },
      { key: 'k', method: 'PUT', url: '/kv/k', headers: { 'x-kvorum-context': ctx('k') }, body: Buffer.alloc(0) },
    ] satisfies PlannedOp[]);
  });

  it('refuses the batch as a whole, naming the first bad op', () => {
    const good = { op: 'get', key: 'k' };
    assert.match(refused('{"ops":'), /not JSON/);
    assert.match(refused(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')), /not JSON/);
    refused([good]);
    refused({ ops: [] });
    refused({ ops: Array(batchOpsMax + 1).fill(good) });
    assert.equal(plan({ ops: Array(batchOpsMax).fill(good) }).length, batchOpsMax);
    const bad: unknown[] = [
      { op: 'head', key: 'k' },
      { op: 'get' },
      { op: 'get', key: '' },
      { op: 'get', key: 'x'.repeat(513) },
      { op: 'get', key: 'a\ud800' },
      { op: 'get', key: 'k', extra: 1 },
      { op: 'put', key: 'k' },
      { op: 'put', key: 'k', value: 'aGk' },
      { op: 'put', key: 'k', value: 'aGl=' },
      { op: 'put', key: 'k', value: 'a-_b' },
      { op: 'put', key: 'k', value: '', contentType: 'a\nb' },
      { op: 'put', key: 'k', value: '', contentType: 'x'.repeat(1025) },
      { op: 'put', key: 'k', value: '', contentType: '\u20ac' },
      { op: 'get', key: 'k', r: 0 },
      { op: 'get', key: 'k', r: 4 },
      { op: 'get', key: 'k', r: 1.5 },
      { op: 'get', key: 'k', r: 1, pr: 2 },
      { op: 'get', key: 'k', pr: 'all' },
      { op: 'put', key: 'k', value: '', w: 'some' },
      { op: 'delete', key: 'k', pw: -1 },
      { op: 'get', key: 'k', timeout: 60_001 },
      { op: 'get', key: 'k', timeout: '1e3' },
      { op: 'put', key: 'k', value: '', ttl: 0 },
      { op: 'put', key: 'k', value: '', ttl: 31_536_001 },
      { op: 'put', key: 'k', value: '', returnbody: 'yes' },
      { op: 'put', key: 'k', value: '', context: 'c2.garbage' },
      { op: 'put', key: 'k', value: '', context: ctx('other') },
      { op: 'put', key: 'k', value: '', ifMatch: ctx('other') },
      { op: 'put', key: 'k', value: '', ifMatch: ctx('k'), context: ctx('k') },
      { op: 'put', key: 'k', value: '', ifMatch: ctx('k'), ifNoneMatch: '*' },
      { op: 'put', key: 'k', value: '', ifNoneMatch: '"abc"' },
      { op: 'get', key: 'k', ifNoneMatch: 'abc' },
      { op: 'get', key: 'k', ifMatch: ctx('k') },
      { op: 'delete', key: 'k', ifNoneMatch: '*' },
      { op: 'delete', key: 'k', ttl: 5 },
      'get k',
      null,
    ];
    for (const op of bad) {
      const message = refused({ ops: [good, good, op, { op: 'frob' }] }, 2);
      assert.match(message, /^ops\[2\]: /, JSON.stringify(op));
    }
  });
});

describe('batch: scheduling', () => {
  const op = (key: string): PlannedOp => ({ key, method: 'GET', url: `/kv/${key}`, headers: {} });

  it("runs one key's ops in batch order and at most batchKeysConcurrency keys at once", async () => {
    const keys = Array.from({ length: batchKeysConcurrency * 3 }, (_, i) => `k${i}`);
    const ops = [...keys, ...keys, ...keys].map(op);
    const started: number[] = [];
    const pending: Array<() => void> = [];
    let inFlight = 0;
    let peak = 0;
    const done = runInKeyOrder(ops, (o) => {
      const i = ops.indexOf(o); // each op is its own object
      started.push(i);
      peak = Math.max(peak, ++inFlight);
      return new Promise<number>((resolve) => pending.push(() => (inFlight--, resolve(i))));
    });
    // Let them finish one at a time, in an order unrelated to the batch's; after each, let every
    // promise chain it released run (setImmediate comes after the microtasks), so the next op starts.
    const settle = () => new Promise<void>((r) => setImmediate(r));
    await settle();
    for (let finished = 0; finished < ops.length; finished++) {
      assert.ok(pending.length > 0, `op ${finished}: nothing in flight, yet ${ops.length - finished} ops left`);
      pending.splice(Math.floor(pending.length / 2), 1)[0]!();
      await settle();
    }
    assert.deepEqual(await done, ops.map((_, i) => i), 'each result in its op slot');
    assert.equal(peak, batchKeysConcurrency);
    for (const key of keys) {
      const order = started.filter((i) => ops[i]!.key === key);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `${key}: ops started in batch order`);
    }
  });
});
