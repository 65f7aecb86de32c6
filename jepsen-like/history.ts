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
  /** loss, bandwidth, latency, link-down: packet-level faults of --netns runs. */
  readonly kind: 'kill' | 'pause' | 'partition' | 'wipe' | 'loss' | 'bandwidth' | 'latency' | 'link-down';
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
  /** --netns runs: where the nodes are and which fault kinds were real and which unavailable. */
  readonly network?: string;
}

/** A membership change the membership nemesis attempts: kinds as the admin routes name them. */
export type ChangeKind = 'join' | 'leave' | 'replace' | 'remove';

/**
 * One step of the membership nemesis, in order: a spare node started with --join, a node retired
 * (killed for good before its removal), an admin route called (stage, clear, commit) and its
 * answer, or a change skipped. A refused call (409 while a plan still moves, 503 claimant
 * unreachable, no answer) is one event per attempt; it is retried later, a bounded number of times.
 */
export interface MembershipEvent {
  readonly timeMs: number;
  /** The change it belongs to (1, 2, ...; 0 for the end-of-run clean-up). */
  readonly change: number;
  readonly action: 'start' | 'retire' | ChangeKind | 'clear' | 'commit' | 'skip';
  /** The kind of change a commit applies. */
  readonly kind?: ChangeKind;
  readonly nodes: readonly string[];
  /** ok; refused (an answer other than 200, or none: retried); failed (not retried); gave-up (retries exhausted). */
  readonly outcome: 'ok' | 'refused' | 'failed' | 'gave-up';
  /** The HTTP status or error code of an attempt that was not ok. */
  readonly status?: number | string;
  /** The node the request went to, for an admin call. */
  readonly via?: string;
  readonly detail: string;
}

/** What the membership nemesis did and how the ring ended, for the checkers' results and the report. */
export interface MembershipSummary {
  /** Changes committed, by kind. */
  readonly committed: Readonly<Record<ChangeKind, number>>;
  /** Changes given up (a start that kept failing, a stage or commit refused every time). */
  readonly gaveUp: number;
  /** Admin calls refused (or unanswered) and retried. */
  readonly refusals: number;
  readonly ringVersionStart: number;
  /** Every running node's ring version at the end; null if they never agreed. */
  readonly ringVersionEnd: number | null;
  /** Whether every running node reached one ring version with nothing moving after healing, within the deadline. */
  readonly settled: boolean;
  /** From the end of healing until settled (or until the deadline). */
  readonly settleMs: number;
  /** Why it had not settled at the deadline. */
  readonly settleProblem?: string;
  /** The ring's members at the end (id:membership). */
  readonly finalMembers: readonly string[];
  /** Acknowledged writes that may be lost by design (w=1 writes only a removed node took); none with the workloads' w=quorum. */
  readonly lossAllowed: string;
}
