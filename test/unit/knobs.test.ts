// The knob table (src/node/knobs.ts) is the one source of `kvorum start` configuration:
// config/default.json, the flag tables of docs/api.md and the README, and the usage text must agree with it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../../src/cli/usage.js';
import { defaultText, extraStartFlags, knobDefaults, knobs, type Knob } from '../../src/node/knobs.js';

const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const table = knobs as readonly Knob[];

export interface FlagRow {
  readonly flag: string;
  readonly oldFlag: string | undefined;
  readonly key: string | undefined;
  readonly oldKey: string | undefined;
  readonly defaultCell: string;
  readonly meaning: string;
  readonly line: number;
}

// Cells split on `|` but not on `\|` (escaped inside code, e.g. `--sync normal\|full`).
const cellsOf = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
const oldName = (cell: string) => /old name `-*([^`]+)`/.exec(cell)?.[1];

/**
 * The rows of the first `| flag | config key | default | ... |` table after `heading` (a line of the
 * document), to the next blank line. Throws if there is no such table or a row has no flag.
 */
export function parseFlagTable(markdown: string, heading: string): FlagRow[] {
  const lines = markdown.split(/\r?\n/);
  const from = lines.indexOf(heading);
  if (from < 0) throw new Error(`no heading ${JSON.stringify(heading)}`);
  const header = lines.findIndex((l, i) => i > from && /^\|\s*flag\s*\|\s*config key\s*\|\s*default\s*\|/.test(l.trim()));
  if (header < 0) throw new Error(`no "| flag | config key | default |" table after ${JSON.stringify(heading)}`);
  const rows: FlagRow[] = [];
  for (let i = header + 1; i < lines.length && lines[i]!.trim() !== ''; i++) {
    const cells = cellsOf(lines[i]!);
    if (cells.every((c) => /^:?-{3,}:?$/.test(c))) continue;
    const [flagCell = '', keyCell = '', defaultCell = '', meaning = ''] = cells;
    // The flag is the last `--name` of the first code span (`-h`, `--help` names help).
    const flag = /`(?:-\w, )?--([a-z-]+)[^`]*`/.exec(flagCell.replace(/`, `/g, ', '))?.[1];
    if (flag === undefined) throw new Error(`line ${i + 1}: no \`--flag\` in the first cell: ${lines[i]!}`);
    const key = /^`([A-Za-z]+)`/.exec(keyCell)?.[1];
    rows.push({ flag, oldFlag: oldName(flagCell), key, oldKey: oldName(keyCell), defaultCell: defaultCell.replace(/`/g, ''), meaning, line: i + 1 });
  }
  return rows;
}

/** Differences between documented rows and the knob table; empty when they agree. */
export function flagTableDiff(rows: readonly FlagRow[], opts: { readonly bounds: boolean }): string[] {
  const problems: string[] = [];
  const documented = rows.filter((r) => !Object.hasOwn(extraStartFlags, r.flag));
  const want = table.map((k) => k.flag);
  const got = documented.map((r) => r.flag);
  if (want.join() !== got.join()) problems.push(`flags differ from src/node/knobs.ts (same order):\n    table: ${want.join(' ')}\n    docs:  ${got.join(' ')}`);
  for (const row of documented) {
    const knob = table.find((k) => k.flag === row.flag);
    if (!knob) continue;
    const at = `--${row.flag} (line ${row.line})`;
    if (row.key !== knob.key) problems.push(`${at}: config key ${String(row.key)}, table says ${knob.key}`);
    if (row.oldFlag !== knob.old?.flag || row.oldKey !== knob.old?.key) {
      problems.push(`${at}: old names ${String(row.oldFlag)}/${String(row.oldKey)}, table says ${String(knob.old?.flag)}/${String(knob.old?.key)}`);
    }
    if (!row.defaultCell.startsWith(defaultText(knob))) problems.push(`${at}: default "${row.defaultCell}", table says ${defaultText(knob)}`);
    if (opts.bounds && (knob.kind === 'integer' || knob.kind === 'number') && !row.meaning.includes(`${knob.min}..${knob.max}`)) {
      problems.push(`${at}: the meaning does not state the bounds ${knob.min}..${knob.max}`);
    }
    if (opts.bounds && knob.kind === 'enum') {
      const missing = knob.values.filter((v) => !row.meaning.includes(`\`${v}\``));
      if (missing.length > 0) problems.push(`${at}: the meaning does not list ${missing.join(', ')}`);
    }
  }
  return problems;
}

const apiDiff = (doc: string) => flagTableDiff(parseFlagTable(doc, '### `kvorum start`'), { bounds: true });
const readmeDiff = (doc: string) => flagTableDiff(parseFlagTable(doc, '## Configuration'), { bounds: false });

describe('knob table', () => {
  it('config/default.json holds exactly its defaults', () => {
    assert.deepEqual(JSON.parse(read('config/default.json')), knobDefaults());
  });

  it('names are unique and put the unit last', () => {
    for (const by of ['key', 'flag'] as const) {
      const names = table.flatMap((k) => [k[by], ...(k.old ? [k.old[by]] : [])]);
      assert.equal(new Set(names).size, names.length, `${by}s are unique`);
    }
    for (const knob of table) {
      assert.equal(knob.flag, knob.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), `flag of ${knob.key}`);
      assert.doesNotMatch(knob.key, /^(max|min)[A-Z]/, `${knob.key}: the unit and max/min go last`);
      if (knob.kind === 'integer' || knob.kind === 'number') assert.ok(knob.min <= (knob.default as number) && (knob.default as number) <= knob.max, knob.key);
    }
  });

  it('the usage text lists every flag, its key and its default', () => {
    const text = usage();
    for (const knob of table) assert.match(text, new RegExp(`--${knob.flag} .*\\[${knob.key}; default ${defaultText(knob).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('docs/api.md `kvorum start` table lists exactly its flags, keys, defaults and bounds', () => {
    const problems = apiDiff(read('docs/api.md'));
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('the README Configuration table lists exactly its flags, keys and defaults', () => {
    const problems = readmeDiff(read('README.md'));
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('the README Convergence knob table agrees on flags, keys and defaults', () => {
    const rows = read('README.md').split('\n').filter((l) => /^\| `--[a-z-]+` \/ `\w+` \|/.test(l));
    assert.ok(rows.length >= 5, 'fixture: the Convergence knob rows were not found');
    for (const line of rows) {
      const [, flag, key, value] = /^\| `--([a-z-]+)` \/ `(\w+)` \| (\S+) \|/.exec(line)!;
      const knob = table.find((k) => k.flag === flag);
      assert.equal(knob?.key, key, line);
      assert.equal(String(knob?.default), value, line);
    }
  });

  // The check must be able to fail: mutate the documents in memory, never the files.
  it('fails when a doc row is missing, renamed, has another default or loses its bounds', () => {
    const doc = read('docs/api.md');
    const row = /^\| `--probe-interval-ms MS` \|.*\n/m;
    assert.match(doc, row, 'fixture: the probe-interval-ms row was not found');
    assert.match(apiDiff(doc.replace(row, '')).join('\n'), /flags differ/);
    assert.match(apiDiff(doc.replace('| `probeIntervalMs` | `1000` |', '| `probeInterval` | `1000` |')).join('\n'), /config key probeInterval, table says probeIntervalMs/);
    assert.match(apiDiff(doc.replace('| `probeIntervalMs` | `1000` |', '| `probeIntervalMs` | `2000` |')).join('\n'), /default "2000", table says 1000/);
    assert.match(apiDiff(doc.replace('failure-detector ping interval, 50..60000', 'failure-detector ping interval')).join('\n'), /bounds 50\.\.60000/);
    assert.match(apiDiff(doc.replace(' (old name `maxValueBytes`)', '')).join('\n'), /old names max-value-bytes\/undefined/);
    assert.match(apiDiff(doc.replace('believed down, 1..100;', 'believed down;')).join('\n'), /--phi-threshold .*bounds 1\.\.100/);
    assert.match(readmeDiff(read('README.md').replace('| `n` | `3` |', '| `n` | `5` |')).join('\n'), /--n .*default "5", table says 3/);
    assert.throws(() => parseFlagTable('# nothing\n', '### `kvorum start`'), /no heading/);
  });
});
