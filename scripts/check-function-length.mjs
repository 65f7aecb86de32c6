#!/usr/bin/env node
// Functions stay short enough to read at once: no function, method or arrow in src/ or jepsen-like/
// (tests excepted: a describe() block is not a function in this sense) spans more than
// functionLinesMax lines. Exits 1 listing each offender. Usage: node scripts/check-function-length.mjs [dir...]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const functionLinesMax = 70;
const roots = process.argv.length > 2 ? process.argv.slice(2) : ['src', 'jepsen-like'];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

function nameOf(node, source) {
  if (node.name) return node.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  return '(anonymous)';
}

const offenders = [];
for (const path of roots.flatMap(files)) {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > functionLinesMax) offenders.push(`${path}:${first + 1}: ${nameOf(node, source)} is ${lines} lines (max ${functionLinesMax})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
if (offenders.length > 0) {
  console.error(`function length: ${offenders.length} over ${functionLinesMax} lines:\n  ${offenders.join('\n  ')}`);
  process.exit(1);
}
console.log(`function length: every function in ${roots.join(', ')} is at most ${functionLinesMax} lines`);
