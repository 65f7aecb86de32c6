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
// `*.solo.test.ts` files use every core themselves (the simulator's sweep): they run after the
// others, one at a time, so they neither slow down nor are slowed down by timing-sensitive tests.
const solo = files.filter((f) => f.endsWith('.solo.test.ts'));
const shared = files.filter((f) => !solo.includes(f));
const run = (list, concurrency) =>
  list.length === 0
    ? 0
    : (spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...list], { stdio: 'inherit' }).status ?? 1);
const sharedStatus = run(shared, 2);
const soloStatus = run(solo, 1);
process.exit(sharedStatus || soloStatus);
