// The simulator's only source of randomness: the harness's seeded sfc32 generator (../prng.ts), plus
// the few draws only the simulator needs. Everything random in a run draws from one instance, in
// event order, so a seed is a run.
import { Prng as BasePrng } from '../prng.js';

export class SimPrng extends BasePrng {
  /** Exponentially distributed with the given mean (memoryless gaps between events). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A random subset: each item kept with probability p. */
  subset<T>(items: readonly T[], p: number): T[] {
    return items.filter(() => this.chance(p));
  }

  /** A hex token (incarnations): drawn from the stream, so reproducible. */
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.nextUint32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
}
