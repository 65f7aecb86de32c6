// Tictac Merkle trees (Riak kv_tictacaae; Dynamo section 4.7): XOR levels make the tree a function
// of the (key, version hash) set alone; the top-down walk finds exactly the keys that differ,
// touching leaves in proportion to the differences, not to the keys stored. Storage engines keep
// the trees (test/storage checks they match their rows); here a Map stands in for the rows.
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addDot, emptyObject, sameVersion, sync, update } from '../../src/core/dvv.js';
import {
  bucketOf,
  compareTrees,
  diffHashes,
  diffKeys,
  hashBytes,
  LeafTree,
  leafOf,
  merkleBranches,
  merkleBranchWidth,
  merkleLeaves,
  objectDigest,
  packHashes,
  unpackHashes,
  versionHash,
  type KeyHashes,
  type RemoteTree,
} from '../../src/core/merkle.js';
import { keyHash32 } from '../../src/core/ring.js';
import type { ActorId, Dot, VersionedObject } from '../../src/core/types.js';

const actors = ['n1.a', 'n2.b', 'n3.c'] as ActorId[];
const value = (s: string) => ({ kind: 'value' as const, data: new TextEncoder().encode(s), contentType: 'text/plain' });
const tombstone = { kind: 'tombstone' as const, deletedAtMs: 0 };
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** A stand-in version hash for a version named by a string. */
const hashOf = (key: string, version: string): bigint => createHash('sha1').update(`${key}\0${version}`).digest().readBigUInt64BE(0);

/** A partition as a storage engine keeps it: a LeafTree moved with every change of a (key -> version hash) map. */
class MapTree {
  readonly tree = new LeafTree();
  readonly hashes = new Map<string, bigint>();

  /** Sets `key` to `version` (undefined: deletes it). */
  set(key: string, version: string | undefined): void {
    const old = this.hashes.get(key);
    if (old !== undefined) this.tree.xor(leafOf(key), old, -1);
    this.hashes.delete(key);
    if (version === undefined) return;
    const hash = hashOf(key, version);
    this.tree.xor(leafOf(key), hash, +1);
    this.hashes.set(key, hash);
  }

  keysIn(leaves: readonly number[]): KeyHashes {
    return leaves.flatMap((l) => [...this.hashes].filter(([k]) => leafOf(k) === l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

function build(entries: Iterable<readonly [string, string]>): MapTree {
  const tree = new MapTree();
  for (const [key, version] of entries) tree.set(key, version);
  return tree;
}

function snapshot(t: MapTree) {
  return {
    root: t.tree.root(),
    branches: t.tree.branches(),
    leaves: range(merkleBranches).map((b) => t.tree.leavesOf(b)),
    keys: t.keysIn(range(merkleLeaves)),
    size: t.tree.size,
  };
}

/** The comparison anti-entropy runs (compareTrees), against `theirs` in this process, recording what it asked. */
async function walk(ours: MapTree, theirs: MapTree): Promise<{ branches: number[]; leaves: number[]; keys: string[] }> {
  if (ours.tree.root() === theirs.tree.root()) return { branches: [], leaves: [], keys: [] };
  const asked = { branches: [] as number[], leaves: [] as number[] };
  const remote: RemoteTree = {
    branches: async () => theirs.tree.branches(),
    leavesOf: async (branches) => (asked.branches.push(...branches), Buffer.concat(branches.map((b) => theirs.tree.leavesOf(b)))),
    keysIn: async (leaves) => (asked.leaves.push(...leaves), theirs.keysIn(leaves)),
  };
  const local = { tree: ours.tree, keysIn: async (leaves: readonly number[]) => ours.keysIn(leaves) };
  return { ...asked, keys: await compareTrees(local, remote) };
}

/** Keys whose versions differ between two plain maps: the ground truth the walk must find. */
function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

const arbEntries = fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ minLength: 1, maxLength: 8 })), {
  selector: ([key]) => key,
  maxLength: 300,
});

describe('merkle: LeafTree', () => {
  it('is order independent: the same (key, version) set in any order gives the same tree', () => {
    fc.assert(
      fc.property(
        arbEntries.chain((entries) =>
          fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }), fc.array(fc.nat(), { maxLength: 20 })),
        ),
        ([entries, shuffled, detours]) => {
          const a = build(entries);
          // The other tree sees some keys pass through earlier versions first: only the final version counts.
          const b = new MapTree();
          for (const i of detours) if (shuffled.length > 0) b.set(shuffled[i % shuffled.length]![0], `early-${i}`);
          for (const [key, version] of shuffled) b.set(key, version);
          assert.deepEqual(snapshot(b), snapshot(a));
          assert.equal(a.tree.size, entries.length);
        },
      ),
    );
  });

  it('a change then its undo restores the exact previous tree', () => {
    fc.assert(
      fc.property(arbEntries, fc.string({ maxLength: 12 }), fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }), (entries, key, next) => {
        const t = build(entries);
        const before = snapshot(t);
        const old = entries.find(([k]) => k === key)?.[1];
        t.set(key, next);
        if (next !== old) assert.notEqual(t.tree.root(), before.root, 'a change moves the root');
        t.set(key, old);
        assert.deepEqual(snapshot(t), before);
      }),
    );
  });

  it('an empty tree and a tree emptied again have the zero root', () => {
    const t = new MapTree();
    assert.equal(t.tree.root(), 0n);
    t.set('k', 'd1');
    assert.equal(t.tree.size, 1);
    assert.notEqual(t.tree.root(), 0n);
    assert.equal(t.tree.branches().byteLength, merkleBranches * hashBytes);
    assert.equal(t.tree.leavesOf(0).byteLength, merkleBranchWidth * hashBytes);
    assert.equal(t.tree.keysInLeaf(leafOf('k')), 1);
    t.set('k', undefined);
    assert.deepEqual(snapshot(t), snapshot(new MapTree()));
  });

  it('rejects out-of-range branch and leaf indexes', () => {
    const tree = new LeafTree();
    assert.throws(() => tree.leavesOf(merkleBranches), RangeError);
    assert.throws(() => tree.leavesOf(-1), RangeError);
    assert.throws(() => tree.xor(merkleLeaves, 1n, 1), RangeError);
    assert.throws(() => tree.xor(1.5, 1n, 1), RangeError);
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
        assert.equal(a.tree.root() === b.tree.root(), expected.length === 0, 'roots are equal exactly when nothing differs');
      }),
      { numRuns: 60 },
    );
  });

  it('touches leaves in proportion to the changes, not the keys: 10k keys, 5 changes', async () => {
    const base = range(10_000).map((i) => [`user:${i}`, `d${i}`] as const);
    const ours = build(base);
    const theirs = build(base);
    theirs.set('user:17', 'x');
    theirs.set('user:4242', 'y');
    theirs.set('user:9999', undefined);
    theirs.set('user:new', 'z');
    ours.set('user:500', 'w');
    const { branches, leaves, keys } = await walk(ours, theirs);
    assert.deepEqual(keys, ['user:17', 'user:4242', 'user:500', 'user:9999', 'user:new']);
    assert.ok(leaves.length <= 5, `${leaves.length} leaves differ`);
    assert.ok(branches.length <= 5);
    const touched = ours.keysIn(leaves).length;
    assert.ok(touched < 10_000 / 20, `${touched} keys compared`);
  });
});

describe('merkle: hashes', () => {
  it('bucketOf: in range, power-of-two leaves only, and spreads the keys of one ring partition', () => {
    assert.throws(() => bucketOf('k', 3), RangeError);
    assert.throws(() => bucketOf('k', 0), RangeError);
    assert.equal(bucketOf('k', 1), 0);
    // Keys of partition 0 of a 256-partition ring share the top 8 bits of SHA-1(key).
    const keys = range(60_000).map((i) => `k${i}`).filter((k) => keyHash32(k) >>> 24 === 0);
    const used = new Set(keys.map((k) => bucketOf(k, merkleLeaves)));
    for (const k of keys) assert.ok(bucketOf(k, merkleLeaves) < merkleLeaves);
    assert.ok(keys.length > 150 && used.size > keys.length / 3, `${keys.length} keys in ${used.size} leaves`);
    // Sequential keys spread evenly: no leaf holds more than twice its share of 100k.
    const perLeaf = new Uint32Array(merkleLeaves);
    for (let i = 0; i < 100_000; i++) perLeaf[leafOf(`key-${i}`)]!++;
    assert.ok(Math.max(...perLeaf) < (2 * 100_000) / merkleLeaves && Math.min(...perLeaf) > 100_000 / merkleLeaves / 2, `${Math.min(...perLeaf)}..${Math.max(...perLeaf)} keys per leaf`);
  });

  it('packHashes and unpackHashes round-trip all 64 bits, big-endian', () => {
    const values = [0n, 1n, (1n << 63n) + 5n, (1n << 64n) - 1n];
    const packed = packHashes(values);
    assert.equal(packed.byteLength, values.length * hashBytes);
    assert.deepEqual(Array.from(packed.subarray(8, 16)), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(unpackHashes(packed), values);
    assert.deepEqual(unpackHashes(Buffer.concat([Buffer.alloc(3), packed]).subarray(3)), values, 'an offset view');
  });

  it('diffHashes and diffKeys', () => {
    const p = (...v: bigint[]) => packHashes(v);
    assert.deepEqual(diffHashes(p(1n, 2n, 3n), p(1n, 9n, 3n)), [1]);
    assert.deepEqual(diffHashes(p(1n, 2n), new Uint8Array(0)), [0, 1], 'a missing list differs everywhere');
    assert.deepEqual(diffHashes(p(1n, 2n), p(1n)), [1]);
    assert.deepEqual(diffKeys([['z', 1n], ['a', 1n], ['m', 1n]], [['m', 2n], ['a', 1n], ['b', 1n]]), ['b', 'm', 'z']);
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
    assert.equal(versionHash('k', reversed), versionHash('k', sync(a, b)));
    assert.notEqual(versionHash('k', a), versionHash('k2', a), 'the key is hashed too');
    assert.ok(versionHash('k', a) < 1n << 64n);
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
        for (const x of seen) {
          for (const y of seen) {
            assert.equal(objectDigest(x) === objectDigest(y), sameVersion(x, y));
            assert.equal(versionHash('k', x) === versionHash('k', y), sameVersion(x, y), 'versionHash hashes the same canonical version');
          }
        }
      }),
    );
  });
});
