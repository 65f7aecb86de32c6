// The membership steps (src/core/membership-plan.ts) as pure functions over ring content: staging
// checks, the plan a commit makes (balanced, N distinct replicas, minimal claim moves), switching
// and cancelling moving partitions, leaving members removed once nothing moves, the claimant
// handed on. Random join/leave sequences keep every invariant.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KvError } from '../../src/core/errors.js';
import { cancelPartition, incomingOf, movingPartitions, planOf, stage, switchPartition } from '../../src/core/membership-plan.js';
import { checkRingContent, type RingContent } from '../../src/core/ring-state.js';
import { genesisOfIds } from '../../src/core/ring-view.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';

const id = asNodeId;
const allUp = { isUp: () => true, force: false };
const allDown = { isUp: () => false, force: false };

function cluster(size: number, partitions = 64, n = 3): RingContent {
  return genesisOfIds(Array.from({ length: size }, (_, i) => id(`n${i + 1}`)), partitions, n);
}

/** Adds a joining member, as `register` does. */
function withJoining(ring: RingContent, node: string): RingContent {
  const members = [...ring.members, { id: id(node), url: `http://${node}`, status: 'joining' as const }].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { ...ring, members };
}

/** Commits the staged changes, then switches every moving partition: the ring after the transfers. */
function commitAndMove(ring: RingContent): RingContent {
  const committed = planOf(ring).content;
  return movingPartitions(committed).reduce(switchPartition, committed);
}

const refusedWith = (pattern: RegExp) => (e: unknown) => e instanceof KvError && e.code === 'membership_refused' && pattern.test(e.message);

describe('membership plan', () => {
  it('a join: the plan moves the minimum, the joiner receives, the old replicas keep serving until the switch', () => {
    const ring = stage(withJoining(cluster(3), 'n4'), { kind: 'join', node: id('n4') }, allUp);
    const { content, report } = planOf(ring);
    checkRingContent(content);
    assert.equal(report.ownersMoved, 16);
    assert.equal(report.ownersMovedMin, 16);
    assert.deepEqual(report.members.map((m) => [m.id, m.before]), [['n1', 64], ['n2', 64], ['n3', 64], ['n4', 0]]);
    assert.equal(report.members.reduce((sum, m) => sum + m.after, 0), 64 * 3, 'N replicas of every partition after');
    assert.ok(report.members.every((m) => m.after >= 44 && m.after <= 52), `about 3/4 of the partitions each: ${report.members.map((m) => m.after)}`);
    const moving = movingPartitions(content);
    assert.equal(report.partitionsMoving, moving.length);
    for (const p of moving) {
      assert.deepEqual(incomingOf(content, p), [id('n4')], 'only the joiner receives');
      assert.deepEqual(content.replicas[p], ring.replicas[p], 'the old replicas still serve');
    }
    const after = moving.reduce(switchPartition, content);
    assert.deepEqual(movingPartitions(after), []);
    assert.ok(after.replicas.every((r) => r.length === 3 && new Set(r).size === 3));
  });

  it('a leave: the member is leaving until its partitions have moved, then removed; the claimant is handed on', () => {
    const ring = stage(cluster(4), { kind: 'leave', node: id('n1') }, allUp);
    const committed = planOf(ring).content;
    assert.equal(committed.members.find((m) => m.id === 'n1')?.status, 'leaving');
    assert.equal(committed.claimant, 'n1', 'a leaving claimant still serves as claimant');
    assert.ok(committed.target.every((t) => !t.includes(id('n1'))));
    const moved = movingPartitions(committed).reduce(switchPartition, committed);
    assert.equal(moved.members.find((m) => m.id === 'n1')?.status, 'removed');
    assert.equal(moved.claimant, 'n2', 'the first valid member by id takes over');
    assert.ok(moved.replicas.every((r) => !r.includes(id('n1'))));
  });

  it('a replace gives the new node exactly the old one\'s partitions', () => {
    const ring = stage(withJoining(cluster(4), 'n9'), { kind: 'replace', node: id('n2'), by: id('n9') }, allUp);
    const { content, report } = planOf(ring);
    assert.equal(report.ownersMoved, report.ownersMovedMin);
    content.owners.forEach((o, p) => assert.equal(o, ring.owners[p] === 'n2' ? 'n9' : ring.owners[p]));
    const after = movingPartitions(content).reduce(switchPartition, content);
    after.replicas.forEach((r, p) => assert.deepEqual(r, ring.replicas[p]!.map((x) => (x === 'n2' ? id('n9') : x))));
  });

  it('a remove takes the node out of every replica set at commit; its partitions refill from the survivors', () => {
    const ring = stage(cluster(4), { kind: 'remove', node: id('n4') }, allDown);
    const committed = planOf(ring).content;
    assert.equal(committed.members.find((m) => m.id === 'n4')?.status, 'removed');
    assert.ok(committed.replicas.every((r) => !r.includes(id('n4')) && r.length >= 2));
    for (const p of movingPartitions(committed)) assert.equal(incomingOf(committed, p).length, 3 - committed.replicas[p]!.length);
  });

  it('a cancel puts the partition back on its current replicas; the joiner is left holding nothing there', () => {
    const ring = planOf(stage(withJoining(cluster(3), 'n4'), { kind: 'join', node: id('n4') }, allUp)).content;
    const [first, ...rest] = movingPartitions(ring);
    const cancelled = cancelPartition(ring, first!);
    assert.deepEqual(cancelled.target[first!], ring.replicas[first!]);
    assert.deepEqual(movingPartitions(cancelled), rest);
  });

  it('refuses bad changes and changes nothing', () => {
    const ring = withJoining(cluster(3), 'n4');
    assert.throws(() => stage(ring, { kind: 'join', node: id('n9') }, allUp), refusedWith(/n9 is not a member/));
    assert.throws(() => stage(ring, { kind: 'join', node: id('n2') }, allUp), refusedWith(/n2 is valid, not joining/));
    assert.throws(() => stage(ring, { kind: 'leave', node: id('n4') }, allUp), refusedWith(/n4 is joining: only a valid member can leave/));
    assert.throws(() => stage(ring, { kind: 'replace', node: id('n1'), by: id('n2') }, allUp), refusedWith(/n2 must be a node started with --join/));
    const four = cluster(4);
    assert.throws(() => stage(four, { kind: 'remove', node: id('n3') }, allUp), refusedWith(/n3 is up/));
    assert.doesNotThrow(() => stage(four, { kind: 'remove', node: id('n3') }, { isUp: () => true, force: true }));
    assert.throws(() => stage(ring, { kind: 'leave', node: id('n3') }, allUp), refusedWith(/leaves 2 valid members, fewer than N=3/));
    const staged = stage(ring, { kind: 'join', node: id('n4') }, allUp);
    assert.throws(() => stage(staged, { kind: 'join', node: id('n4') }, allUp), refusedWith(/already staged/));
    assert.throws(() => planOf(ring), refusedWith(/nothing is staged/));
    const moving = planOf(staged).content;
    assert.throws(() => planOf(stage(withJoining(moving, 'n5'), { kind: 'join', node: id('n5') }, allUp)), refusedWith(/still moving/));
  });

  it('random join and leave sequences keep the ring well-formed, balanced and minimal', () => {
    const arbStep = fc.record({ join: fc.boolean(), pick: fc.nat() });
    fc.assert(
      fc.property(fc.constantFrom(16, 64), fc.integer({ min: 3, max: 5 }), fc.array(arbStep, { maxLength: 6 }), (q, m0, steps) => {
        let ring = cluster(m0, q);
        let next = m0 + 1;
        for (const { join, pick } of steps) {
          const valid = ring.members.filter((m) => m.status === 'valid').map((m) => m.id);
          if (!join && valid.length <= 3) continue;
          const node: NodeId = join ? id(`n${next++}`) : valid[pick % valid.length]!;
          const base = join ? withJoining(ring, node) : ring;
          const { content, report } = planOf(stage(base, { kind: join ? 'join' : 'leave', node }, allUp));
          assert.equal(report.ownersMoved, report.ownersMovedMin);
          checkRingContent(content);
          ring = movingPartitions(content).reduce(switchPartition, content);
          checkRingContent(ring);
          const counts = ring.members.filter((m) => m.status === 'valid').map((m) => ring.owners.filter((o) => o === m.id).length);
          const size = counts.length;
          assert.ok(counts.every((c) => c === Math.floor(q / size) || c === Math.ceil(q / size)), `balanced: ${counts}`);
          assert.ok(ring.replicas.every((r) => r.length === 3 && new Set(r).size === 3));
          assert.ok(ring.members.every((m) => m.status !== 'leaving'), 'nothing left leaving once every partition moved');
        }
      }),
      { numRuns: 60 },
    );
  });

  it('commitAndMove of a join then a leave of the same node gets back to a balanced three-member ring', () => {
    const grown = commitAndMove(stage(withJoining(cluster(3), 'n4'), { kind: 'join', node: id('n4') }, allUp));
    const shrunk = commitAndMove(stage(grown, { kind: 'leave', node: id('n4') }, allUp));
    assert.ok(shrunk.replicas.every((r) => [...r].sort().join() === 'n1,n2,n3'));
  });
});
