// Tictac Merkle trees (Riak kv_tictacaae; Dynamo section 4.7): XOR levels make the tree a function
// of the (key, digest) set alone; the top-down walk finds exactly the keys that differ, touching
// leaves in proportion to the differences, not to the keys stored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addDot, emptyObject, sameVersion, sync, update } from '../../src/core/dvv.js';
import {
  bucketOf,
  compareTrees,
  diffHashes,
  diffKeys,
  keyHash,
  merkleBranches,
  merkleBranchWidth,
  merkleLeaves,
  objectDigest,
  PartitionTree,
  type RemoteTree,
} from '../../src/core/merkle.js';
import { keyHash32 } from '../../src/core/ring.js';
import type { ActorId, Dot, VersionedObject } from '../../src/core/types.js';

const actors = ['n1.a', 'n2.b', 'n3.c'] as ActorId[];
const value = (s: string) => ({ kind: 'value' as const, data: new TextEncoder().encode(s), contentType: 'text/plain' });
const tombstone = { kind: 'tombstone' as const, deletedAtMs: 0 };
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function build(entries: Iterable<readonly [string, string]>): PartitionTree {
  const tree = new PartitionTree();
  for (const [key, digest] of entries) tree.apply(key, tree.digestOf(key), digest);
  return tree;
}

function snapshot(tree: PartitionTree) {
  return {
    root: tree.root(),
    branches: tree.branches(),
    leaves: range(merkleBranches).flatMap((b) => tree.leavesOf(b)),
    keys: range(merkleLeaves).map((l) => tree.keysIn(l)),
    size: tree.size,
  };
}

/** The comparison anti-entropy runs (compareTrees), against `theirs` in this process, recording what it asked. */
async function walk(ours: PartitionTree, theirs: PartitionTree): Promise<{ branches: number[]; leaves: number[]; keys: string[] }> {
  if (ours.root() === theirs.root()) return { branches: [], leaves: [], keys: [] };
  const asked = { branches: [] as number[], leaves: [] as number[] };
  const remote: RemoteTree = {
    branches: async () => theirs.branches(),
    leavesOf: async (branches) => (asked.branches.push(...branches), branches.flatMap((b) => theirs.leavesOf(b))),
    keysIn: async (leaves) => (asked.leaves.push(...leaves), leaves.flatMap((l) => theirs.keysIn(l))),
  };
  return { ...asked, keys: await compareTrees(ours, remote) };
}

/** Keys whose digests differ between two plain maps: the ground truth the walk must find. */
function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

const arbEntries = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ minLength: 1, maxLength: 8 })), {
  selector: ([key]) => key,
  maxLength: 300,
});

describe('merkle: PartitionTree', () => {
  it('is order independent: the same (key, digest) set in any order gives the same tree', () => {
    fc.assert(
      fc.property(
        arbEntries.chain((entries) =>
          fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }), fc.array(fc.nat(), { maxLength: 20 })),
        ),
        ([entries, shuffled, detours]) => {
          const a = build(entries);
          // The other tree sees some keys pass through earlier versions first: only the final digest counts.
          const b = new PartitionTree();
          for (const i of detours) if (shuffled.length > 0) b.apply(shuffled[i % shuffled.length]![0], b.digestOf(shuffled[i % shuffled.length]![0]), `early-${i}`);
          for (const [key, digest] of shuffled) b.apply(key, b.digestOf(key), digest);
          assert.deepEqual(snapshot(b), snapshot(a));
          assert.equal(a.size, entries.length);
        },
      ),
    );
  });

  it('apply then un-apply (new -> old) restores the exact previous tree', () => {
    fc.assert(
      fc.property(arbEntries, fc.string({ maxLength: 12 }), fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }), (entries, key, next) => {
        const tree = build(entries);
        const before = snapshot(tree);
        const old = tree.digestOf(key);
        tree.apply(key, old, next);
        if (next !== old) assert.notEqual(tree.root(), before.root, 'a change moves the root');
        tree.apply(key, next, old);
        assert.deepEqual(snapshot(tree), before);
      }),
    );
  });

  it('an empty tree and a tree emptied again have the zero root', () => {
    const tree = new PartitionTree();
    assert.equal(tree.root(), '0'.repeat(16));
    tree.apply('k', undefined, 'd1');
    assert.equal(tree.size, 1);
    assert.match(tree.root(), /^[0-9a-f]{16}$/);
    assert.equal(tree.branches().length, merkleBranches);
    assert.equal(tree.leavesOf(0).length, merkleBranchWidth);
    tree.apply('k', 'd1', undefined);
    assert.deepEqual(snapshot(tree), snapshot(new PartitionTree()));
  });

  it('stays equal to a fresh build even when a caller passes a stale old digest', () => {
    const tree = build([['a', 'd1'], ['b', 'd2']]);
    tree.apply('a', 'not-what-was-counted', 'd3');
    tree.apply('c', 'never-counted', 'd4');
    assert.deepEqual(snapshot(tree), snapshot(build([['a', 'd3'], ['b', 'd2'], ['c', 'd4']])));
  });

  it('rejects out-of-range branch and leaf indexes', () => {
    const tree = new PartitionTree();
    assert.throws(() => tree.leavesOf(merkleBranches), RangeError);
    assert.throws(() => tree.leavesOf(-1), RangeError);
    assert.throws(() => tree.keysIn(merkleLeaves), RangeError);
    assert.throws(() => tree.keysIn(1.5), RangeError);
  });

  it('keysIn lists a leaf sorted by key', () => {
    const tree = build(range(2000).map((i) => [`k${i}`, `d${i}`] as const));
    for (let l = 0; l < merkleLeaves; l++) {
      const keys = tree.keysIn(l).map(([k]) => k);
      assert.deepEqual(keys, [...keys].sort());
      for (const k of keys) assert.equal(bucketOf(k, merkleLeaves), l);
    }
  });
});

describe('merkle: the walk finds exactly the changed keys', () => {
  it('root -> branches -> leaves -> keys yields exactly the keys that differ, no more, no less', async () => {
    const arbEdit = fc.record({ pick: fc.nat(), op: fc.constantFrom('change', 'remove', 'add'), onOurs: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3000 }), fc.string({ maxLength: 4 }), fc.array(arbEdit, { maxLength: 40 }), async (count, salt, edits) => {
        const base = range(count).map((i) => [`${salt}key-${i}`, `d${i}`] as const);
        const ours = new Map<string, string>(base);
        const theirs = new Map<string, string>(base);
        edits.forEach(({ pick, op, onOurs }, j) => {
          const side = onOurs ? ours : theirs;
          if (op === 'add') side.set(`${salt}new-${pick % 50}`, `a${j}`);
          else if (count > 0 && op === 'change') side.set(base[pick % count]![0], `c${j}`);
          else if (count > 0) side.delete(base[pick % count]![0]);
        });
        const expected = changed(ours, theirs);
        // Trees are built in opposite orders: the walk must not depend on history.
        const a = build(ours);
        const b = build([...theirs].reverse());
        const found = await walk(a, b);
        assert.deepEqual(found.keys, expected);
        assert.deepEqual((await walk(b, a)).keys, expected, 'symmetric');
        assert.ok(found.leaves.length <= expected.length, 'only leaves holding a changed key differ');
        assert.ok(found.branches.length <= expected.length);
        assert.equal(a.root() === b.root(), expected.length === 0, 'roots are equal exactly when nothing differs');
      }),
      { numRuns: 60 },
    );
  });

  it('touches leaves in proportion to the changes, not the keys: 10k keys, 5 changes', async () => {
    const base = range(10_000).map((i) => [`user:${i}`, `d${i}`] as const);
    const ours = build(base);
    const theirs = build(base);
    theirs.apply('user:17', 'd17', 'x');
    theirs.apply('user:4242', 'd4242', 'y');
    theirs.apply('user:9999', 'd9999', undefined);
    theirs.apply('user:new', undefined, 'z');
    ours.apply('user:500', 'd500', 'w');
    const { branches, leaves, keys } = await walk(ours, theirs);
    assert.deepEqual(keys, ['user:17', 'user:4242', 'user:500', 'user:9999', 'user:new']);
    assert.ok(leaves.length <= 5, `${leaves.length} leaves differ`);
    assert.ok(branches.length <= 5);
    const touched = leaves.reduce((n, l) => n + ours.keysIn(l).length, 0);
    assert.ok(touched < 10_000 / 20, `${touched} keys compared`);
  });
});

describe('merkle: hashes', () => {
  it('keyHash: an absent key contributes nothing; versions hash apart', () => {
    assert.equal(keyHash('k', undefined), 0n);
    assert.equal(keyHash('k', 'd'), keyHash('k', 'd'));
    assert.notEqual(keyHash('k', 'd1'), keyHash('k', 'd2'));
    assert.notEqual(keyHash('k1', 'd'), keyHash('k2', 'd'));
    assert.ok(keyHash('k', 'd') < 1n << 64n);
  });

  it('bucketOf: in range, power-of-two leaves only, and spreads the keys of one ring partition', () => {
    assert.throws(() => bucketOf('k', 3), RangeError);
    assert.throws(() => bucketOf('k', 0), RangeError);
    assert.equal(bucketOf('k', 1), 0);
    // Keys of partition 0 of a 256-partition ring share the top 8 bits of SHA-1(key).
    const keys = range(60_000).map((i) => `k${i}`).filter((k) => keyHash32(k) >>> 24 === 0);
    const used = new Set(keys.map((k) => bucketOf(k, merkleLeaves)));
    for (const k of keys) assert.ok(bucketOf(k, merkleLeaves) < merkleLeaves);
    assert.ok(keys.length > 150 && used.size > keys.length / 3, `${keys.length} keys in ${used.size} leaves`);
  });

  it('diffHashes and diffKeys', () => {
    assert.deepEqual(diffHashes(['a', 'b', 'c'], ['a', 'x', 'c']), [1]);
    assert.deepEqual(diffHashes(['a', 'b'], []), [0, 1], 'a missing list differs everywhere');
    assert.deepEqual(
      diffKeys([['z', '1'], ['a', '1'], ['m', '1']], [['m', '2'], ['a', '1'], ['b', '1']]),
      ['b', 'm', 'z'],
    );
    assert.deepEqual(diffKeys([], []), []);
  });
});

describe('merkle: objectDigest', () => {
  const dot = (actor: number, n: number): Dot => [actors[actor]!, n];

  it('is equal for objects equal as DVV states: sync in either order', () => {
    const a = update(undefined, undefined, actors[0]!, value('x')).object;
    const b = update(undefined, undefined, actors[1]!, tombstone).object;
    assert.equal(objectDigest(sync(a, b)), objectDigest(sync(b, a)));
    assert.equal(objectDigest(a), objectDigest(structuredClone(a)));
    const reversed: VersionedObject = { ...sync(a, b), siblings: [...sync(a, b).siblings].reverse() };
    assert.equal(objectDigest(reversed), objectDigest(sync(a, b)), 'sibling order does not matter');
    assert.match(objectDigest(a), /^[0-9a-f]{40}$/);
  });

  it('differs when a sibling or the context differs, and tombstone vs value', () => {
    const base = update(undefined, undefined, actors[0]!, value('x')).object;
    const extraSibling: VersionedObject = { context: base.context, siblings: [...base.siblings, { dot: dot(1, 1), value: value('y') }] };
    const widerContext: VersionedObject = { context: addDot(base.context, dot(1, 1)), siblings: base.siblings };
    const deleted: VersionedObject = { context: base.context, siblings: [{ dot: base.siblings[0]!.dot, value: tombstone }] };
    const digests = [base, extraSibling, widerContext, deleted, emptyObject].map(objectDigest);
    assert.equal(new Set(digests).size, digests.length);
    // A dot identifies its value: the bytes are not hashed.
    const sameDot: VersionedObject = { context: base.context, siblings: [{ dot: base.siblings[0]!.dot, value: value('other bytes') }] };
    assert.equal(objectDigest(sameDot), objectDigest(base));
  });

  it('agrees with sameVersion over random replicated histories', () => {
    const arbStep = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), replica: fc.nat(2), from: fc.option(fc.nat(2)), deleted: fc.boolean() }),
      fc.record({ kind: fc.constant('sync' as const), replica: fc.nat(2), from: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 25 }), (steps) => {
        const replicas: VersionedObject[] = [emptyObject, emptyObject, emptyObject];
        const seen: VersionedObject[] = [];
        steps.forEach((step, i) => {
          const r = step.replica;
          if (step.kind === 'sync') replicas[r] = sync(replicas[r]!, replicas[step.from]!);
          else {
            const ctx = step.from === null ? undefined : replicas[step.from]!.context;
            replicas[r] = update(replicas[r], ctx, actors[r]!, step.deleted ? tombstone : value(`v${i}`)).object;
          }
          seen.push(replicas[r]!);
        });
        for (const x of seen) for (const y of seen) assert.equal(objectDigest(x) === objectDigest(y), sameVersion(x, y));
      }),
    );
  });
});
