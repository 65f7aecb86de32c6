// Canary keys: written before the fuzzing (w=all), under names no generator produces, and read
// back byte for byte with their Content-Type at the end (r=all, through every node), after the
// cluster was stopped and restarted. Hostile traffic must not have touched them.
import type { Dispatcher } from 'undici';
import { Prng } from '../../jepsen-like/prng.js';
import { http } from '../kit/http.js';
import type { TestNode } from '../kit/test-cluster.js';
import { canaryPrefix, hex, randomBytes } from './gen-util.js';

export interface Canary {
  readonly key: string;
  readonly value: Buffer;
  readonly contentType: string;
}

export const canaryCount = 20;
const contentTypes = ['application/x-canary', 'text/plain; charset=utf-8', 'image/png', 'application/octet-stream', 'foo/bar; x=1'];
const timeoutMs = 10_000;

export function makeCanaries(seed: number, count = canaryCount): Canary[] {
  const prng = new Prng(seed).fork('canaries');
  return Array.from({ length: count }, (_, i) => ({
    key: `${canaryPrefix}${hex(prng, 16)}`,
    value: randomBytes(prng, i === 0 ? 0 : prng.int(1, 4096)),
    contentType: prng.pick(contentTypes),
  }));
}

/** Options of the fuzzer's own requests (secure.ts): the admin token and the CA of a secure cluster. */
export type Own = { readonly headers?: Record<string, string>; readonly dispatcher?: Dispatcher };

export async function writeCanaries(nodes: readonly TestNode[], canaries: readonly Canary[], own: Own = {}): Promise<void> {
  for (const [i, c] of canaries.entries()) {
    const node = nodes[i % nodes.length]!;
    const res = await http('PUT', `${node.url}/kv/${c.key}?w=all`, { body: c.value, headers: { ...own.headers, 'content-type': c.contentType }, timeoutMs, ...(own.dispatcher ? { dispatcher: own.dispatcher } : {}) });
    if (res.status !== 204) throw new Error(`writing canary ${c.key} via ${node.id}: ${res.status} ${res.text().slice(0, 200)}`);
  }
}

/** Every way a canary does not read back as written, through every node. */
export async function checkCanaries(nodes: readonly TestNode[], canaries: readonly Canary[], own: Own = {}): Promise<string[]> {
  const problems: string[] = [];
  for (const node of nodes) {
    for (const c of canaries) {
      try {
        const res = await http('GET', `${node.url}/kv/${c.key}?r=all`, { timeoutMs, ...own });
        const type = res.headers.get('content-type');
        if (res.status !== 200) problems.push(`${c.key} via ${node.id}: ${res.status} ${res.text().slice(0, 200)}`);
        else if (!res.body.equals(c.value)) problems.push(`${c.key} via ${node.id}: ${res.body.length} bytes differ from the ${c.value.length} written`);
        else if (type !== c.contentType) problems.push(`${c.key} via ${node.id}: Content-Type ${JSON.stringify(type)}, written ${JSON.stringify(c.contentType)}`);
      } catch (err) {
        problems.push(`${c.key} via ${node.id}: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}
