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
  // Beyond the client contract: malformed HTTP, internal RPC without the cluster credential, our own bugs.
  invalid_content_type: { status: 400, message: 'Content-Type must be sent once and be at most 1024 bytes.' },
  bad_request: { status: 400, message: 'The request is not well-formed HTTP for this route.' },
  request_timeout: { status: 408, message: 'The request was not received completely in time.' },
  expectation_failed: { status: 417, message: 'Only "Expect: 100-continue" is supported.' },
  headers_too_large: { status: 431, message: 'The request headers are larger than 80 KiB.' },
  unauthorized: { status: 401, message: 'Internal RPC needs the cluster credential.' },
  shutting_down: { status: 503, message: 'This node is shutting down; retry on another node.' },
  internal_error: { status: 500, message: 'The node failed unexpectedly; the request may or may not have been applied.' },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class KvError extends Error {
  readonly status: number;
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
