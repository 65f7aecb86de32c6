// A TCP proxy for one directed link (node A's connections to node B). Node A's --peers names this
// proxy instead of B, so the nemesis can cut, blackhole or slow A->B without touching B.
// Replies travel back over A's connection, so "A->B" governs A's requests and B's answers to them.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type LinkMode =
  | { readonly kind: 'pass' }
  /** Accept, read and discard, never answer: callers wait until their own timeouts. */
  | { readonly kind: 'drop' }
  /** Close every connection at once, new ones as soon as accepted: callers fail fast. */
  | { readonly kind: 'refuse' }
  /** Forward, but each connection setup and each chunk waits `ms` first. */
  | { readonly kind: 'delay'; readonly ms: number };

export const pass: LinkMode = { kind: 'pass' };

export function describeMode(mode: LinkMode): string {
  return mode.kind === 'delay' ? `delay(${mode.ms}ms)` : mode.kind;
}

interface Conn {
  readonly client: Socket;
  upstream: Socket | undefined;
}

export class LinkProxy {
  private mode: LinkMode = pass;
  private readonly conns = new Set<Conn>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(
    readonly label: string,
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
    private readonly host: string,
  ) {}

  /** Listens on a free port of `host` and forwards to host:targetPort. */
  static async start(label: string, targetPort: number, host = '127.0.0.1'): Promise<LinkProxy> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host }, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error(`proxy ${label}: no port`);
    const proxy = new LinkProxy(label, server, address.port, targetPort, host);
    server.on('connection', (socket) => proxy.accept(socket));
    server.on('error', () => undefined);
    return proxy;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get currentMode(): LinkMode {
    return this.mode;
  }

  /** Open connections right now (for tests). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /**
   * Switches the mode. Any change cuts the connections that exist: undici keeps connections alive,
   * so a fault applied only to new connections would never be felt, and after healing a
   * blackholed connection must not linger.
   */
  setMode(mode: LinkMode): void {
    const before = this.mode;
    this.mode = mode;
    if (before.kind === 'pass' && mode.kind === 'delay') return; // slow them down, keep them
    if (before.kind === mode.kind && mode.kind !== 'delay') return;
    for (const conn of [...this.conns]) this.cut(conn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const conn of [...this.conns]) this.cut(conn);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private cut(conn: Conn): void {
    this.conns.delete(conn);
    // destroy(), not resetAndDestroy(): with Node 20, a process that ever reset a proxied socket
    // could spin forever at exit (Environment::CleanupHandles). A close mid-request is broken enough.
    if (!conn.client.destroyed) conn.client.destroy();
    if (conn.upstream && !conn.upstream.destroyed) conn.upstream.destroy();
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    const mode = this.mode;
    if (this.closed || mode.kind === 'refuse') {
      client.destroy();
      return;
    }
    const conn: Conn = { client, upstream: undefined };
    this.conns.add(conn);
    client.once('close', () => this.cut(conn));
    if (mode.kind === 'drop') {
      client.resume(); // swallow what the caller sends; never answer
      return;
    }
    client.pause();
    const open = () => {
      if (!this.conns.has(conn)) return;
      const upstream = connect({ port: this.targetPort, host: this.host, allowHalfOpen: true, noDelay: true });
      conn.upstream = upstream;
      upstream.on('error', () => this.cut(conn));
      upstream.once('close', () => this.cut(conn));
      this.pipe(conn, client, upstream);
      this.pipe(conn, upstream, client);
      upstream.once('connect', () => client.resume());
    };
    if (mode.kind === 'delay') this.later(mode.ms, open);
    else open();
  }

  /** Forwards chunks one way, honouring the mode at the moment each chunk arrives. */
  private pipe(conn: Conn, from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      const mode = this.mode;
      if (mode.kind === 'pass') to.write(chunk);
      else if (mode.kind === 'delay') this.later(mode.ms, () => this.conns.has(conn) && !to.destroyed && to.write(chunk));
      // drop/refuse: setMode has cut this connection already; nothing to do
    });
    from.once('end', () => {
      const mode = this.mode;
      if (mode.kind === 'delay') this.later(mode.ms, () => !to.destroyed && to.end());
      else if (!to.destroyed) to.end();
    });
  }
}
