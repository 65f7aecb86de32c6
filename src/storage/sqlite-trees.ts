// SqliteStorage's anti-entropy trees (core/merkle.ts). Each object row carries its leaf and its
// version hash; `leaf_hashes` holds, per (partition, leaf), the XOR of the version hashes of the
// rows there and their count. Every transaction that changes object rows moves those leaf rows by
// the same change, so the persisted tree is exactly that of the committed rows, after a crash too,
// and start-up loads 256 rows per partition instead of hashing every key. A LeafTree per partition
// mirrors the table in memory; it moves only once the transaction that moved the table committed.
// 64-bit hashes are stored as SQLite's signed INTEGERs (two's complement of the unsigned hash) and
// read with safeIntegers, as BigInts.
import type Database from 'better-sqlite3';
import { emptyTree, LeafTree, leafOf, merkleLeaves, type TreeView } from '../core/merkle.js';
import type { PartitionId } from '../core/types.js';

/** What one row counts in a tree: its version hash, in one leaf of one partition. */
export interface Contribution {
  readonly partition: number;
  readonly leaf: number;
  readonly vhash: bigint;
}

/** A hash as SQLite stores it: the same 64 bits, read as a signed integer. */
export const signed = (h: bigint): bigint => BigInt.asIntN(64, h);
const unsigned = (h: bigint): bigint => BigInt.asUintN(64, h);

/**
 * A row's contribution, from its raw columns (read with safeIntegers): only a row whose columns are
 * as this engine writes them counts. A row planted by something else (no leaf or hash) counts for
 * nothing, in the tree as in leafKeys, so removing it later moves nothing either.
 */
export function contributionOf(partition: unknown, leaf: unknown, vhash: unknown): Contribution | undefined {
  if (typeof partition !== 'bigint' || typeof leaf !== 'bigint' || typeof vhash !== 'bigint') return undefined;
  if (partition < 0n || partition > BigInt(Number.MAX_SAFE_INTEGER) || leaf < 0n || leaf >= BigInt(merkleLeaves)) return undefined;
  return { partition: Number(partition), leaf: Number(leaf), vhash: unsigned(vhash) };
}

/** The net change one transaction makes to the trees, per partition and leaf. */
export class TreeDelta {
  readonly leaves = new Map<number, Map<number, { hash: bigint; keys: number }>>();

  /** Counts `c` in (+1) or out (-1). */
  add(c: Contribution | undefined, sign: 1 | -1): void {
    if (c === undefined) return;
    let partition = this.leaves.get(c.partition);
    if (!partition) this.leaves.set(c.partition, (partition = new Map()));
    const d = partition.get(c.leaf) ?? { hash: 0n, keys: 0 };
    partition.set(c.leaf, { hash: d.hash ^ c.vhash, keys: d.keys + sign });
  }
}

type LeafRow = [partition: bigint, leaf: bigint, hash: bigint, keys: bigint];

/** The leaf_hashes table and its in-memory mirror. */
export class TreeTable {
  private readonly trees = new Map<number, LeafTree>();
  private readonly upsertLeaf: Database.Statement<[number, number, bigint, number]>;
  private readonly deleteLeaf: Database.Statement<[number, number]>;
  private readonly byKey: Database.Statement<[string], [unknown, unknown, unknown]>;
  private readonly byRowid: Database.Statement<[number], [unknown, unknown, unknown]>;
  private readonly pairs: Database.Statement<[number, number], [unknown, bigint]>;
  private readonly hashByKey: Database.Statement<[number, number, string], unknown>;

  constructor(db: Database.Database) {
    this.upsertLeaf = db.prepare(
      `INSERT INTO leaf_hashes (partition, leaf, hash, keys) VALUES (?, ?, ?, ?)
       ON CONFLICT (partition, leaf) DO UPDATE SET hash = excluded.hash, keys = excluded.keys`,
    );
    this.deleteLeaf = db.prepare('DELETE FROM leaf_hashes WHERE partition = ? AND leaf = ?');
    this.byKey = db.prepare<[string], [unknown, unknown, unknown]>('SELECT partition, leaf, vhash FROM objects WHERE key = ?').raw().safeIntegers();
    this.byRowid = db.prepare<[number], [unknown, unknown, unknown]>('SELECT partition, leaf, vhash FROM objects WHERE rowid = ?').raw().safeIntegers();
    // Reads the (partition, leaf, key, vhash) index only, never the rows.
    this.pairs = db
      .prepare<[number, number], [unknown, bigint]>(
        `SELECT key, vhash FROM objects WHERE partition = ? AND leaf = ? AND typeof(vhash) = 'integer' ORDER BY key`,
      )
      .raw()
      .safeIntegers();
    // Reads the (partition, leaf, key, vhash) index only: a row's hash without its object.
    this.hashByKey = db.prepare<[number, number, string], unknown>('SELECT vhash FROM objects WHERE partition = ? AND leaf = ? AND key = ?').pluck().safeIntegers();
    const rows = db.prepare<[], LeafRow>('SELECT partition, leaf, hash, keys FROM leaf_hashes').raw().safeIntegers().all();
    for (const [partition, leaf, hash, keys] of rows) this.treeFor(Number(partition)).xor(Number(leaf), unsigned(hash), Number(keys));
  }

  tree(partition: number): TreeView {
    return this.trees.get(partition) ?? emptyTree;
  }

  /** The committed row of `key`'s contribution. In a transaction: what a write there replaces. */
  ofKey(key: string): Contribution | undefined {
    const row = this.byKey.get(key);
    return row && contributionOf(...row);
  }

  /** The committed version hash of `key` in `partition`, if a row with one is counted there. */
  hashOf(key: string, partition: PartitionId): bigint | undefined {
    const vhash = this.hashByKey.get(partition, leafOf(key), key);
    return typeof vhash === 'bigint' ? unsigned(vhash) : undefined;
  }

  ofRowid(rowid: number): Contribution | undefined {
    const row = this.byRowid.get(rowid);
    return row && contributionOf(...row);
  }

  /** (key, hash) of the counted rows of one leaf, in key order; a key that is not text is skipped (its row is quarantined when read). */
  leafKeys(partition: number, leaf: number): Array<[string, bigint]> {
    const out: Array<[string, bigint]> = [];
    for (const [key, vhash] of this.pairs.all(partition, leaf)) if (typeof key === 'string') out.push([key, unsigned(vhash)]);
    return out;
  }

  /** Writes the leaves `delta` moves, from the mirror (equal to the table between transactions). Call inside the transaction. */
  persist(delta: TreeDelta): void {
    for (const [partition, leaves] of delta.leaves) {
      const tree = this.trees.get(partition);
      for (const [leaf, d] of leaves) {
        const hash = (tree?.leafHash(leaf) ?? 0n) ^ d.hash;
        const keys = (tree?.keysInLeaf(leaf) ?? 0) + d.keys;
        if (keys === 0 && hash === 0n) this.deleteLeaf.run(partition, leaf);
        else this.upsertLeaf.run(partition, leaf, signed(hash), keys);
      }
    }
  }

  /** Moves the mirror by `delta`, once the transaction that persisted it has committed. */
  apply(delta: TreeDelta): void {
    for (const [partition, leaves] of delta.leaves) {
      const tree = this.treeFor(partition);
      for (const [leaf, d] of leaves) tree.xor(leaf, d.hash, d.keys);
    }
  }

  private treeFor(partition: number): LeafTree {
    let tree = this.trees.get(partition);
    if (!tree) this.trees.set(partition, (tree = new LeafTree()));
    return tree;
  }
}

/** The schema of the trees, created with the objects table (and by the migration from schema 2). */
export const treeSchema = `
  -- key-level comparison reads one leaf's (key, vhash) pairs from this index alone.
  CREATE INDEX IF NOT EXISTS objects_by_leaf ON objects (partition, leaf, key, vhash);
  CREATE TABLE IF NOT EXISTS leaf_hashes (
    partition INTEGER NOT NULL, leaf INTEGER NOT NULL,
    hash INTEGER NOT NULL,  -- XOR of the vhash of the rows in (partition, leaf)
    keys INTEGER NOT NULL,  -- how many rows that is
    PRIMARY KEY (partition, leaf)
  ) WITHOUT ROWID`;
