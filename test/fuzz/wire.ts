// One exchange on a fresh TCP (or TLS) connection to 127.0.0.1: write the request bytes, then read answers
// until the expected number arrived, the server closed the connection, or the deadline passed.
// Interim 1xx answers are kept apart. Nothing here waits without a deadline.
import { connect } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { parseResponse, type WireResponse } from './response-parser.js';

export interface ExchangeResult {
  /** Final (non-1xx) answers, in order. */
  readonly responses: readonly WireResponse[];
  readonly interim: number;
  /** The server closed (or reset) the connection. */
  readonly closed: boolean;
  /** The deadline passed before the expected answers (or a close) arrived. */
  readonly timedOut: boolean;
  /** The connection could not be opened (e.g. ECONNREFUSED). */
  readonly connectError?: string;
  /** A socket error after connecting (e.g. ECONNRESET, EPIPE while still writing). */
  readonly socketError?: string;
  /** The server sent bytes that are not an HTTP response. */
  readonly garbage?: string;
  readonly elapsedMs: number;
}

export interface ExchangeOptions {
  readonly port: number;
  /** How many final answers to wait for; the connection is closed by us once they are in. */
  readonly expect: number;
  /** For each expected answer, whether it answers a HEAD request (no body). */
  readonly head: readonly boolean[];
  readonly deadlineMs: number;
  /** Over TLS with these options (CA, client certificate), for a cluster started with --tls-cert. */
  readonly tls?: ConnectionOptions;
}

export function exchange(bytes: Buffer, opts: ExchangeOptions): Promise<ExchangeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = opts.tls ? connectTls({ host: '127.0.0.1', port: opts.port, ...opts.tls }) : connect({ host: '127.0.0.1', port: opts.port });
    const responses: WireResponse[] = [];
    let interim = 0;
    let data: Buffer = Buffer.alloc(0);
    let connected = false;
    let closed = false;
    let socketError: string | undefined;
    let settled = false;

    const finish = (extra: { timedOut?: boolean; connectError?: string; garbage?: string } = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        responses,
        interim,
        closed,
        timedOut: extra.timedOut ?? false,
        ...(extra.connectError !== undefined ? { connectError: extra.connectError } : {}),
        ...(socketError !== undefined ? { socketError } : {}),
        ...(extra.garbage !== undefined ? { garbage: extra.garbage } : {}),
        elapsedMs: Date.now() - started,
      });
    };

    const drain = () => {
      for (;;) {
        if (responses.length >= opts.expect) return finish();
        const step = parseResponse(data, closed, opts.head[responses.length] ?? false);
        if (step.kind === 'garbage') return finish({ garbage: step.why });
        if (step.kind === 'incomplete') {
          if (closed) return finish();
          return;
        }
        data = step.rest;
        if (step.response.status < 200) interim++;
        else responses.push(step.response);
      }
    };

    const timer = setTimeout(() => finish({ timedOut: true }), opts.deadlineMs);
    socket.on(opts.tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      drain();
    });
    const onClose = () => {
      closed = true;
      drain();
      finish();
    };
    socket.on('end', onClose);
    socket.on('close', onClose);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) return finish({ connectError: err.code ?? err.message });
      socketError ??= err.code ?? err.message;
    });
  });
}
