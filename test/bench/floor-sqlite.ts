// The floor bench's SQLite phase, in its own process: what one replica's row write costs SQLite,
// kvorum's schema and statements (floor-sqlite-rows.ts) and a minimal one-table schema. For each
// schema and batch size: a fresh database (WAL, synchronous=NORMAL, kvorum's page cache) preloaded
// with `--preload` rows (untimed, then checkpointed), then `--rows` new rows committed in
// transactions of `batch` rows, one transaction per event-loop turn (setImmediate), timed with
// process.cpuUsage (user + system of the whole process: SQLite's automatic WAL checkpoints are in).
// Prints `FLOOR_RESULT {SqliteResult}` per case.
//   node --import tsx test/bench/floor-sqlite.ts --dir DIR [--preload 50000] [--rows 20000] [--batches 1,4,16,64] [--value-bytes 1024]
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { floorResultMarker, type SqliteResult, type SqliteSchema } from './floor-common.js';
import { makeRows, openWriter, type FloorRow, type RowWriter } from './floor-sqlite-rows.js';

const preloadBatch = 1000;
const schemas: readonly SqliteSchema[] = ['kvorum', 'minimal'];

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    preload: { type: 'string', default: '50000' },
    rows: { type: 'string', default: '20000' },
    batches: { type: 'string', default: '1,4,16,64' },
    'value-bytes': { type: 'string', default: '1024' },
  },
});
if (values.dir === undefined) throw new Error('floor-sqlite: --dir is required');
const preload = Number(values.preload);
const timedRows = Number(values.rows);
const batches = values.batches.split(',').map(Number);
if (![preload, timedRows, ...batches].every((n) => Number.isInteger(n) && n >= 0) || timedRows === 0 || batches.includes(0)) {
  throw new Error('floor-sqlite: --preload, --rows and --batches must be integers (rows and batches >= 1)');
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** rows[from..to) in transactions of `batch`, one per event-loop turn; the CPU and wall time it took. */
async function timedWrites(writer: RowWriter, rows: readonly FloorRow[], from: number, to: number, batch: number): Promise<{ cpuUs: number; wallMs: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let at = from; at < to; at += batch) {
    await nextTurn();
    writer.write(rows, at, Math.min(to, at + batch));
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuUs: cpu.user + cpu.system, wallMs: performance.now() - started };
}

async function runCase(schema: SqliteSchema, batch: number, rows: readonly FloorRow[]): Promise<SqliteResult> {
  const dir = join(values.dir!, `${schema}-${batch}`);
  mkdirSync(dir, { recursive: true });
  const writer = openWriter(schema, dir);
  try {
    for (let at = 0; at < preload; at += preloadBatch) writer.write(rows, at, Math.min(preload, at + preloadBatch));
    writer.checkpoint();
    const { cpuUs, wallMs } = await timedWrites(writer, rows, preload, preload + timedRows, batch);
    return { schema, batch, rows: timedRows, cpuUs, wallMs, objectBytes: rows[0]!.object.length };
  } finally {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = makeRows(preload + timedRows, Number(values['value-bytes']));
for (const schema of schemas) {
  for (const batch of batches) process.stdout.write(`${floorResultMarker}${JSON.stringify(await runCase(schema, batch, rows))}\n`);
}
