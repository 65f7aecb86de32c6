// Anti-entropy tree conformance: whatever writes, deletes and drops did, and after a reopen or a
// crash, an engine's tree of each partition equals a fresh build from the objects it stores (the
// XOR tree is a function of the (key, version) set alone), and leafKeys lists exactly those pairs.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { LeafTree, leafOf, merkleBranches, merkleLeaves, versionHash } from '../../src/core/merkle.js';
import type { Storage } from '../../src/core/ports.js';
import { asPartitionId, type PartitionId } from '../../src/core/types.js';
import { textObject, type WithStore } from './fixtures.js';

const partitions = [asPartitionId(0), asPartitionId(1), asPartitionId(9)];

/** What an engine's tree of `partition` must be: built afresh from the objects a scan returns. */
async function expectedTree(s: Storage, partition: PartitionId): Promise<{ tree: LeafTree; pairs: Map<number, Array<[string, bigint]>> }> {
  const tree = new LeafTree();
  const pairs = new Map<number, Array<[string, bigint]>>();
  for (const { key, object } of await s.scanPartition(partition, undefined, Number.MAX_SAFE_INTEGER)) {
    const hash = versionHash(key, object);
    tree.xor(leafOf(key), hash, +1);
    pairs.set(leafOf(key), [...(pairs.get(leafOf(key)) ?? []), [key, hash]]);
  }
  return { tree, pairs };
}

/** Asserts the engine's trees and leaf listings of every partition used equal fresh builds from its objects. */
export async function assertTreesMatchRows(s: Storage, what: string, among: readonly PartitionId[] = partitions): Promise<void> {
  for (const partition of among) {
    const { tree, pairs } = await expectedTree(s, partition);
    const got = s.tree(partition);
    assert.equal(got.size, tree.size, `${what}: partition ${partition} key count`);
    assert.equal(got.root(), tree.root(), `${what}: partition ${partition} root`);
    assert.deepStrictEqual(got.branches(), tree.branches(), `${what}: partition ${partition} branches`);
    for (let b = 0; b < merkleBranches; b++) assert.deepStrictEqual(got.leavesOf(b), tree.leavesOf(b), `${what}: partition ${partition} branch ${b}`);
    for (let leaf = 0; leaf < merkleLeaves; leaf++) {
      const want = (pairs.get(leaf) ?? []).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepStrictEqual(await s.leafKeys(partition, leaf), want, `${what}: partition ${partition} leaf ${leaf}`);
    }
  }
}

type Op = { kind: 'put' | 'delete'; key: number; partition: number; text: string } | { kind: 'drop'; partition: number; limit: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(40), partition: fc.nat(2), text: fc.string({ maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(40), partition: fc.nat(2), text: fc.constant('') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), partition: fc.nat(2), limit: fc.integer({ min: 1, max: 8 }) }) },
);

/** Runs `ops` in one turn (so engines that batch stage them together), then awaits them all. */
async function run(s: Storage, ops: readonly Op[]): Promise<void> {
  await Promise.all(
    ops.map((op) => {
      const partition = partitions[op.partition]!;
      if (op.kind === 'drop') return s.dropPartition(partition, op.limit);
      // A key keeps its partition (as the ring does), so a write never moves it.
      const key = `key-${op.key}-${'😀'.repeat(op.key % 2)}`;
      return s.update(key, partitions[op.key % partitions.length]!, () => (op.kind === 'put' ? textObject(`${key}:${op.text}`) : null));
    }),
  );
}

export function treeConformance(withStore: WithStore): void {
  it('trees equal a fresh build from the stored objects after random writes, deletes and drops (and a reopen or crash)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(arbOp, { minLength: 1, maxLength: 12 }), { maxLength: 8 }), (turns) =>
        withStore(async (h) => {
          for (const ops of turns) await run(h.storage, ops);
          await assertTreesMatchRows(h.storage, 'after the writes');
          if (h.reopen) {
            await h.storage.close();
            await assertTreesMatchRows(await h.reopen(), 'after a reopen');
          } else if (h.crash) {
            void run(h.storage, [{ kind: 'put', key: 1, partition: 0, text: 'lost?' }]);
            await assertTreesMatchRows(await h.crash(), 'after a crash');
          }
        }),
      ),
      { numRuns: 25 },
    );
  });

  it('an empty partition has the empty tree; leafKeys refuses a leaf out of range', () =>
    withStore(async ({ storage }) => {
      assert.equal(storage.tree(asPartitionId(3)).size, 0);
      assert.equal(storage.tree(asPartitionId(3)).root(), 0n);
      assert.deepStrictEqual(await storage.leafKeys(asPartitionId(3), 0), []);
      await assert.rejects(storage.leafKeys(asPartitionId(3), merkleLeaves), RangeError);
      await assert.rejects(storage.leafKeys(asPartitionId(3), -1), RangeError);
    }));

  it('a write moves the tree once it resolves; a rewrite of the same version changes nothing', () =>
    withStore(async ({ storage }) => {
      const p = partitions[0]!;
      await storage.update('a', p, () => textObject('a'));
      const one = storage.tree(p).root();
      assert.equal(one, versionHash('a', textObject('a')));
      await storage.update('a', p, () => textObject('a'));
      assert.equal(storage.tree(p).root(), one);
      await storage.update('a', p, () => null);
      assert.equal(storage.tree(p).root(), 0n);
      assert.equal(storage.tree(p).size, 0);
    }));
  it('versionHashOf is the hash of the version get returns, for its partition, staged writes included', () =>
    withStore(async ({ storage }) => {
      const partition = partitions[1]!;
      assert.equal(await storage.versionHashOf('k', partition), undefined, 'absent');
      await storage.update('k', partition, () => textObject('one'));
      assert.equal(await storage.versionHashOf('k', partition), versionHash('k', (await storage.get('k'))!));
      // Staged and not yet durable: the hash waits for it, as get does.
      const staged = storage.update('k', partition, () => textObject('two'));
      const hash = await storage.versionHashOf('k', partition);
      await staged;
      assert.equal(hash, versionHash('k', textObject('two')));
      assert.equal(await storage.versionHashOf('k', partitions[2]!), undefined, 'another partition holds no such key');
      await storage.update('k', partition, () => null);
      assert.equal(await storage.versionHashOf('k', partition), undefined, 'deleted');
    }));
}
