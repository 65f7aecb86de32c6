// r/w/pr/pw forms (docs/api.md: 1..N | one | quorum | all) and their resolution against the membership.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrimaryQuorum, parseQuorum, resolveQuorum } from '../../src/core/quorum.js';
import { KvError } from '../../src/core/errors.js';

const isInvalidQuorum = (e: unknown) => e instanceof KvError && e.code === 'invalid_quorum';

describe('quorum', () => {
  it('accepts 1..N and the named forms', () => {
    assert.deepEqual(['1', '2', '3', 'one', 'quorum', 'all'].map((r) => parseQuorum(r, 3, 'r')), [1, 2, 3, 'one', 'quorum', 'all']);
    assert.equal(parseQuorum('0', 3, 'pr', true), 0);
  });

  it('refuses 0, more than N, and anything else', () => {
    for (const bad of ['0', '4', '-1', '1.5', 'abc', '', 'ALL', ' 1', '01x', '99999']) {
      assert.throws(() => parseQuorum(bad, 3, 'w'), isInvalidQuorum, bad);
    }
    assert.throws(() => parseQuorum('4', 3, 'pw', true), isInvalidQuorum);
  });

  it('resolves named forms against min(N, members), numbers literally', () => {
    assert.deepEqual(['one', 'quorum', 'all'].map((s) => resolveQuorum(s as 'one', 3, 5)), [1, 2, 3]);
    assert.deepEqual(['one', 'quorum', 'all'].map((s) => resolveQuorum(s as 'one', 3, 1)), [1, 1, 1]);
    assert.deepEqual(['one', 'quorum', 'all'].map((s) => resolveQuorum(s as 'one', 5, 4)), [1, 3, 4]);
    assert.equal(resolveQuorum(3, 3, 2), 3, 'a number is never silently lowered');
  });

  it('pr/pw may not exceed r/w', () => {
    assert.doesNotThrow(() => checkPrimaryQuorum(2, 'quorum', 3, ['pr', 'r']));
    assert.throws(() => checkPrimaryQuorum(3, 2, 3, ['pw', 'w']), isInvalidQuorum);
    assert.throws(() => checkPrimaryQuorum('quorum', 'one', 3, ['pr', 'r']), isInvalidQuorum);
  });
});
