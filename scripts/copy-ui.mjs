#!/usr/bin/env node
// Part of `npm run build`: tsc compiles only TypeScript, so the web console's static files
// (src/ui/: HTML, ES modules, CSS; no bundler) are copied to dist/ui/, where the node serves them from.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist', 'ui'), { recursive: true, force: true });
cpSync(join(root, 'src', 'ui'), join(root, 'dist', 'ui'), { recursive: true });
