// Shared by the floor bench's harness (floor-bench.ts) and its child processes (floor-sqlite.ts,
// floor-socket.ts): the lines they print and the shapes of their results.

/**
 * A client prints this line, then stays idle for quietBeforeMs and starts its measured part: the
 * harness samples the server's CPU while both are idle. Its result line comes once every answer is
 * in (the server idle again).
 */
export const floorStartMarker = 'FLOOR_START';
/** A child prints `FLOOR_RESULT {json}` when a measured part has ended. */
export const floorResultMarker = 'FLOOR_RESULT ';

/** Bytes of a peer request's payload (after its 4-byte length prefix): a 1 KiB value. */
export const requestPayloadBytes = 1024;
/** Bytes of a peer answer's payload (after its 4-byte length prefix). */
export const answerPayloadBytes = 16;

/** The two schemas of the SQLite phase: kvorum's object write, or one table with a primary key. */
export type SqliteSchema = 'kvorum' | 'minimal';

/** One timed SQLite case of floor-sqlite.ts. */
export interface SqliteResult {
  readonly schema: SqliteSchema;
  /** Rows per transaction. */
  readonly batch: number;
  /** Rows written by the timed part (on top of the preloaded ones). */
  readonly rows: number;
  /** CPU microseconds (user + system) of the timed part, the whole process (checkpoints included). */
  readonly cpuUs: number;
  readonly wallMs: number;
  /** Bytes of each row's object column. */
  readonly objectBytes: number;
}

/** The client side of one peer-message phase of floor-socket.ts. */
export interface SocketResult {
  /** Request/answer pairs completed in the measured part. */
  readonly exchanges: number;
  readonly wallMs: number;
  /** socket.write calls the client made in the measured part (coalescing: fewer than exchanges). */
  readonly writes: number;
  /** CPU microseconds (user + system) of the client process in the measured part. */
  readonly cpuUs: number;
}

/** After printing FLOOR_START a client stays idle this long before it starts (and before its baseline). */
export const quietBeforeMs = 200;
