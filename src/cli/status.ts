// `kvorum status`: a human-readable view of the cluster: members, their state and phi (failure
// suspicion) as the asked node sees them, partitions owned, and hints pending for each member
// (summed over every reachable node).
import type { ClusterView } from '../api/views.js';
import { statusRequestTimeoutMs } from '../core/limits.js';

async function fetchCluster(url: string, token: string | undefined): Promise<ClusterView> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await fetch(`${url.replace(/\/+$/, '')}/cluster`, { headers, signal: AbortSignal.timeout(statusRequestTimeoutMs) });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: unknown };
    throw new Error(`HTTP ${res.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`);
  }
  return (await res.json()) as ClusterView;
}

/** `token`: an admin token, for nodes with --auth-file. */
export async function printStatus(url: string, token?: string): Promise<number> {
  let view: ClusterView;
  try {
    view = await fetchCluster(url, token);
  } catch (err) {
    console.error(`kvorum status: cannot read ${url}/cluster: ${(err as Error).message}`);
    return 1;
  }
  const owned = new Map<string, { primary: number; replica: number }>();
  for (const { owners } of view.ring) {
    owners.forEach((id, i) => {
      const o = owned.get(id) ?? { primary: 0, replica: 0 };
      if (i === 0) o.primary++;
      o.replica++;
      owned.set(id, o);
    });
  }
  // Hints for a member are held by the other nodes: ask each of them.
  const hints = new Map<string, number>();
  const views = await Promise.all(view.members.map((m) => (m.url ? fetchCluster(m.url, token).catch(() => undefined) : undefined)));
  const unreachable = view.members.filter((_, i) => views[i] === undefined).map((m) => m.id);
  for (const v of views) for (const m of v?.members ?? []) hints.set(m.id, (hints.get(m.id) ?? 0) + m.hintsPending);

  console.log(`cluster as seen by ${view.node}: ${view.members.length} members, N=${view.n}, ${view.partitions} partitions, ring version ${view.ringVersion}, claimant ${view.claimant}`);
  const rows = view.members.map((m) => [
    m.id,
    m.membership,
    m.status,
    m.phi === null ? '-' : m.phi.toFixed(2),
    m.url ?? '-',
    String(owned.get(m.id)?.primary ?? 0),
    String(owned.get(m.id)?.replica ?? 0),
    String(hints.get(m.id) ?? 0),
  ]);
  const header = ['MEMBER', 'MEMBERSHIP', 'STATUS', 'PHI', 'URL', 'PARTITIONS', 'REPLICAS', 'HINTS_PENDING'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  const moving = view.ring.filter((p) => p.pending.length > 0).length;
  if (moving > 0) console.log(`${moving} partitions moving: "kvorum admin transfers" shows their progress`);
  if (unreachable.length > 0) console.log(`(hints held by ${unreachable.join(', ')} not counted: unreachable)`);
  return 0;
}
