// Schema 2 -> 3: objects gain their tree leaf and version hash, and the per-leaf hashes are stored
// (sqlite-trees.ts). Schema 2 directories computed their trees at every start-up instead. The
// migration reads and hashes every row once, in the open's transaction: a crash midway leaves the
// directory at schema 2, untouched, and the next open starts it again.
import type Database from 'better-sqlite3';
import { leafOf, versionHash } from '../core/merkle.js';
import { decodeObject } from './object-codec.js';
import { signed, TreeDelta, treeSchema } from './sqlite-trees.js';

/** Rows read per page while migrating (a statement cannot run while another iterates). */
const migratePageRows = 4096;

/**
 * Adds and fills the columns, then the leaf hashes, then records schema 3. Rows that do not decode
 * get no leaf or hash (they count in no tree) and are quarantined when first read, as before.
 */
export function migrateFrom2(db: Database.Database, log: (message: string) => void): void {
  const started = Date.now();
  const total = db.prepare<[], number>('SELECT count(*) FROM objects').pluck().get() ?? 0;
  log(`storage: migrating schema 2 -> 3 (tree leaf and version hash per row): hashing ${total} objects once`);
  const columns = new Set(db.prepare<[], { name: string }>('PRAGMA table_info(objects)').all().map((c) => c.name));
  if (!columns.has('leaf')) db.exec('ALTER TABLE objects ADD COLUMN leaf INTEGER');
  if (!columns.has('vhash')) db.exec('ALTER TABLE objects ADD COLUMN vhash INTEGER');
  const page = db.prepare<[number, number], [number, unknown, unknown, unknown]>(
    'SELECT rowid, key, partition, object FROM objects WHERE rowid > ? ORDER BY rowid LIMIT ?',
  ).raw();
  const set = db.prepare<[number, bigint, number]>('UPDATE objects SET leaf = ?, vhash = ? WHERE rowid = ?');
  const delta = new TreeDelta();
  let done = 0;
  for (let after = 0; ; ) {
    const rows = page.all(after, migratePageRows);
    for (const [rowid, key, partition, bytes] of rows) {
      after = rowid;
      if (typeof key !== 'string' || !Number.isSafeInteger(partition) || (partition as number) < 0 || !(bytes instanceof Uint8Array)) continue;
      let vhash: bigint;
      try {
        vhash = versionHash(key, decodeObject(bytes));
      } catch {
        continue; // quarantined when first read
      }
      const leaf = leafOf(key);
      set.run(leaf, signed(vhash), rowid);
      delta.add({ partition: partition as number, leaf, vhash }, +1);
    }
    done += rows.length;
    if (rows.length < migratePageRows) break;
    if (done % (migratePageRows * 64) === 0) log(`storage: migrating: ${done}/${total} objects`);
  }
  db.exec(treeSchema);
  db.exec('DELETE FROM leaf_hashes');
  const insert = db.prepare<[number, number, bigint, number]>('INSERT INTO leaf_hashes (partition, leaf, hash, keys) VALUES (?, ?, ?, ?)');
  for (const [partition, leaves] of delta.leaves) for (const [leaf, d] of leaves) insert.run(partition, leaf, signed(d.hash), d.keys);
  db.prepare("UPDATE meta SET value = '3' WHERE name = 'schema_version'").run();
  log(`storage: migrated ${total} objects to schema 3 in ${Date.now() - started} ms`);
}
