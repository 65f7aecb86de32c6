// The churn-key checker: an acknowledged overwrite or delete supersedes every version its context
// covered, so a replica still holding one after convergence is a violation; versions the context
// did not cover (concurrent writes, later writes), and unacknowledged operations, are not.
// Run: node --import tsx --test jepsen-like/checkers/supersession.test.ts
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeContext } from '../../src/core/context-token.js';
import type { ActorId } from '../../src/core/types.js';
import type { Op } from '../history.js';
import { checkSupersession, type ChurnCopy } from './supersession.js';

const a = 'n1.aa' as ActorId;
const b = 'n2.bb' as ActorId;
const ctx = (vv: [ActorId, number][]) => encodeContext({ vv, cloud: [] }, 'churn-0');
const op = (type: Op['type'], f: Op['f'], sentContext: string | undefined, timeMs = 10): Op => ({
  process: 1, type, f, key: 'churn-0', value: null, timeMs, node: 'n1', ...(sentContext === undefined ? {} : { sentContext }),
});
const copy = (node: string, ...dots: string[]): ChurnCopy => ({ key: 'churn-0', node, siblings: dots.map((dot) => ({ dot, deleted: false })) });

describe('supersession checker', () => {
  it('flags a replica still holding a version an acknowledged delete covered', () => {
    const r = checkSupersession([op('ok', 'delete', ctx([[a, 5]]), 42)], [copy('n1'), copy('n2', 'n1.aa:5')]);
    assert.equal(r.valid, false);
    assert.equal(r.resurrected.count, 1);
    assert.deepEqual(r.resurrected.examples[0], { key: 'churn-0', node: 'n2', dot: 'n1.aa:5', deleted: false, by: { f: 'delete', process: 1, ackMs: 42 } });
  });

  it('accepts versions the context did not cover: concurrent and later writes', () => {
    const r = checkSupersession([op('ok', 'write', ctx([[a, 5]]))], [copy('n1', 'n1.aa:6', 'n2.bb:1'), copy('n2', 'n1.aa:6', 'n2.bb:1')]);
    assert.equal(r.valid, true);
    assert.equal(r.acknowledged, 1);
    assert.equal(r.copies, 2);
  });

  it('ignores operations that were not acknowledged, and ones sent without a context', () => {
    const history = [op('info', 'delete', ctx([[a, 5]])), op('fail', 'write', ctx([[a, 5], [b, 3]])), op('ok', 'write', undefined)];
    const r = checkSupersession(history, [copy('n1', 'n1.aa:5', 'n2.bb:2')]);
    assert.equal(r.valid, true);
    assert.equal(r.acknowledged, 0);
  });
});
