// The last requests sent to each node, with how they ended: when a node dies, these are what it
// was doing (the request whose connection it dropped is the prime suspect).

export interface JournalEntry {
  readonly label: string;
  readonly request: string;
  readonly startedAt: number;
  outcome: string | undefined;
}

const keptPerNode = 12;

export class Journal {
  private readonly entries = new Map<number, JournalEntry[]>();

  start(node: number, label: string, request: string): JournalEntry {
    const entry: JournalEntry = { label, request, startedAt: Date.now(), outcome: undefined };
    const list = this.entries.get(node) ?? [];
    list.push(entry);
    if (list.length > keptPerNode) list.shift();
    this.entries.set(node, list);
    return entry;
  }

  /** The node's recent requests, suspects (still in flight, or dropped without an answer) first. */
  recent(node: number): JournalEntry[] {
    const list = [...(this.entries.get(node) ?? [])];
    const suspect = (e: JournalEntry) => e.outcome === undefined || /closed|timeout|reset|refused|EPIPE|ECONN/i.test(e.outcome);
    return [...list.filter(suspect).reverse(), ...list.filter((e) => !suspect(e)).reverse()];
  }

  describe(node: number): string[] {
    return this.recent(node).map((e) => `${e.label} -> ${e.outcome ?? 'in flight'}: ${e.request.slice(0, 600)}`);
  }
}
