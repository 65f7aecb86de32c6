// `kvorum status`: a human-readable view of the cluster as one node sees it.
interface ClusterView {
  node: string;
  n: number;
  partitions: number;
  members: { id: string; url: string | null; status: string }[];
  ring: { partition: number; owners: string[] }[];
}

export async function printStatus(url: string): Promise<number> {
  let view: ClusterView;
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/cluster`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    view = (await res.json()) as ClusterView;
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
  console.log(`cluster as seen by ${view.node}: ${view.members.length} members, N=${view.n}, ${view.partitions} partitions`);
  const rows = view.members.map((m) => [
    m.id,
    m.status,
    m.url ?? '-',
    String(owned.get(m.id)?.primary ?? 0),
    String(owned.get(m.id)?.replica ?? 0),
  ]);
  const header = ['MEMBER', 'STATUS', 'URL', 'PARTITIONS', 'REPLICAS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  return 0;
}
