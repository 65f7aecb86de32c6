// Answers for what never reaches a route: requests Node's HTTP parser refuses (bad framing, bad
// methods, oversized headers, timeouts), CONNECT, and unsupported `Expect` headers. Each gets a
// catalogued JSON error with X-Kvorum-Node like any other answer, written on the raw socket, and
// never before the answers still owed to earlier requests on the same connection: a pipelined
// write that was applied is always acknowledged before the connection's error answer.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorCatalog, type ErrorCode } from '../core/errors.js';
import { forwardMarginMs, owedAnswersExtraWaitMs, quotedTextCharsMax, refusedConnectionLingerMs as lingerMs, requestTimeoutMsMax } from '../core/limits.js';

/** A connection waits at most this long for its earlier answers before its error answer; then it is cut. */
const owedAnswersWaitMs = requestTimeoutMsMax + forwardMarginMs + owedAnswersExtraWaitMs;

/** The whole HTTP/1.1 response for a catalogued error; the connection is closed after it. */
export function rawErrorResponse(code: ErrorCode, message: string, node: string): string {
  const { status } = errorCatalog[code];
  const body = JSON.stringify({ error: code, message });
  return [
    `HTTP/1.1 ${status} ${code.replaceAll('_', ' ')}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-kvorum-node: ${node}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/** What a parser error is, as a catalogued code. */
function codeFor(err: Error & { code?: string }): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  return 'bad_request';
}

export class ConnectionErrors {
  /** Responses not yet finished, per connection, with their requests. */
  private readonly owed = new WeakMap<Duplex, Map<ServerResponse, IncomingMessage>>();

  constructor(private readonly node: string) {}

  /** Tracks owed answers and answers CONNECT and unsupported expectations on `server`. */
  install(server: Server): void {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = res.socket;
      if (!socket) return;
      let pending = this.owed.get(socket);
      if (!pending) this.owed.set(socket, (pending = new Map()));
      pending.set(res, req);
      res.once('close', () => pending.delete(res));
    });
    server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      this.refuse(socket, 'not_found', `No route ${req.method} ${String(req.url).slice(0, quotedTextCharsMax)}.`);
    });
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      const body = JSON.stringify({ error: 'expectation_failed', message: errorCatalog.expectation_failed.message });
      res.writeHead(errorCatalog.expectation_failed.status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'x-kvorum-node': this.node,
        connection: 'close',
      });
      res.end(body);
      req.resume();
    });
  }

  /** fastify's clientErrorHandler: the parser refused what came on `socket`. */
  readonly onClientError = (err: Error & { code?: string }, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const code = codeFor(err);
    this.refuse(socket, code, code === 'bad_request' ? `The request is not well-formed HTTP (${err.code ?? 'parse error'}).` : errorCatalog[code].message);
  };

  /**
   * Answers with `code` once every earlier request received whole has had its answer, then closes
   * the connection. A request whose body the error cut short gets this answer instead of its own.
   */
  private refuse(socket: Duplex, code: ErrorCode, message: string): void {
    const pending = this.owed.get(socket) ?? new Map<ServerResponse, IncomingMessage>();
    const answer = () => {
      if (socket.destroyed) return;
      if (socket.writable) socket.end(rawErrorResponse(code, message, this.node));
      setTimeout(() => socket.destroy(), lingerMs).unref();
    };
    const cut = setTimeout(() => socket.destroy(), owedAnswersWaitMs);
    cut.unref();
    const waitOwed = () => {
      const next = [...pending].find(([, req]) => req.complete);
      if (next) return void next[0].once('close', waitOwed);
      clearTimeout(cut);
      answer();
    };
    waitOwed();
  }
}
