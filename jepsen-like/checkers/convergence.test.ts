import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkConvergence } from './convergence.js';
import type { ReplicaVersion } from '../history.js';

const versions = (key: string, ...v: (string | null)[]): ReplicaVersion[] => v.map((version, i) => ({ key, node: `n${i + 1}`, version }));

describe('convergence checker', () => {
  it('is valid when converged and every copy has the same version', () => {
    const r = checkConvergence({ n: 3 }, [...versions('a', 'v1', 'v1', 'v1'), ...versions('b', 'v2', 'v2', 'v2')], 1234);
    assert.equal(r.valid, true);
    assert.equal(r.converged, true);
    assert.equal(r.convergenceMs, 1234);
    assert.equal(r.keys, 2);
    assert.equal(r.keysDiverged.count, 0);
  });

  it('detects differing versions, ignoring nodes without a copy', () => {
    const r = checkConvergence({ n: 3 }, [...versions('a', 'v1', 'v2', 'v1'), ...versions('b', 'v2', null, 'v2', 'v2')], 500);
    assert.equal(r.valid, false);
    assert.equal(r.keysDiverged.count, 1);
    assert.equal(r.keysDiverged.examples[0]!.key, 'a');
    assert.equal(r.keysDiverged.examples[0]!.distinct, 2);
    assert.equal(r.keysUnderReplicated.count, 0);
  });

  it('is invalid when the runner saw no convergence', () => {
    const r = checkConvergence({ n: 3 }, versions('a', 'v1', 'v1', 'v1'), null);
    assert.equal(r.converged, false);
    assert.equal(r.valid, false);
  });

  it('reports keys with fewer than N copies, and keys with none', () => {
    const r = checkConvergence({ n: 3 }, [...versions('a', 'v1', null, 'v1'), ...versions('b', null, null, null)], 10);
    assert.equal(r.valid, true);
    assert.deepEqual(r.keysUnderReplicated.examples, [{ key: 'a', copies: 2 }]);
    assert.deepEqual(r.keysMissing, ['b']);
  });
});
