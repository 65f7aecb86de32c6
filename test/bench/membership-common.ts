// Shared by the membership bench harness (membership-bench.ts) and its client (membership-load.ts):
// the client's spec, what it records, the lines it prints, and the key names.

export interface MembershipLoadSpec {
  /** The nodes the client talks to (round-robin), the same all run long. */
  readonly urls: readonly string[];
  readonly keys: number;
  readonly valueBytes: number;
  /** PUTs in flight while loading the keys. */
  readonly loadConcurrency: number;
  /** Steady load: requests per second offered, on a fixed schedule (open loop). */
  readonly rate: number;
  /** Share of the steady load's requests that are PUTs (the rest are GETs). */
  readonly putFraction: number;
  readonly seed: number;
  /** The steady load stops by itself after this long, in case nobody stops it. */
  readonly maxSeconds: number;
  /** Where the steady load's records are written (JSON of LoadRecords). */
  readonly recordsOut: string;
}

/** One entry per answered request of the steady load, in the order of the answers. */
export interface LoadRecords {
  /** When the request was due by the schedule, epoch ms. */
  readonly t: number[];
  /** From when it was due until its answer was read (includes any wait in the client: open-loop latency). */
  readonly latencyMs: number[];
  /** From when it was handed to the HTTP client (its wait for a free connection included) until its answer was read. */
  readonly serviceMs: number[];
  /** HTTP status; 0 = no answer (connection error or 10 s timeout); -1 = still unanswered when the client stopped. */
  readonly status: number[];
  /** 1 for a PUT, 0 for a GET. */
  readonly put: number[];
}

export const loadMarkers = { loaded: 'MLOAD_LOADED ', done: 'MLOAD_DONE ' } as const;

export interface LoadedLine {
  readonly ms: number;
  readonly failures: Record<string, number>;
  readonly retried: number;
}

export interface DoneLine {
  readonly startMs: number;
  readonly stopMs: number;
  readonly issued: number;
  /** Requests issued that had no answer when the client gave up waiting. */
  readonly unanswered: number;
}

export const benchKey = (i: number): string => `mb-${String(i).padStart(7, '0')}`;
