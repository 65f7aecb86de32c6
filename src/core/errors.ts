// The one catalog of errors a user can see. api/errors.ts maps them to HTTP; a test checks that
// this list and the table in docs/api.md are the same.

export const errorCatalog = {
  invalid_key: { status: 400, message: 'The key must be 1..512 bytes of valid UTF-8 in a single path segment.' },
  invalid_quorum: { status: 400, message: 'r/w must be 1..N, one, quorum or all; pr/pw may not exceed r/w.' },
  invalid_context: { status: 400, message: 'X-Kvorum-Context cannot be decoded.' },
  invalid_timeout: { status: 400, message: 'timeout must be an integer number of milliseconds in 1..60000.' },
  value_too_large: { status: 413, message: 'The value is larger than valueBytesMax.' },
  quorum_unavailable: { status: 503, message: 'Not enough replicas answered in time.' },
  not_found: { status: 404, message: 'No live value for this key.' },
  // The client surface beyond the original contract (docs/api.md section 2).
  invalid_ttl: { status: 400, message: 'ttl must be an integer number of seconds in 1..31536000.' },
  invalid_limit: { status: 400, message: 'limit must be an integer in 1..1000.' },
  invalid_cursor: { status: 400, message: 'The cursor cannot be decoded or was issued for another listing.' },
  invalid_precondition: { status: 400, message: 'If-Match / If-None-Match are not in a form this route accepts.' },
  invalid_batch: { status: 400, message: 'The batch is not a JSON object {"ops": [...]} of 1..100 well-formed operations.' },
  precondition_failed: { status: 412, message: 'The condition of the request does not hold; nothing was changed.' },
  too_many_siblings: { status: 409, message: 'The key has too many siblings: read it, resolve them and write with the context read.' },
  // Beyond the client contract: malformed HTTP, missing or insufficient credentials, our own bugs.
  invalid_content_type: { status: 400, message: 'Content-Type must be sent once and be at most 1024 bytes.' },
  bad_request: { status: 400, message: 'The request is not well-formed HTTP for this route.' },
  request_timeout: { status: 408, message: 'The request was not received completely in time.' },
  expectation_failed: { status: 417, message: 'Only "Expect: 100-continue" is supported.' },
  headers_too_large: { status: 431, message: 'The request headers are larger than 80 KiB.' },
  unauthorized: { status: 401, message: 'The request needs a valid credential: a client token (Authorization: Bearer TOKEN) when the node has --auth-file, the cluster credential for internal RPC.' },
  forbidden: { status: 403, message: 'The token is valid but its role or key prefix does not allow this request; nothing was done.' },
  shutting_down: { status: 503, message: 'This node is shutting down; retry on another node.' },
  // TLS (issue 15): with --tls-peer-auth, internal RPC only over a connection with a certificate the CA signed.
  peer_certificate_required: { status: 403, message: 'Internal RPC needs a client certificate signed by the cluster CA.' },
  // Overload protection (issue 15): shed before any work, with Retry-After.
  overloaded: { status: 503, message: 'This node has too much work in progress; retry after the Retry-After seconds, or on another node.' },
  // Membership (docs/api.md section 3, Membership).
  membership_refused: { status: 409, message: 'The membership change cannot be made as asked; nothing was changed.' },
  claimant_unreachable: { status: 503, message: 'The claimant, the one member that changes the ring, cannot be reached; nothing was changed.' },
  not_replica: { status: 421, message: 'This node does not hold the partition of this key (its ring changed).' },
  // Backups (docs/api.md section 3, Backups).
  backup_in_progress: { status: 409, message: 'A backup of this node is already being taken; try again once it ends.' },
  backup_failed: { status: 503, message: 'The backup could not be taken (see the message and the node\'s log); nothing was changed.' },
  internal_error: { status: 500, message: 'The node failed unexpectedly; the request may or may not have been applied.' },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class KvError extends Error {
  readonly status: number;
  /** Logged (when it is: a peer's request refused) as an operating condition, never as a bug. */
  readonly failureCode = 'request_refused';
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message ?? errorCatalog[code].message);
    this.name = 'KvError';
    this.status = errorCatalog[code].status;
  }
}

/**
 * Failures inside a node that no client sees as such, for the log: each has a code (the `failure`
 * field of the log line) and a class that says what it means for the node and sets the level.
 * `condition`: an expected operating condition the cluster copes with (warn); `damage`: data found
 * damaged, coped with, but an operator should look (error); `bug`: kvorum is wrong (error, with the
 * stack). docs/api.md lists them; a test keeps the two the same.
 */
export const failureCatalog = {
  peer_unreachable: { class: 'condition', message: 'A peer could not be reached.' },
  peer_timeout: { class: 'condition', message: 'A peer did not answer in time.' },
  peer_unauthorized: { class: 'condition', message: 'A peer refused our cluster credential or our TLS client certificate.' },
  peer_protocol: { class: 'condition', message: 'A peer answered with something this version does not accept.' },
  request_refused: { class: 'condition', message: 'A request was refused with a catalogued error (bad input from a client or peer).' },
  rpc_unauthorized: { class: 'condition', message: 'An internal RPC call came without a valid cluster credential.' },
  rpc_refused: { class: 'condition', message: 'An internal RPC body failed validation and was refused.' },
  rpc_untrusted_peer: { class: 'condition', message: 'An internal RPC call came without a client certificate the CA signed (--tls-peer-auth).' },
  hints_full: { class: 'condition', message: 'A peer has hintsPerPeerMax hints waiting: more are refused.' },
  row_quarantined: { class: 'damage', message: 'A stored row could not be read and was moved to the quarantine table.' },
  invariant_violated: { class: 'bug', message: 'An internal invariant does not hold.' },
  unexpected: { class: 'bug', message: 'An exception kvorum did not expect.' },
} as const;

export type FailureCode = keyof typeof failureCatalog;
export type FailureClass = (typeof failureCatalog)[FailureCode]['class'];

/** An error that knows its failure code; any other error is `unexpected`. */
export interface CodedFailure {
  readonly failureCode: FailureCode;
}

export function failureCodeOf(err: unknown): FailureCode {
  const code = (err as Partial<CodedFailure> | null)?.failureCode;
  return typeof code === 'string' && Object.hasOwn(failureCatalog, code) ? code : 'unexpected';
}

export const failureClassOf = (err: unknown): FailureClass => failureCatalog[failureCodeOf(err)].class;

/** Thrown when a core invariant does not hold: always a bug in kvorum, never a client's fault. */
export class InvariantError extends Error implements CodedFailure {
  override readonly name = 'InvariantError';
  readonly failureCode = 'invariant_violated';
}
