// The client's errors. A server's error answer becomes a KvorumError whose `code` is one of the
// catalog's (src/core/errors.ts, imported as a type only: no runtime dependency on the server),
// with a subclass for the answers programs branch on. Failures no server answered (no node
// reachable, a write whose outcome is unknown, siblings update() cannot resolve, an answer that is
// not kvorum's) have codes of their own, never sent by a server, and `status: null`.
import type { ErrorCode } from '../core/errors.js';

/** The catalog's codes: what `error` of a server's JSON error answer holds. */
export type ServerErrorCode = ErrorCode;

/** Codes the client gives to failures no server answered. */
export type ClientErrorCode =
  /** No node could be reached (every node of the list refused, timed out or was shutting down). */
  | 'unreachable'
  /** A write timed out after it was sent: it may or may not have been applied. */
  | 'timeout'
  /** The connection broke after a write was sent: it may or may not have been applied. */
  | 'connection_lost'
  /** update() met siblings and was given no `resolve` function. */
  | 'unresolved_siblings'
  /** A key the client cannot address (see KvorumClient), or an answer that is not kvorum's. */
  | 'unsupported_key'
  | 'bad_response';

export type KvorumErrorCode = ServerErrorCode | ClientErrorCode;

export class KvorumError extends Error {
  override name = 'KvorumError';
  constructor(
    /** The HTTP status of the server's answer; null when no server answered this error. */
    readonly status: number | null,
    readonly code: KvorumErrorCode,
    message: string,
    /** The error body's other fields (e.g. `required`, `acked`), or the client's own details. */
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 412: the If-Match / If-None-Match condition did not hold; nothing was changed. */
export class PreconditionFailedError extends KvorumError {
  override name = 'PreconditionFailedError';
}

/** 503 quorum_unavailable: fewer than r/w replicas answered in time. A write may still be stored. */
export class QuorumUnavailableError extends KvorumError {
  override name = 'QuorumUnavailableError';
  get required(): number | undefined {
    return typeof this.details['required'] === 'number' ? this.details['required'] : undefined;
  }
  get acked(): number | undefined {
    return typeof this.details['acked'] === 'number' ? this.details['acked'] : undefined;
  }
}

/** 409: the write would leave the key with too many siblings; nothing was changed. */
export class TooManySiblingsError extends KvorumError {
  override name = 'TooManySiblingsError';
}

/** 401 unauthorized: no token was sent, or it is malformed, unknown, revoked or expired (the message says which). */
export class UnauthorizedError extends KvorumError {
  override name = 'UnauthorizedError';
}

/** 403 forbidden: the token is valid but its role or key prefix does not allow the request; nothing was done. */
export class ForbiddenError extends KvorumError {
  override name = 'ForbiddenError';
}

/**
 * 503 overloaded: every node the client tried refused the request before running it, at least one
 * because it already works on as many client requests as it takes (or its event loop is late).
 * Nothing was done: retry after a pause (nodes answer it with `Retry-After: 1`, in seconds).
 */
export class OverloadedError extends KvorumError {
  override name = 'OverloadedError';
}

/** One node's failure, as recorded by UnreachableError. */
export interface NodeFailure {
  readonly node: string;
  readonly reason: string;
}

/** Every node of the list failed (refused, timed out, shutting down). A write was not applied. */
export class UnreachableError extends KvorumError {
  override name = 'UnreachableError';
  constructor(readonly failures: readonly NodeFailure[], options?: { cause?: unknown }) {
    super(null, 'unreachable', `No kvorum node could be reached: ${failures.map((f) => `${f.node} (${f.reason})`).join(', ')}.`, { failures }, options);
  }
}

/** A write timed out or lost its connection after it was sent: it may or may not have been applied. */
export class OutcomeUnknownError extends KvorumError {
  override name = 'OutcomeUnknownError';
}

const subclasses: Partial<Record<KvorumErrorCode, typeof KvorumError>> = {
  precondition_failed: PreconditionFailedError,
  quorum_unavailable: QuorumUnavailableError,
  too_many_siblings: TooManySiblingsError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  overloaded: OverloadedError,
};

/** The error a server's JSON error body (or a body that is not one) stands for. */
export function errorFromAnswer(status: number, body: unknown): KvorumError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const { error, message, ...details } = fields;
  if (typeof error !== 'string') {
    return new KvorumError(status, 'bad_response', `HTTP ${status} without a kvorum error body.`, { body });
  }
  const code = error as ServerErrorCode;
  const Class = subclasses[code] ?? KvorumError;
  return new Class(status, code, typeof message === 'string' ? message : code, details);
}
