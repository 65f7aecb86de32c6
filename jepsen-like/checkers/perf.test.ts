import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPerf, percentile, percentiles } from './perf.js';
import { call, fault, history } from './test-helpers.js';

describe('perf checker', () => {
  it('computes nearest-rank percentiles on a known list', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    const p = percentiles(values)!;
    assert.deepEqual({ ...p }, { count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([1, 2, 3, 4], 51), 3);
    assert.equal(percentile([], 50), undefined);
    assert.equal(percentiles([]), null);
  });

  it('counts outcomes and rates per f, and splits by fault window', () => {
    const h = history(
      call(0, 'add', 'k', 1, 0, 10, 'ok'),
      call(0, 'add', 'k', 2, 1000, 1020, 'ok'),
      call(1, 'read', 'k', [1], 500, 505, 'ok'),
      // inside the kill [2000, 4000]
      call(0, 'add', 'k', 3, 2500, 3500, 'info'),
      call(1, 'read', 'k', null, 2100, 2200, 'fail'),
      call(1, 'read', 'k', [1], 3990, 4100, 'ok'), // invoked inside: belongs to the window
      // never completes
      [call(2, 'add', 'k', 4, 9000, 9001, 'ok')[0]],
    );
    const r = checkPerf({ timeSec: 10 }, h, [fault('kill', 2000, 4000)]);
    assert.equal(r.durationMs, 10_000);
    const add = r.overall.byF.find((s) => s.f === 'add')!;
    assert.deepEqual([add.ok, add.fail, add.info, add.total], [2, 0, 2, 4]);
    assert.equal(add.okPerSec, 0.2);
    assert.equal(add.latency!.count, 3, 'the never-completed add has no latency');
    assert.equal(add.latency!.max, 1000);
    assert.equal(add.okLatency!.max, 20);
    assert.equal(r.overall.all.total, 7);

    assert.equal(r.faults.length, 1);
    const kill = r.faults[0]!;
    assert.equal(kill.durationMs, 2000);
    assert.equal(kill.all.total, 3);
    assert.deepEqual(kill.byF.map((s) => [s.f, s.ok, s.fail, s.info]), [['add', 0, 0, 1], ['read', 1, 1, 0]]);
    assert.equal(kill.all.totalPerSec, 1.5);

    assert.equal(r.noFault.durationMs, 8000);
    assert.equal(r.noFault.all.total, 4);
    assert.equal(r.noFault.all.latency!.max, 20);
  });

  it('a window open at the end lasts until the end of the run; overlapping windows are counted once in the fault-free time', () => {
    const r = checkPerf({ timeSec: 10 }, [], [fault('partition', 1000, 5000), fault('kill', 4000, undefined)]);
    assert.equal(r.faults[1]!.endMs, 10_000);
    assert.equal(r.faults[1]!.durationMs, 6000);
    assert.equal(r.noFault.durationMs, 1000);
  });
});
