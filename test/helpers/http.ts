// HTTP for tests (global fetch, every request with a deadline), and free or refusing 127.0.0.1 ports.
import { createServer, connect } from 'node:net';

// HTTP

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  text(): string;
  json<T = any>(): T;
}

export interface HttpOptions {
  /** A string is sent as UTF-8 bytes with no implicit Content-Type. */
  readonly body?: Buffer | Uint8Array | string;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** One HTTP request with global fetch and a per-request deadline. Never follows redirects. */
export async function http(method: string, url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Buffers, not strings: fetch would add `Content-Type: text/plain;charset=UTF-8` to a string body.
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: opts.headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    const wrapped = new Error(`${method} ${url} failed: ${detail}`) as Error & { code?: string };
    wrapped.code = cause?.code ?? (err as Error).name;
    throw wrapped;
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body: bytes,
    text: () => bytes.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new Error(`${method} ${url}: expected JSON, got ${res.status} ${JSON.stringify(bytes.toString('utf8').slice(0, 300))}`);
      }
    },
  };
}

/** True when nothing accepts TCP connections on host:port (connection refused). */
export function portRefuses(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err.code === 'ECONNREFUSED');
    });
  });
}

// Ports

function listenOn(port: number, host = '127.0.0.1'): Promise<import('node:net').Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: import('node:net').Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct ports the OS says are free: all held open at once, then released together. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOn(0));
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

/** A base port P such that P..P+count-1 are all free right now (retrying other bases if not). */
export async function freeConsecutivePorts(count: number, attempts = 50): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const held: import('node:net').Server[] = [];
    try {
      for (let i = 0; i < count; i++) held.push(await listenOn(base + i));
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(held.map(closeServer));
    }
  }
  throw new Error(`no ${count} consecutive free ports found after ${attempts} attempts`);
}
