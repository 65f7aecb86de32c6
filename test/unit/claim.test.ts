// Partition claim (src/core/claim.ts) over random join and leave sequences: balanced (every member
// owns floor or ceil of Q/M), owners are members, moves are the minimum any balanced claim needs
// (computed here independently), preference lists keep min(N, M) distinct primaries, and the
// result depends only on the ring and the member set.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { claim, claimViolations } from '../../src/core/claim.js';
import { createRing, walkReplicas } from '../../src/core/ring.js';
import { asNodeId, asPartitionId, type NodeId } from '../../src/core/types.js';

const ids = (count: number, from = 1) => Array.from({ length: count }, (_, i) => asNodeId(`n${from + i}`));

/** The fewest moves to a balanced claim: keep min(held, floor) each, plus one more for up to Q mod M members holding more. */
function fewestMoves(owners: readonly NodeId[], members: readonly NodeId[]): number {
  const floor = Math.floor(owners.length / members.length);
  const extra = owners.length % members.length;
  const held = members.map((m) => owners.filter((o) => o === m).length);
  const kept = held.reduce((sum, h) => sum + Math.min(h, floor), 0) + Math.min(extra, held.filter((h) => h > floor).length);
  return owners.length - kept;
}

function checkPlan(before: readonly NodeId[], members: readonly NodeId[], n: number): readonly NodeId[] {
  const plan = claim(before, members, n);
  const q = before.length;
  const counts = members.map((m) => plan.owners.filter((o) => o === m).length);
  assert.ok(counts.every((c) => c === Math.floor(q / members.length) || c === Math.ceil(q / members.length)), `unbalanced: ${counts}`);
  assert.ok(plan.owners.every((o) => members.includes(o)), 'every owner is a member');
  assert.equal(plan.moved, plan.owners.filter((o, p) => o !== before[p]).length);
  assert.equal(plan.movedMin, fewestMoves(before, members), 'movedMin is the true minimum');
  assert.equal(plan.moved, plan.movedMin);
  for (let p = 0; p < q; p++) assert.equal(new Set(walkReplicas(plan.owners, asPartitionId(p), n)).size, Math.min(n, members.length));
  return plan.owners;
}

describe('claim', () => {
  it('stays balanced, minimal and well-formed over random joins and leaves', () => {
    const arbStep = fc.record({ join: fc.boolean(), pick: fc.nat() });
    fc.assert(
      fc.property(fc.constantFrom(8, 16, 64, 256), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.array(arbStep, { maxLength: 12 }), (q, m0, n, steps) => {
        let members = ids(m0);
        let owners: readonly NodeId[] = createRing(members, q, n).owners;
        let next = m0 + 1;
        for (const { join, pick } of steps) {
          if (join || members.length === 1) members = [...members, asNodeId(`n${next++}`)];
          else members = members.filter((_, i) => i !== pick % members.length);
          owners = checkPlan(owners, members, n);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('moves nothing when the members and balance are unchanged, and ignores the order members are given in', () => {
    const members = ids(5);
    const owners = createRing(members, 64, 3).owners;
    assert.equal(claim(owners, members, 3).moved, 0);
    const grown = [...members, asNodeId('n6')];
    assert.deepEqual(claim(owners, grown, 3).owners, claim(owners, [...grown].reverse(), 3).owners);
  });

  it('grows 3 -> 4 -> 5 and back on 64 partitions moving only the minimum, keeping lists spread', () => {
    const n = 3;
    let owners: readonly NodeId[] = createRing(ids(3), 64, n).owners;
    const moves: number[] = [];
    const violations: number[] = [];
    for (const members of [ids(4), ids(5), ids(4), ids(3)]) {
      const plan = claim(owners, members, n);
      moves.push(plan.moved);
      owners = plan.owners;
      violations.push(claimViolations(owners, n));
    }
    // 3 -> 4: 64/4 = 16 each, so 5 or 6 leave each old member: 16 in all; 4 -> 5: 12 or 13 to the new one.
    assert.deepEqual(moves, [16, 12, 12, 16]);
    console.log(`# windows of 3 with a repeated owner after each step: ${violations.join(', ')} (of 64)`);
    assert.ok(violations.every((v) => v <= 8), `preference lists crowded: ${violations}`);
  });

  it('takes every partition away from a member that leaves', () => {
    const owners = createRing(ids(4), 32, 3).owners;
    const plan = claim(owners, ids(3), 3);
    assert.ok(!plan.owners.includes(asNodeId('n4')));
    assert.equal(plan.moved, 8);
  });
});
