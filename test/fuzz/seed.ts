// The run's seed: KVORUM_FUZZ_SEED if set, else one derived from the clock.

export const seedEnv = 'KVORUM_FUZZ_SEED';

export function parseSeed(raw: string): number {
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`a seed is an integer in 0..${0xffffffff}, got ${JSON.stringify(raw)}`);
  return seed;
}

export function seedFromEnv(): number {
  const raw = process.env[seedEnv];
  return raw !== undefined && raw !== '' ? parseSeed(raw) : Date.now() % 1_000_000_000;
}
