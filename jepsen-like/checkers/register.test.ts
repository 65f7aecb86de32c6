import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRegister } from './register.js';
import { call, fault, history } from './test-helpers.js';

const W = 0; // the writer of key k
const q = { quorum: true } as const;

describe('register checker', () => {
  it('accepts reads that never go backwards', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 30, 'ok'),
      call(1, 'read', 'k', 1, 15, 18, 'ok', q),
      call(1, 'read', 'k', 2, 40, 45, 'ok', q),
      call(W, 'read', 'k', 2, 50, 55, 'ok', q),
    );
    const r = checkRegister(h, []);
    assert.equal(r.valid, true);
    assert.equal(r.violations.count, 0);
    assert.equal(r.reads.quorum, 3);
    assert.deepEqual(r.writes, { ok: 2, fail: 0, info: 0 });
  });

  it('detects a quorum read going backwards outside faults (monotonic reads)', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 30, 'ok'),
      call(1, 'read', 'k', 2, 40, 45, 'ok', q),
      call(1, 'read', 'k', 1, 50, 55, 'ok', { ...q, node: 'n3' }),
    );
    const r = checkRegister(h, []);
    assert.equal(r.valid, false);
    assert.equal(r.violations.count, 1);
    assert.deepEqual(r.violations.examples[0], {
      process: 1, key: 'k', node: 'n3', invokeMs: 50, completeMs: 55, value: 1, bound: 2, boundSource: 'read', boundAckMs: 30, faults: [],
    });
  });

  it('detects the writer not reading its own acknowledged write, and a null read', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'read', 'k', null, 20, 25, 'ok', q),
    );
    const r = checkRegister(h, []);
    assert.equal(r.violations.count, 1);
    assert.equal(r.violations.examples[0]!.boundSource, 'own write');
    assert.equal(r.violations.examples[0]!.value, null);
  });

  it('exempts a backwards read overlapping a fault window', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 30, 'ok'),
      call(1, 'read', 'k', 2, 40, 45, 'ok', q),
      call(1, 'read', 'k', 1, 50, 55, 'ok', q),
    );
    const r = checkRegister(h, [fault('partition', 52, 100)]);
    assert.equal(r.valid, true);
    assert.equal(r.violations.count, 0);
    assert.equal(r.exempt.count, 1);
    assert.deepEqual(r.exempt.examples[0]!.faults, ['partition']);
    assert.match(r.exempt.examples[0]!.exemptBecause!, /partition/);
  });

  it('exempts a read whose bound was acknowledged during a fault, but still checks the fault-free bound', () => {
    const partition = fault('partition', 15, 35);
    const sloppy = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 30, 'ok'), // during the partition: maybe only on fallbacks
      call(W, 'read', 'k', 1, 50, 55, 'ok', q),
    );
    const a = checkRegister(sloppy, [partition]);
    assert.equal(a.valid, true);
    assert.equal(a.exempt.count, 1);
    assert.match(a.exempt.examples[0]!.exemptBecause!, /sloppy/);

    const backwardsPastClean = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 30, 'ok'),
      call(W, 'read', 'k', null, 50, 55, 'ok', q), // below 1, acknowledged before any fault
    );
    const b = checkRegister(backwardsPastClean, [partition]);
    assert.equal(b.valid, false);
    assert.equal(b.violations.count, 1);
    assert.equal(b.violations.examples[0]!.bound, 1);
  });

  it('exempts reads after a wipe of what was acknowledged before it', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'read', 'k', null, 50, 55, 'ok', q),
    );
    const r = checkRegister(h, [fault('wipe', 20, 22)]);
    assert.equal(r.violations.count, 0);
    assert.equal(r.exempt.count, 1);
    assert.match(r.exempt.examples[0]!.exemptBecause!, /wiped/);
  });

  it('does not bound by a value read from a write that was not yet acknowledged', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 100, 'ok'), // slow: acknowledged at 100
      call(1, 'read', 'k', 2, 30, 35, 'ok', q), // saw it in flight
      call(1, 'read', 'k', 1, 40, 45, 'ok', q), // fine: 2 was not acknowledged yet
      call(1, 'read', 'k', 1, 120, 125, 'ok', q), // 2 acknowledged at 100 and seen: backwards
    );
    const r = checkRegister(h, []);
    assert.equal(r.violations.count, 1);
    assert.equal(r.violations.examples[0]!.invokeMs, 120);
  });

  it('does not check non-quorum reads, but counts what they saw', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'ok'),
      call(W, 'write', 'k', 2, 20, 30, 'ok'),
      call(1, 'read', 'k', 2, 40, 45, 'ok', { quorum: false }),
      call(1, 'read', 'k', 1, 50, 55, 'ok', { quorum: false }),
      call(1, 'read', 'k', 1, 60, 65, 'ok', q),
    );
    const r = checkRegister(h, []);
    assert.equal(r.reads.other, 2);
    assert.equal(r.reads.quorum, 1);
    assert.equal(r.violations.count, 1);
  });

  it('flags reads of values never written or whose write failed', () => {
    const h = history(
      call(W, 'write', 'k', 1, 0, 10, 'fail'),
      call(1, 'read', 'k', 1, 20, 25, 'ok', q),
      call(1, 'read', 'k', 7, 30, 35, 'ok', q),
    );
    const r = checkRegister(h, []);
    assert.equal(r.valid, false);
    assert.deepEqual(r.unexpected.examples.map((u) => [u.value, u.reason]), [[1, 'write failed'], [7, 'never written']]);
  });

  it('keeps keys apart', () => {
    const h = history(
      call(W, 'write', 'a', 5, 0, 10, 'ok'),
      call(2, 'write', 'b', 1, 0, 10, 'ok'),
      call(W, 'read', 'b', 1, 20, 25, 'ok', q),
    );
    assert.equal(checkRegister(h, []).valid, true);
  });
});
