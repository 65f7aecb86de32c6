#!/usr/bin/env node
// Runs every test file under test/ (or under the paths given) with node:test, TypeScript via tsx.
// Node 20's --test does not expand globs or find .ts files itself, hence this script.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path).sort().flatMap((name) => (name === 'bench' || name === 'node_modules' ? [] : find(join(path, name))));
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test', 'jepsen-like']).flatMap((root) => {
  try {
    return find(root);
  } catch {
    return [];
  }
});
if (files.length === 0) {
  console.error('run-tests: no *.test.ts files found');
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
