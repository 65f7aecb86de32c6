// Ring properties (Dynamo section 4.2 and 6.2, strategy 3): balanced claims, N distinct
// primaries per preference list, determinism, and a stable key -> partition mapping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRing, keyHash32, partitionOf, preferenceList } from '../../src/core/ring.js';
import { asNodeId, asPartitionId } from '../../src/core/types.js';

const membersOf = (count: number) => Array.from({ length: count }, (_, i) => asNodeId(`node-${i}`));
const arbRing = fc.record({
  members: fc.integer({ min: 1, max: 20 }),
  partitions: fc.constantFrom(8, 64, 1024),
  n: fc.integer({ min: 1, max: 5 }),
});

describe('ring', () => {
  it('every member claims floor(Q/M) or ceil(Q/M) partitions', () => {
    fc.assert(
      fc.property(arbRing, ({ members, partitions, n }) => {
        const ring = createRing(membersOf(members), partitions, n);
        const counts = new Map<string, number>();
        for (const o of ring.owners) counts.set(o, (counts.get(o) ?? 0) + 1);
        const lo = Math.floor(partitions / members);
        const hi = Math.ceil(partitions / members);
        for (const id of ring.members) {
          const c = counts.get(id) ?? 0;
          assert.ok(c === lo || c === hi, `${id} owns ${c}, expected ${lo}..${hi}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('every preference list has min(N, M) distinct primaries, then every other member as a fallback', () => {
    fc.assert(
      fc.property(arbRing, ({ members, partitions, n }) => {
        const ring = createRing(membersOf(members), partitions, n);
        for (let p = 0; p < partitions; p++) {
          const { primaries, fallbacks } = preferenceList(ring, asPartitionId(p));
          assert.equal(primaries.length, Math.min(n, members));
          assert.equal(new Set(primaries).size, primaries.length);
          assert.equal(primaries[0], ring.owners[p], 'the claimant comes first');
          assert.deepEqual([...primaries, ...fallbacks].sort(), [...ring.members].sort());
        }
      }),
      { numRuns: 200 },
    );
  });

  it('any N consecutive partitions have N distinct owners when M divides Q', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4, 8, 16), fc.constantFrom(8, 64, 1024), fc.integer({ min: 1, max: 5 }), (m, q, n) => {
        const ring = createRing(membersOf(m), q, n);
        const size = Math.min(n, m);
        for (let p = 0; p < q; p++) {
          const window = Array.from({ length: size }, (_, i) => ring.owners[(p + i) % q]);
          assert.equal(new Set(window).size, size);
        }
      }),
    );
  });

  it('is deterministic: the same members in any order give the same ring', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(membersOf(12), { minLength: 1 }), fc.constantFrom(8, 64), (members, q) => {
        const a = createRing(members, q, 3);
        const b = createRing([...members].reverse(), q, 3);
        assert.deepEqual(a, b);
      }),
    );
  });

  it('maps keys by the top bits of SHA-1, stable across versions', () => {
    // Fixed vectors: changing the hash would move every key of every existing cluster.
    assert.equal(keyHash32('foo'), 0x0beec7b5);
    const ring = createRing(membersOf(3), 64, 3);
    assert.equal(partitionOf(ring, 'foo'), 0x0beec7b5 >>> 26);
    assert.equal(partitionOf(createRing(membersOf(3), 8, 3), ''), 0xda39a3ee >>> 29);
  });

  it('spreads keys evenly over partitions', () => {
    const ring = createRing(membersOf(3), 64, 3);
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[partitionOf(ring, `key-${i}`)]!++;
    assert.ok(Math.min(...counts) > 800 && Math.max(...counts) < 1200, `${Math.min(...counts)}..${Math.max(...counts)}`);
  });

  it('refuses bad parameters', () => {
    assert.throws(() => createRing(membersOf(3), 48, 3), /power of two/);
    assert.throws(() => createRing([], 64, 3), /at least one member/);
    assert.throws(() => createRing(membersOf(3), 64, 0), /positive integer/);
  });
});
