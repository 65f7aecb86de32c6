// The test's run parameters from the environment: KVORUM_FUZZ_SEED (else one derived from the
// clock) and KVORUM_FUZZ_SECONDS (else the default budget).

export const seedEnv = 'KVORUM_FUZZ_SEED';
export const secondsEnv = 'KVORUM_FUZZ_SECONDS';

export function parseSeed(raw: string): number {
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`a seed is an integer in 0..${0xffffffff}, got ${JSON.stringify(raw)}`);
  return seed;
}

export function seedFromEnv(): number {
  const raw = process.env[seedEnv];
  return raw !== undefined && raw !== '' ? parseSeed(raw) : Date.now() % 1_000_000_000;
}

export function secondsFromEnv(fallback: number): number {
  const raw = process.env[secondsEnv];
  if (raw === undefined || raw === '') return fallback;
  const seconds = Number(raw);
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new Error(`${secondsEnv} must be a positive integer, got ${JSON.stringify(raw)}`);
  return seconds;
}
