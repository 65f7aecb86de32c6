// Runs many seeds on several cores: one child process per job (each loads tsx once), fed seeds
// one at a time from a shared queue, so a slow seed does not hold up the others. Each seed's run
// is independent and deterministic, so which child ran it does not matter.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimOptions, SimReport } from './run.js';

export type SweepOptions = Omit<SimOptions, 'seed'>;

/** What a child sends back per seed: the report without the bulky parts. */
export type SeedSummary = Omit<SimReport, 'faults' | 'counters'> & { readonly faultCount: number };

const workerPath = fileURLToPath(new URL('./sweep-worker.ts', import.meta.url));

export async function sweep(
  seeds: readonly number[],
  jobs: number,
  opts: SweepOptions,
  onResult: (s: SeedSummary) => void = () => {},
): Promise<SeedSummary[]> {
  const queue = [...seeds];
  const results: SeedSummary[] = [];
  const runChild = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child: ChildProcess = fork(workerPath, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let current: number | undefined;
      const next = () => {
        current = queue.shift();
        if (current === undefined) child.send({ type: 'exit' });
        else child.send({ type: 'run', options: { ...opts, seed: current } });
      };
      child.on('message', (message: SeedSummary | { type: 'ready' }) => {
        if ('type' in message) return next();
        results.push(message);
        onResult(message);
        next();
      });
      child.on('exit', (code) => {
        if (current === undefined && code === 0) return resolve();
        reject(new Error(`sweep worker exited with code ${code} while running seed ${current}`));
      });
      child.on('error', reject);
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, seeds.length)) }, runChild));
  return results.sort((a, b) => a.seed - b.seed);
}
