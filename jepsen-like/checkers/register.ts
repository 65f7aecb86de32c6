// The register checker: monotonic reads (and read-your-writes) under quorum, per client process.
//
// Workload: each key has one writer process, which writes increasing integers; any process reads,
// and a read marked `quorum: true` was made with r + w > N after writes with that w.
//
// What is asserted. For a process P, a key K and a quorum read by P of K that completed ok, invoked
// at t, returning x (null, "not found", counting as below every value):
//
//     x >= max { v : P itself saw v before t  (P's own write of v completed ok, or P read v)
//                    and the write of v had been acknowledged (completed ok) before t }
//
// Why acknowledged. With r + w > N every read quorum intersects every write quorum, so a read
// invoked after a write was acknowledged by w replicas reaches at least one replica holding it (or
// a newer version, and values only increase). A value P merely read is not enough: it may come from a
// write still in flight, or one that ended in `info` after reaching a single replica; without
// synchronous read repair nothing makes it stick, and a later quorum read may legitimately miss it.
// Once that write is acknowledged the intersection argument covers it, however P learnt of it.
//
// Why faults are exempt. The intersection holds only among the key's N primary replicas. Under sloppy
// quorum a write acknowledged during a fault (partition, killed or paused node) may be held by
// fallback nodes that a later read does not ask, until hinted handoff delivers it; a read during a
// fault may be answered by fallbacks holding nothing; and a wiped replica forgets what it acknowledged
// until anti-entropy repairs it. So a read below the bound is a violation (and invalidates the run)
// only when all of these hold, and is otherwise reported as exempt:
//   - no fault window overlaps the read's interval [invoke, completion];
//   - the write that set the bound overlapped no fault window (it was not a sloppy-quorum ack);
//   - no `wipe` window overlaps [that write's ack, the read's completion].
// Precisely, the invalidating bound is computed over the fault-free writes only, the reported bound
// over all of them.
//
// Also a violation: a read returning a value no process ever attempted to write to that key, or one
// whose every write got `fail` (which promises it was not written).
import type { FaultWindow, Op } from '../history.js';
import { asNumber, faultsOverlapping, overlaps, pairOps, type Pair } from './ops.js';

export interface RegisterViolation {
  readonly process: number;
  readonly key: string;
  readonly node: string;
  readonly invokeMs: number;
  readonly completeMs: number;
  /** What the read returned (null: not found). */
  readonly value: number | null;
  /** The largest acknowledged value the process had seen before invoking the read. */
  readonly bound: number;
  readonly boundSource: 'own write' | 'read';
  /** When the write of `bound` was acknowledged. */
  readonly boundAckMs: number;
  /** Kinds of the fault windows overlapping the read (empty outside faults). */
  readonly faults: readonly string[];
  /** For exempt reads: why the guarantee did not apply. */
  readonly exemptBecause?: string;
}

export interface UnexpectedRegisterRead {
  readonly process: number;
  readonly key: string;
  readonly node: string;
  readonly completeMs: number;
  readonly value: number;
  readonly reason: 'never written' | 'write failed';
}

export interface RegisterResults {
  readonly valid: boolean;
  readonly keys: number;
  readonly writes: { readonly ok: number; readonly fail: number; readonly info: number };
  /** Reads that completed ok: quorum ones (checked) and others (only feed what a process saw). */
  readonly reads: { readonly quorum: number; readonly other: number; readonly failOrInfo: number };
  /** Quorum reads below the fault-free bound, outside faults: these invalidate the run. Up to 20 examples. */
  readonly violations: { readonly count: number; readonly examples: readonly RegisterViolation[] };
  /** Quorum reads below the bound that a fault excuses. Up to 20 examples. */
  readonly exempt: { readonly count: number; readonly examples: readonly RegisterViolation[] };
  readonly unexpected: { readonly count: number; readonly examples: readonly UnexpectedRegisterRead[] };
}

interface Seen {
  readonly value: number;
  /** The write's ack time. */
  readonly ackMs: number;
  /** Usable as a bound for reads invoked strictly after this time. */
  readonly eligibleAfterMs: number;
  /** The write overlapped no fault window. */
  readonly clean: boolean;
  readonly source: 'own write' | 'read';
}

interface ProcessKeyState {
  all: Seen | undefined;
  clean: Seen | undefined;
  pending: Seen[];
}

const EXAMPLES = 20;

export function checkRegister(history: readonly Op[], faults: readonly FaultWindow[]): RegisterResults {
  const pairs = pairOps(history);
  const checker = new RegisterChecker(writesOf(pairs), faults);
  // Pairs are in invoke order, and a process has one operation in flight, so each process's
  // operations are visited in its own program order.
  for (const p of pairs) {
    if (p.f === 'write') checker.write(p);
    else if (p.f === 'read') checker.read(p);
  }
  return checker.results();
}

interface Writes {
  /** Per key, per value: its earliest acknowledged write. */
  readonly acked: Map<string, Map<number, Pair>>;
  /** Per key, per value: whether every write of it failed, or one may have landed. */
  readonly attempted: Map<string, Map<number, 'failed' | 'maybe'>>;
  readonly counts: { ok: number; fail: number; info: number };
  readonly keys: Set<string>;
}

function writesOf(pairs: readonly Pair[]): Writes {
  const writes: Writes = { acked: new Map(), attempted: new Map(), counts: { ok: 0, fail: 0, info: 0 }, keys: new Set() };
  for (const p of pairs) {
    writes.keys.add(p.key);
    if (p.f !== 'write') continue;
    writes.counts[p.type]++;
    const value = asNumber(p.invoke.value);
    if (value === undefined) continue;
    let tried = writes.attempted.get(p.key);
    if (tried === undefined) writes.attempted.set(p.key, (tried = new Map()));
    if (p.type !== 'fail' || !tried.has(value)) tried.set(value, p.type === 'fail' ? 'failed' : 'maybe');
    if (p.type !== 'ok') continue;
    let byValue = writes.acked.get(p.key);
    if (byValue === undefined) writes.acked.set(p.key, (byValue = new Map()));
    const current = byValue.get(value);
    if (current === undefined || p.completeMs < current.completeMs) byValue.set(value, p);
  }
  return writes;
}

/** Walks the operations in program order per process, keeping what each process has seen of each key. */
class RegisterChecker {
  private readonly states = new Map<string, ProcessKeyState>();
  private readonly wipes: readonly FaultWindow[];
  private readonly reads = { quorum: 0, other: 0, failOrInfo: 0 };
  private readonly violations: RegisterViolation[] = [];
  private readonly exempt: RegisterViolation[] = [];
  private readonly unexpected: UnexpectedRegisterRead[] = [];
  private violationCount = 0;
  private exemptCount = 0;

  constructor(
    private readonly writes: Writes,
    private readonly faults: readonly FaultWindow[],
  ) {
    this.wipes = faults.filter((w) => w.kind === 'wipe');
  }

  write(p: Pair): void {
    const value = asNumber(p.invoke.value);
    if (p.type === 'ok' && value !== undefined) {
      raise(this.stateOf(p), { value, ackMs: p.completeMs, eligibleAfterMs: Number.NEGATIVE_INFINITY, clean: this.isClean(p), source: 'own write' });
    }
  }

  read(p: Pair): void {
    if (p.type !== 'ok' || p.complete === undefined) {
      this.reads.failOrInfo++;
      return;
    }
    const s = this.stateOf(p);
    // Values this process saw whose write has been acknowledged by now.
    if (s.pending.length > 0) {
      const still: Seen[] = [];
      for (const seen of s.pending) (seen.eligibleAfterMs < p.invokeMs ? raise(s, seen) : still.push(seen));
      s.pending = still;
    }
    const value = asNumber(p.complete.value);
    if (value !== undefined) this.checkWritten(p, value);
    if (p.invoke.quorum === true || p.complete.quorum === true) {
      this.reads.quorum++;
      this.checkBound(p, s, value);
    } else {
      this.reads.other++;
    }
    if (value !== undefined) this.remember(p, s, value);
  }

  results(): RegisterResults {
    return {
      valid: this.violationCount === 0 && this.unexpected.length === 0,
      keys: this.writes.keys.size,
      writes: this.writes.counts,
      reads: this.reads,
      violations: { count: this.violationCount, examples: this.violations },
      exempt: { count: this.exemptCount, examples: this.exempt },
      unexpected: { count: this.unexpected.length, examples: this.unexpected.slice(0, EXAMPLES) },
    };
  }

  /** A value read must have been attempted, and not only by writes that all failed. */
  private checkWritten(p: Pair, value: number): void {
    const tried = this.writes.attempted.get(p.key)?.get(value);
    if (tried === 'maybe') return;
    this.unexpected.push({
      process: p.process, key: p.key, node: p.invoke.node, completeMs: p.completeMs, value,
      reason: tried === undefined ? 'never written' : 'write failed',
    });
  }

  /** A quorum read below what the process had seen: a violation, or exempt when a fault excuses it. */
  private checkBound(p: Pair, s: ProcessKeyState, value: number | undefined): void {
    const x = value ?? Number.NEGATIVE_INFINITY;
    const bound = s.all;
    if (bound === undefined || x >= bound.value) return;
    const overlapping = faultsOverlapping(this.faults, p.invokeMs, p.completeMs);
    const kinds = [...new Set(overlapping.map((w) => w.kind))];
    const clean = s.clean;
    const wipedSinceClean = clean !== undefined && this.wipes.some((w) => overlaps(w, clean.ackMs, p.completeMs));
    const record = (b: Seen, exemptBecause?: string): RegisterViolation => ({
      process: p.process, key: p.key, node: p.invoke.node, invokeMs: p.invokeMs, completeMs: p.completeMs,
      value: value ?? null, bound: b.value, boundSource: b.source, boundAckMs: b.ackMs, faults: kinds,
      ...(exemptBecause === undefined ? {} : { exemptBecause }),
    });
    if (overlapping.length === 0 && clean !== undefined && !wipedSinceClean && x < clean.value) {
      this.violationCount++;
      if (this.violations.length < EXAMPLES) this.violations.push(record(clean));
      return;
    }
    this.exemptCount++;
    const because =
      overlapping.length > 0
        ? `read overlapped ${kinds.join(', ')}`
        : clean !== undefined && wipedSinceClean && x < clean.value
          ? 'a replica was wiped after the bound was acknowledged'
          : 'the bound was acknowledged during a fault (sloppy quorum)';
    if (this.exempt.length < EXAMPLES) this.exempt.push(record(bound, because));
  }

  /** What this read showed the process, once its write is acknowledged. */
  private remember(p: Pair, s: ProcessKeyState, value: number): void {
    const w = this.writes.acked.get(p.key)?.get(value);
    if (w === undefined) return;
    const seen: Seen = { value, ackMs: w.completeMs, eligibleAfterMs: w.completeMs, clean: this.isClean(w), source: 'read' };
    if (w.completeMs < p.completeMs) raise(s, { ...seen, eligibleAfterMs: Number.NEGATIVE_INFINITY });
    else s.pending.push(seen);
  }

  private isClean(w: Pair): boolean {
    return faultsOverlapping(this.faults, w.invokeMs, w.completeMs).length === 0;
  }

  private stateOf(p: Pair): ProcessKeyState {
    const id = `${p.process}\u0000${p.key}`;
    let s = this.states.get(id);
    if (s === undefined) this.states.set(id, (s = { all: undefined, clean: undefined, pending: [] }));
    return s;
  }
}

function raise(s: ProcessKeyState, seen: Seen): void {
  if (s.all === undefined || seen.value > s.all.value) s.all = seen;
  if (seen.clean && (s.clean === undefined || seen.value > s.clean.value)) s.clean = seen;
}
