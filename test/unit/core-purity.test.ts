// The lint rule that keeps src/core pure must pass on src/core and fail on a violation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(import.meta.dirname, '../../scripts/check-core-purity.mjs');
const check = (dir: string) => spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });

describe('core purity check', () => {
  it('passes on src/core', () => {
    const r = check(join(import.meta.dirname, '../../src/core'));
    assert.equal(r.status, 0, r.stderr);
  });

  const violations: [string, string][] = [
    ["import { readFileSync } from 'node:fs';", 'node:fs'],
    ["import { request } from 'undici';", 'undici'],
    ["import { x } from '../storage/sqlite.js';", 'outside src/core'],
    ['const t = Date.now();', 'Date.now'],
    ['const r = Math.random();', 'Math.random'],
    ['setTimeout(() => {}, 1);', 'timers'],
    ['const i = setInterval(() => {}, 1);', 'timers'],
    ["const id = randomUUID();", 'randomness'],
    ["const home = process.env['HOME'];", 'process'],
  ];
  for (const [code, expected] of violations) {
    it(`fails on: ${code}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'kvorum-purity-'));
      try {
        writeFileSync(join(dir, 'bad.ts'), `${code}\n`);
        const r = check(dir);
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(expected.replace('.', '\\.')));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
