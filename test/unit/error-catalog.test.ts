// The Errors table of docs/api.md and the catalog in src/core/errors.ts must list the same
// (status, code) pairs: every error a user can see is documented, and nothing documented is missing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCatalog } from '../../src/core/errors.js';

const apiDoc = join(import.meta.dirname, '../../docs/api.md');

interface Row {
  readonly status: number;
  readonly code: string;
  readonly line: number;
}

/**
 * The rows of the Errors table: from its header line (`| status | \`error\` | when |`, the first table
 * row whose second cell is `error` in backticks) to the next blank line, separator row excluded.
 * Throws if the table is missing or a row is malformed.
 */
export function parseErrorTable(markdown: string): Row[] {
  const lines = markdown.split(/\r?\n/);
  const header = lines.findIndex((l) => /^\|\s*status\s*\|\s*`error`\s*\|/.test(l.trim()));
  if (header < 0) throw new Error('docs/api.md: no Errors table (a header row containing `error`)');
  const rows: Row[] = [];
  for (let i = header + 1; i < lines.length && lines[i]!.trim() !== ''; i++) {
    const line = lines[i]!.trim();
    const cells = line.replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
    if (cells.every((c) => /^:?-{3,}:?$/.test(c))) continue; // | --- | --- | --- |
    const status = /^[0-9]{3}$/.test(cells[0] ?? '') ? Number(cells[0]) : NaN;
    const code = /^`([a-z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!line.startsWith('|') || Number.isNaN(status) || code === undefined) {
      throw new Error(`docs/api.md line ${i + 1}: not a "| status | \`code\` | when |" row: ${line}`);
    }
    rows.push({ status, code, line: i + 1 });
  }
  return rows;
}

/** Human-readable differences between the documented rows and the catalog; empty when they agree. */
export function catalogDiff(rows: readonly Row[], catalog: Readonly<Record<string, { readonly status: number }>>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, Row>();
  for (const row of rows) {
    const first = seen.get(row.code);
    if (first) problems.push(`\`${row.code}\` is listed twice in docs/api.md (lines ${first.line} and ${row.line})`);
    else seen.set(row.code, row);
  }
  for (const [code, { status }] of Object.entries(catalog)) {
    const row = seen.get(code);
    if (!row) problems.push(`missing from docs/api.md: | ${status} | \`${code}\` | (in src/core/errors.ts)`);
    else if (row.status !== status) {
      problems.push(`status differs for \`${code}\`: docs/api.md line ${row.line} says ${row.status}, src/core/errors.ts says ${status}`);
    }
  }
  for (const row of seen.values()) {
    if (!Object.hasOwn(catalog, row.code)) {
      problems.push(`not in src/core/errors.ts: | ${row.status} | \`${row.code}\` | (docs/api.md line ${row.line})`);
    }
  }
  return problems;
}

const diffOf = (markdown: string) => catalogDiff(parseErrorTable(markdown), errorCatalog);

describe('error catalog vs docs/api.md', () => {
  const doc = readFileSync(apiDoc, 'utf8');

  it('lists exactly the (status, code) pairs of errorCatalog', () => {
    const problems = diffOf(doc);
    assert.deepEqual(problems, [], `docs/api.md Errors table and src/core/errors.ts disagree:\n  ${problems.join('\n  ')}`);
    const documented = parseErrorTable(doc).map((r) => `${r.status} ${r.code}`).sort();
    const catalogued = Object.entries(errorCatalog).map(([code, e]) => `${e.status} ${code}`).sort();
    assert.deepEqual(documented, catalogued);
  });

  // The check must be able to fail: mutate the document in memory, never the file.
  it('fails when a catalogued code is missing from the table', () => {
    const without = doc.replace(/^\| 413 \| `value_too_large` \|.*\n/m, '');
    assert.notEqual(without, doc, 'fixture: the value_too_large row was not found');
    assert.deepEqual(diffOf(without), ['missing from docs/api.md: | 413 | `value_too_large` | (in src/core/errors.ts)']);
  });

  it('fails when a documented status differs from the catalog', () => {
    const changed = doc.replace(/^\| 503 \| `quorum_unavailable` \|/m, '| 500 | `quorum_unavailable` |');
    assert.notEqual(changed, doc, 'fixture: the quorum_unavailable row was not found');
    const problems = diffOf(changed);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /status differs for `quorum_unavailable`: .* says 500, src\/core\/errors\.ts says 503/);
  });

  it('fails when the table lists a code the catalog does not have', () => {
    const extra = doc.replace(/^\| 404 \| `not_found` \|.*\n/m, (row) => `${row}| 409 | \`conflict\` | made up |\n`);
    assert.notEqual(extra, doc, 'fixture: the not_found row was not found');
    assert.deepEqual(diffOf(extra).map((p) => p.replace(/ \(docs.*$/, '')), ['not in src/core/errors.ts: | 409 | `conflict` |']);
  });

  it('fails on a duplicated row and refuses a malformed one', () => {
    const duplicated = doc.replace(/^\| 404 \| `not_found` \|.*\n/m, (row) => row + row);
    assert.match(diffOf(duplicated).join('\n'), /`not_found` is listed twice/);
    const malformed = doc.replace(/^\| 404 \| `not_found` \|/m, '| 404 | not_found |');
    assert.throws(() => parseErrorTable(malformed), /not a "\| status \| `code` \| when \|" row/);
    assert.throws(() => parseErrorTable('# no table here\n'), /no Errors table/);
  });

  it('stops at the first blank line after the table', () => {
    const after = doc.replace(/^\| 500 \| `internal_error` \|.*\n/m, (row) => `${row}\n| 418 | \`teapot\` | after the table |\n`);
    assert.deepEqual(diffOf(after), []);
  });
});
