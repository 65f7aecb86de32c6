// A raw HTTP/1.1 connection for tests that need control over one socket (keep-alive reuse, partial
// bodies, 100-continue), which fetch hides. Every read has a deadline.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export class RawConnection {
  private buffer = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    const onClose = () => {
      this.closed = true;
      this.wake?.();
    };
    socket.on('end', onClose);
    socket.on('close', onClose);
    socket.on('error', onClose);
  }

  static open(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** True once the peer has closed (or reset) the connection. */
  get isClosed(): boolean {
    return this.closed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * The next response on the connection (a `100 Continue` counts as one), or 'closed' if the
   * server closed the connection before a complete response arrived.
   */
  async readResponse(timeoutMs = 5000): Promise<RawResponse | 'closed'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.tryParse();
      if (parsed) return parsed;
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete HTTP response within ${timeoutMs} ms (have ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  private tryParse(): RawResponse | undefined {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] ([0-9]{3})/.exec(head[0] ?? '')?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = end + 4;
    let length: number;
    if (status < 200 || status === 204 || status === 304) length = 0;
    else if (headers['content-length'] !== undefined) length = Number(headers['content-length']);
    else if (this.closed) length = this.buffer.length - bodyStart; // delimited by close
    else return undefined;
    if (this.buffer.length < bodyStart + length) return undefined;
    const body = Buffer.from(this.buffer.subarray(bodyStart, bodyStart + length));
    this.buffer = this.buffer.subarray(bodyStart + length);
    return { status, headers, body };
  }
}
