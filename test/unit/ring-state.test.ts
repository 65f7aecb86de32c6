// The versioned ring (src/core/ring-state.ts): random histories of changes and gossip between
// nodes. Merging is commutative, associative and idempotent; a change made after hearing of
// another wins over it; nodes that heard the same rings hold the same ring; bad content is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvariantError } from '../../src/core/errors.js';
import { genesisRing, madeAfter, mergeRings, nextRing, settledContent, type RingContent, type RingState } from '../../src/core/ring-state.js';
import { asNodeId } from '../../src/core/types.js';

const nodes = ['n1', 'n2', 'n3', 'n4'].map(asNodeId);
const partitions = 8;
const base: RingContent = settledContent({
  claimant: nodes[0]!,
  partitions,
  n: 3,
  members: nodes.map((id) => ({ id, url: `http://127.0.0.1/${id}`, status: 'valid' as const })),
  owners: Array.from({ length: partitions }, (_, p) => nodes[p % nodes.length]!),
});

/** Each step: node `who` changes the ring (gives partition `p` to `to`) or hears node `from`'s ring. */
const arbStep = fc.oneof(
  fc.record({ kind: fc.constant('change' as const), who: fc.nat(3), p: fc.nat(partitions - 1), to: fc.nat(3) }),
  fc.record({ kind: fc.constant('hear' as const), who: fc.nat(3), from: fc.nat(3) }),
);
type Step = typeof arbStep extends fc.Arbitrary<infer T> ? T : never;

/** Every ring each node held, in order, after running `steps` from the genesis ring. */
function run(steps: readonly Step[]): { held: RingState[]; all: RingState[] } {
  const held = nodes.map(() => genesisRing(base));
  const all: RingState[] = [...held];
  for (const step of steps) {
    const mine = held[step.who]!;
    if (step.kind === 'change') {
      const owners = mine.owners.map((o, p) => (p === step.p ? nodes[step.to]! : o));
      held[step.who] = nextRing(mine, nodes[step.who]!, { ...base, owners });
    } else held[step.who] = mergeRings(mine, held[step.from]!);
    all.push(held[step.who]!);
  }
  return { held, all };
}

describe('ring state', () => {
  it('merging is commutative, associative and idempotent over rings from random histories', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 30 }), fc.nat(), fc.nat(), fc.nat(), (steps, i, j, k) => {
        const { all } = run(steps);
        const [a, b, c] = [all[i % all.length]!, all[j % all.length]!, all[k % all.length]!];
        assert.deepEqual(mergeRings(a, b), mergeRings(b, a));
        assert.deepEqual(mergeRings(mergeRings(a, b), c), mergeRings(a, mergeRings(b, c)));
        assert.deepEqual(mergeRings(a, a), a);
      }),
      { numRuns: 300 },
    );
  });

  it('after everyone hears everyone, all nodes hold the same ring, and it is one of the rings made', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 40 }), (steps) => {
        const { held, all } = run(steps);
        const final = held.reduce(mergeRings);
        for (const ring of held) assert.deepEqual(mergeRings(ring, final), final);
        assert.ok(all.some((r) => JSON.stringify(r.owners) === JSON.stringify(final.owners) && JSON.stringify(r.version) === JSON.stringify(final.version)));
      }),
      { numRuns: 200 },
    );
  });

  it('a change made after hearing of another wins over it, whatever else was heard', () => {
    const n1 = nodes[0]!;
    const n2 = nodes[1]!;
    const genesis = genesisRing(base);
    const first = nextRing(genesis, n1, { ...base, owners: base.owners.map(() => n1) });
    const concurrent = nextRing(nextRing(genesis, n2, base), n2, { ...base, owners: base.owners.map(() => n2) }); // more changes, but unaware of `first`
    const heard = mergeRings(genesisRing(base), first);
    const later = nextRing(heard, n2, { ...base, owners: base.owners.map(() => nodes[2]!) });
    assert.ok(madeAfter(later, first));
    assert.deepEqual(mergeRings(first, later).owners, later.owners);
    assert.deepEqual(mergeRings(later, first).owners, later.owners);
    // Unaware of each other: one wins whole, the same one wherever the merge happens.
    const settled = mergeRings(first, concurrent);
    assert.deepEqual(settled, mergeRings(concurrent, first));
    assert.ok([first.owners, concurrent.owners].some((o) => JSON.stringify(o) === JSON.stringify(settled.owners)));
    assert.deepEqual(settled.seen, [[n1, 1], [n2, 2]]);
  });

  it('refuses content out of shape', () => {
    const bad = (content: Partial<RingContent>) => () => nextRing(genesisRing(base), nodes[0]!, { ...base, ...content });
    const refused = (pattern: RegExp) => (e: unknown) => e instanceof InvariantError && pattern.test(e.message);
    assert.throws(bad({ owners: base.owners.slice(1) }), refused(/7\/8\/8 owners\/replicas\/targets for 8 partitions/));
    assert.throws(bad({ claimant: asNodeId('n9') }), refused(/claimant n9 is not a member/));
    assert.throws(bad({ members: [...base.members].reverse() }), refused(/not sorted/));
    const joining = base.members.map((m) => (m.id === nodes[3] ? { ...m, status: 'joining' as const } : m));
    assert.throws(bad({ members: joining }), refused(/owned by a member that is not valid/));
    const repeated = base.replicas.map((r, p) => (p === 0 ? [r[0]!, r[0]!] : r));
    assert.throws(bad({ replicas: repeated }), refused(/replica set that is empty, too large, repeats a node/));
    assert.throws(bad({ target: base.target.map(() => []) }), refused(/target replica set that is empty/));
    assert.throws(() => mergeRings(genesisRing(base), genesisRing({ ...base, owners: base.owners.map(() => nodes[0]!) })), refused(/same version/));
  });
});

