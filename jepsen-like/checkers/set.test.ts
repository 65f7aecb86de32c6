import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkSet } from './set.js';
import { call, fault, history } from './test-helpers.js';
import type { FinalRead } from '../history.js';

const finals = (key: string, ...perNode: number[][]): FinalRead[] =>
  perNode.map((value, i) => ({ key, node: `n${i + 1}`, status: 200, value }));

describe('set checker', () => {
  it('is valid when every acknowledged add is in the final set', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(1, 'add', 'k', 2, 5, 20, 'ok'));
    const r = checkSet(h, finals('k', [1, 2], [1, 2], [2, 1]), []);
    assert.equal(r.valid, true);
    assert.equal(r.attempted, 2);
    assert.equal(r.acknowledged, 2);
    assert.equal(r.lost.count, 0);
    assert.equal(r.finalReadsDisagree.count, 0);
  });

  it('detects a lost acknowledged add, with its key, element and ack time', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(1, 'add', 'k', 2, 5, 20, 'ok', { node: 'n3' }));
    const r = checkSet(h, finals('k', [1], [1], [1]), []);
    assert.equal(r.valid, false);
    assert.equal(r.lost.count, 1);
    assert.deepEqual(r.lost.examples[0], { key: 'k', element: 2, ackMs: 20, process: 1, node: 'n3' });
  });

  it('takes the union over nodes and reports nodes that disagree', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(1, 'add', 'k', 2, 5, 20, 'ok'));
    const r = checkSet(h, finals('k', [1, 2], [1], [2]), []);
    assert.equal(r.lost.count, 0);
    assert.equal(r.valid, true);
    assert.equal(r.finalReadsDisagree.count, 1);
    assert.deepEqual(r.finalReadsDisagree.examples[0]!.nodes.map((n) => n.missing), [0, 1, 1]);
  });

  it('classifies indeterminate adds as present or absent, including adds never completed', () => {
    const never = call(2, 'add', 'k', 3, 30, 40, 'info')[0]; // invoke only
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'info'), call(1, 'add', 'k', 2, 5, 20, 'info'), [never]);
    const r = checkSet(h, finals('k', [1, 3]), []);
    assert.equal(r.indeterminate, 3);
    assert.equal(r.indeterminatePresent, 2);
    assert.equal(r.indeterminateAbsent, 1);
    assert.equal(r.valid, true);
  });

  it('flags elements never attempted and failed adds that are present', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(1, 'add', 'k', 2, 5, 20, 'fail', { status: 'ECONNREFUSED' }));
    const r = checkSet(h, finals('k', [1, 2, 99], [1, 2]), []);
    assert.equal(r.valid, false);
    assert.equal(r.unexpected.count, 1);
    assert.deepEqual(r.unexpected.examples[0], { key: 'k', element: 99, nodes: ['n1'] });
    assert.equal(r.failedPresent.count, 1);
    assert.equal(r.failedPresent.examples[0]!.element, 2);
    assert.equal(r.failedPresent.examples[0]!.status, 'ECONNREFUSED');
  });

  it('an element added twice counts by its best outcome: one ok attempt makes it acknowledged', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'fail'), call(0, 'add', 'k', 1, 11, 20, 'ok'));
    const r = checkSet(h, finals('k', [1]), []);
    assert.equal(r.failedPresent.count, 0);
    assert.equal(r.acknowledged, 1);
    assert.equal(r.valid, true);
  });

  it('is invalid when a key with acknowledged adds has no successful final read', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'));
    const r = checkSet(h, [{ key: 'k', node: 'n1', status: 503, value: null }], []);
    assert.equal(r.valid, false);
    assert.deepEqual(r.unreadKeys, ['k']);
    assert.equal(r.lost.count, 0);
    assert.equal(r.finalReadErrors.length, 1);
  });

  it('treats a 404 final read as an empty set', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'));
    const r = checkSet(h, [{ key: 'k', node: 'n1', status: 404, value: null }], []);
    assert.equal(r.lost.count, 1);
  });

  it('finds stale reads and classifies them inside or outside fault windows', () => {
    const h = history(
      call(0, 'add', 'k', 1, 0, 10, 'ok'),
      call(0, 'add', 'k', 2, 20, 30, 'ok'),
      // Outside faults: invoked at 40, after both acks, sees only 1: stale.
      call(1, 'read', 'k', [1], 40, 45, 'ok', { node: 'n2' }),
      // Invoked at 25, before the ack of 2 at 30: not stale.
      call(2, 'read', 'k', [1], 25, 50, 'ok'),
      // Inside the partition [100, 200]: sees nothing, stale.
      call(1, 'read', 'k', [], 150, 160, 'ok'),
      // Straddling the window's end: overlaps it, so inside.
      call(2, 'read', 'k', [2], 195, 210, 'ok'),
      // After the window, complete: fine.
      call(1, 'read', 'k', [1, 2], 300, 310, 'ok'),
      // A failed read is not checked.
      call(2, 'read', 'k', null, 300, 310, 'fail'),
    );
    const r = checkSet(h, finals('k', [1, 2]), [fault('partition', 100, 200)]);
    assert.equal(r.valid, true, 'stale reads never invalidate');
    assert.equal(r.staleReads.outsideFaults.count, 1);
    assert.equal(r.staleReads.outsideFaults.reads, 3);
    assert.deepEqual(r.staleReads.outsideFaults.examples[0], {
      process: 1, key: 'k', node: 'n2', invokeMs: 40, completeMs: 45, missingCount: 1,
      missing: [{ element: 2, ackMs: 30, ackedDuringFault: false }], faults: [],
    });
    assert.equal(r.staleReads.insideFaults.count, 2);
    assert.equal(r.staleReads.insideFaults.reads, 2);
    assert.equal(r.staleReads.insideFaults.examples[0]!.missingCount, 2);
    assert.deepEqual(r.staleReads.insideFaults.examples[1]!.faults, ['partition']);
  });

  it('does not count an add acknowledged at the very millisecond the read was invoked (concurrent)', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(1, 'read', 'k', [], 10, 15, 'ok'), call(1, 'read', 'k', [], 16, 20, 'ok'));
    const r = checkSet(h, finals('k', [1]), []);
    assert.equal(r.staleReads.outsideFaults.reads, 2);
    assert.equal(r.staleReads.outsideFaults.count, 1);
    assert.equal(r.staleReads.outsideFaults.examples[0]!.invokeMs, 16);
  });

  it('counts an element read twice once', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(0, 'add', 'k', 2, 10, 12, 'ok'), call(1, 'read', 'k', [1, 1], 20, 25, 'ok'));
    const r = checkSet(h, finals('k', [1, 2]), []);
    assert.equal(r.staleReads.outsideFaults.count, 1);
    assert.equal(r.staleReads.outsideFaults.examples[0]!.missingCount, 1);
  });

  it('treats a window still open at the end as lasting forever', () => {
    const h = history(call(0, 'add', 'k', 1, 0, 10, 'ok'), call(1, 'read', 'k', [], 5000, 5010, 'ok'));
    const r = checkSet(h, finals('k', [1]), [fault('kill', 1000, undefined)]);
    assert.equal(r.staleReads.insideFaults.count, 1);
    assert.equal(r.staleReads.outsideFaults.count, 0);
  });
});
