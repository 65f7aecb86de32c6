// `kvorum status`: a human-readable view of the cluster from one GET /admin/overview: members,
// their state and phi (failure suspicion) as the asked node sees them, partitions owned, hints
// pending for each member (summed over every reachable node), the ring version each member holds,
// the hints it holds for others, its anti-entropy lag, and the transfers in progress.
import type { OverviewView } from '../api/views.js';
import { statusRequestTimeoutMs } from '../core/limits.js';

async function fetchOverview(url: string, token: string | undefined): Promise<OverviewView> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await fetch(`${url.replace(/\/+$/, '')}/admin/overview`, { headers, signal: AbortSignal.timeout(statusRequestTimeoutMs) });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: unknown };
    throw new Error(`HTTP ${res.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`);
  }
  return (await res.json()) as OverviewView;
}

function ownedBy(view: OverviewView): Map<string, { primary: number; replica: number }> {
  const owned = new Map<string, { primary: number; replica: number }>();
  for (const { owners } of view.ring) {
    owners.forEach((id, i) => {
      const o = owned.get(id) ?? { primary: 0, replica: 0 };
      if (i === 0) o.primary++;
      o.replica++;
      owned.set(id, o);
    });
  }
  return owned;
}

/** Seconds with one decimal, `-` for none. */
const secondsText = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : (ms / 1000).toFixed(1));

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function printMembers(view: OverviewView): void {
  const owned = ownedBy(view);
  const rows = view.members.map((m) => [
    m.id,
    m.membership,
    m.status,
    m.phi === null ? '-' : m.phi.toFixed(2),
    m.url ?? '-',
    String(owned.get(m.id)?.primary ?? 0),
    String(owned.get(m.id)?.replica ?? 0),
    String(m.hintsFor),
    m.ringVersion === null ? '-' : String(m.ringVersion),
    m.hintsHeld === null ? '-' : String(m.hintsHeld),
    m.antiEntropy === null ? '-' : secondsText(m.antiEntropy.sinceLastMs),
  ]);
  printTable(['MEMBER', 'MEMBERSHIP', 'STATUS', 'PHI', 'URL', 'PARTITIONS', 'REPLICAS', 'HINTS_PENDING', 'RING_VERSION', 'HINTS_HELD', 'AE_LAG_S'], rows);
}

function printTransfers(view: OverviewView): void {
  const { transfers } = view;
  const moving = view.ring.filter((p) => p.pending.length > 0).length;
  if (moving === 0 && transfers.transfers.length === 0) return;
  const eta = transfers.etaSeconds === null ? 'unknown' : `${transfers.etaSeconds} s`;
  console.log(`${moving} partitions moving, ${transfers.keysLeft} keys left, ETA ${eta}:`);
  const rows = transfers.transfers.map((t) => [String(t.partition), t.leaving.join(',') || '-', t.to, t.state, `${t.keys}/${t.keysTotal ?? '?'}`, String(t.bytes)]);
  printTable(['PARTITION', 'FROM', 'TO', 'STATE', 'KEYS', 'BYTES'], rows);
}

/** `token`: an admin token, for nodes with --auth-file. */
export async function printStatus(url: string, token?: string): Promise<number> {
  let view: OverviewView;
  try {
    view = await fetchOverview(url, token);
  } catch (err) {
    console.error(`kvorum status: cannot read ${url}/admin/overview: ${(err as Error).message}`);
    return 1;
  }
  console.log(`cluster as seen by ${view.node}: ${view.members.length} members, N=${view.n}, ${view.partitions} partitions, ring version ${view.ringVersion}, claimant ${view.claimant}`);
  printMembers(view);
  printTransfers(view);
  const unreachable = view.members.filter((m) => !m.reachable).map((m) => m.id);
  if (unreachable.length > 0) console.log(`(${unreachable.join(', ')} did not answer ${view.node}: their ring version, hints and anti-entropy are unknown, and hints they hold are not counted)`);
  return 0;
}
