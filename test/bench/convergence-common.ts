// Small shared pieces of the benches: table printing and number formatting (both benches), a
// seeded shuffle and a forced GC for heap measurements (the convergence bench).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A plain-text table: the first row is the header, columns from `rightAlignFrom` on are right-aligned. */
export function table(rows: readonly (readonly string[])[], rightAlignFrom: number): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
/** 1234567 -> "1,234,567". */
export const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
export const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** Deterministic permutation of 0..n-1 (xorshift32, Fisher-Yates). */
export function shuffled(n: number, seed = 0x2545f491): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let x = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

let gcFn: (() => void) | undefined;
/** Runs a full GC if one can be had (exposes it at run time; no node flag needed), twice. */
export function forceGc(): boolean {
  if (gcFn === undefined) {
    try {
      const existing = (globalThis as { gc?: () => void }).gc;
      if (existing) gcFn = existing;
      else {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      }
    } catch {
      gcFn = () => undefined;
    }
  }
  gcFn();
  gcFn();
  return gcFn.name !== '';
}
