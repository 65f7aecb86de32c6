// Where things are, for every harness that starts real processes (test/, test/bench/, test/fuzz/,
// jepsen-like/): the repository root (the child processes' cwd) and the built CLI they run.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The built `kvorum` CLI (`npm run build` first). */
export const cliPath = join(repoRoot, 'dist', 'cli', 'kvorum.js');
