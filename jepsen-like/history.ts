// The record of a run, shared by the runner (which writes it), the checkers and the report.
// Modelled on Jepsen: every client operation is an `invoke` followed by exactly one completion:
// `ok` (it happened), `fail` (it certainly did not happen) or `info` (indeterminate: a timeout or
// a 503 after which the write may or may not surface).

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface Op {
  /** Client process id; one process has at most one operation in flight. */
  readonly process: number;
  readonly type: OpType;
  /** Workload function: `add` (set), `read` (set or register), `write` (register; set churn keys), `delete` (set churn keys). */
  readonly f: 'add' | 'read' | 'write' | 'delete';
  readonly key: string;
  /**
   * add: the element added; read (set): the elements seen (completion only); register write:
   * the value written; register read: the value seen (completion only) or null when not found.
   */
  readonly value: number | readonly number[] | null;
  /** Milliseconds since the run started (monotonic). */
  readonly timeMs: number;
  /** The node the client sent the request to. */
  readonly node: string;
  /** Completions only: milliseconds from invoke to completion. */
  readonly latencyMs?: number;
  /** Completions only: HTTP status or a short error ("timeout", "ECONNREFUSED"). */
  readonly status?: number | string;
  /** Register reads: whether the read used r + w > N (a quorum read after quorum writes). */
  readonly quorum?: boolean;
  /** Churn writes and deletes (set workload): the context the request was sent with. */
  readonly sentContext?: string;
}

/** A fault the nemesis injected, as a window of time (end undefined while still active at the end). */
export interface FaultWindow {
  readonly kind: 'kill' | 'pause' | 'partition' | 'wipe';
  /** Human-readable: which nodes, which partition shape. */
  readonly description: string;
  readonly nodes: readonly string[];
  readonly startMs: number;
  readonly endMs: number | undefined;
}

/** What the final reads found after healing: per key, per node, the elements (set) or value (register). */
export interface FinalRead {
  readonly key: string;
  readonly node: string;
  /** HTTP status of the final `r=all` read through this node. */
  readonly status: number;
  readonly value: number | readonly number[] | null;
}

/** Per key, per node: the replica's own version (an opaque token from GET /replica/kv/{key}), after healing. */
export interface ReplicaVersion {
  readonly key: string;
  readonly node: string;
  /** null when the node holds no copy. */
  readonly version: string | null;
}

export interface RunInfo {
  readonly seed: number;
  readonly nodes: number;
  readonly n: number;
  readonly timeSec: number;
  readonly workload: 'set' | 'register';
  readonly nemeses: readonly string[];
  readonly client: 'safe' | 'unsafe';
  readonly startedAt: string;
}
