// The fuzzer's generator: case number `index` of worker `worker` under `seed`, a pure function of
// those three numbers (each case has its own PRNG stream), so any case of a run can be rebuilt
// and sent again alone.
import { Prng } from '../../jepsen-like/prng.js';
import { generateAdminCase } from './gen-admin.js';
import { generateClientCase } from './gen-client.js';
import { generateRawCase } from './gen-raw.js';
import { generateRpcCase, type RpcGenConfig } from './gen-rpc.js';
import { weighted } from './gen-util.js';
import { withTokens, type FuzzTokens } from './gen-auth.js';
import type { Family, FuzzCase } from './types.js';

/** With `tokens`, the cluster runs with --auth-file and client and admin requests carry them. */
export type GeneratorConfig = RpcGenConfig & { readonly tokens?: FuzzTokens };

/** How often each family is drawn. */
export const familyWeights: readonly (readonly [number, Family])[] = [
  [40, 'client'],
  [14, 'admin'],
  [30, 'rpc'],
  [16, 'raw'],
];

export function generate(seed: number, worker: number, index: number, config: GeneratorConfig): FuzzCase {
  const prng = new Prng(seed).fork(`case/${worker}/${index}`);
  const fuzzCase = generateFamily(prng, config);
  return config.tokens ? withTokens(fuzzCase, prng.fork('auth'), config.tokens) : fuzzCase;
}

function generateFamily(prng: Prng, config: GeneratorConfig): FuzzCase {
  switch (weighted(prng, familyWeights)) {
    case 'client':
      return generateClientCase(prng, config);
    case 'admin':
      return generateAdminCase(prng, config);
    case 'rpc':
      return generateRpcCase(prng, config);
    case 'raw':
      return generateRawCase(prng, config);
  }
}
