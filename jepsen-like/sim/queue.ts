// The event queue: a binary min-heap ordered by (time, insertion sequence). The sequence makes
// the order total, so two events at the same simulated millisecond always fire in the order
// they were scheduled, never in an order that depends on the heap's shape or on real time.

/** Who an event belongs to: a node incarnation, whose events die with it and wait while it is paused. */
export interface EventOwner {
  /** Bumped by every crash: events of an older generation are discarded. */
  readonly gen: number;
  readonly state: 'up' | 'down' | 'paused';
  /** Events that came due while paused, replayed in order on resume. */
  readonly deferred: SimEvent[];
}

/** For events owned by a node but not by one incarnation (an arriving message finds whoever runs). */
export const anyGeneration = -1;

export interface SimEvent {
  at: number;
  seq: number;
  readonly fire: () => void;
  readonly owner: EventOwner | undefined;
  readonly gen: number;
  cancelled: boolean;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
