#!/usr/bin/env node
// src/core must stay pure and deterministic: time, randomness, network and storage come in
// through the ports in core/ports.ts, so the same code runs in the seeded simulator.
// Exits 1 and lists every violation. Usage: node scripts/check-core-purity.mjs [dir]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'src/core';
// node:crypto is allowed for hashing only (randomBytes/randomUUID are banned below); node:buffer is a value type.
// zod is a pure schema library (no I/O, no clock, no randomness): the core's trust-boundary schemas use it.
const allowedNodeModules = new Set(['node:crypto', 'node:buffer', 'zod']);
const bannedCalls = [
  [/\bDate\.now\s*\(/, 'Date.now() (use runtime.now())'],
  [/\bnew Date\s*\(/, 'new Date() (use runtime.now())'],
  [/\bperformance\.now\s*\(/, 'performance.now() (use runtime.now())'],
  [/\bMath\.random\s*\(/, 'Math.random() (use runtime.random())'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'timers (use runtime.setTimer())'],
  [/\b(randomBytes|randomUUID|randomInt|getRandomValues)\b/, 'crypto randomness (use runtime.random())'],
  [/\bprocess\.(env|exit|hrtime|nextTick)\b/, 'process globals'],
  [/\bfetch\s*\(/, 'fetch() (use the Transport port)'],
];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const violations = [];
for (const file of files(root)) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      const local = spec.startsWith('./') || spec.startsWith('../');
      if (local && spec.startsWith('../')) violations.push(`${file}:${i + 1}: imports ${spec} from outside src/core`);
      else if (!local && !allowedNodeModules.has(spec)) violations.push(`${file}:${i + 1}: imports ${spec} (I/O or a dependency; core takes ports)`);
    }
    for (const [pattern, what] of bannedCalls) if (pattern.test(code)) violations.push(`${file}:${i + 1}: ${what}`);
  });
}
if (violations.length > 0) {
  console.error(`core purity check failed (${violations.length}):\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`core purity check: ${root} is clean`);
