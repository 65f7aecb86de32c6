// The convergence checker. After the faults are healed the runner polls each node's own copy of
// every key (GET /replica/kv/{key}: the replica's version token, or null when it holds no copy) until
// they agree, and records how long that took (`convergenceMs`, null when it gave up). Eventual
// consistency promises that, with no new writes and no faults, every replica ends up with the same
// version: the run is invalid if it did not converge, or if the versions it finally collected still
// differ between nodes holding a copy.
//
// `keysUnderReplicated` (fewer than N nodes hold a copy) is reported for information only: a node
// that is not among a key's primaries rightly holds nothing once hints have been handed off.
import type { ReplicaVersion, RunInfo } from '../history.js';

export interface DivergedKey {
  readonly key: string;
  /** Per node, its version (null: no copy). */
  readonly versions: readonly { readonly node: string; readonly version: string | null }[];
  /** How many distinct non-null versions. */
  readonly distinct: number;
}

export interface ConvergenceResults {
  /** converged && no key diverged. */
  readonly valid: boolean;
  /** The runner saw every replica agree (convergenceMs !== null). */
  readonly converged: boolean;
  /** Time from healing to agreement, null when it did not converge. */
  readonly convergenceMs: number | null;
  readonly keys: number;
  /** Keys whose non-null versions differ. */
  readonly keysDiverged: { readonly count: number; readonly examples: readonly DivergedKey[] };
  /** Keys held by fewer than N nodes (information only). */
  readonly keysUnderReplicated: { readonly count: number; readonly examples: readonly { readonly key: string; readonly copies: number }[] };
  /** Keys no node holds a copy of. */
  readonly keysMissing: readonly string[];
}

const EXAMPLES = 20;

export function checkConvergence(info: Pick<RunInfo, 'n'>, replicaVersions: readonly ReplicaVersion[], convergenceMs: number | null): ConvergenceResults {
  const byKey = new Map<string, { node: string; version: string | null }[]>();
  for (const r of replicaVersions) {
    let list = byKey.get(r.key);
    if (list === undefined) byKey.set(r.key, (list = []));
    list.push({ node: r.node, version: r.version });
  }
  const diverged: DivergedKey[] = [];
  const under: { key: string; copies: number }[] = [];
  const missing: string[] = [];
  for (const [key, list] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const present = list.filter((v) => v.version !== null);
    const distinct = new Set(present.map((v) => v.version)).size;
    if (distinct > 1) diverged.push({ key, versions: list, distinct });
    if (present.length === 0) missing.push(key);
    else if (present.length < info.n) under.push({ key, copies: present.length });
  }
  const converged = convergenceMs !== null;
  return {
    valid: converged && diverged.length === 0,
    converged,
    convergenceMs,
    keys: byKey.size,
    keysDiverged: { count: diverged.length, examples: diverged.slice(0, EXAMPLES) },
    keysUnderReplicated: { count: under.length, examples: under.slice(0, EXAMPLES) },
    keysMissing: missing,
  };
}
