// Ports for real-process clusters on 127.0.0.1: free ones to listen on, and a check that nothing
// listens any more. Free ports are picked below the kernel's ephemeral range: a killed node is
// restarted on its own port, and inside the ephemeral range an outgoing connection (the many a
// test makes) could take that port meanwhile. They are picked at random and probed by binding, so
// test files running in parallel (--test-concurrency) rarely pick the same ones; a cluster that
// still finds its port taken is started again on new ports (see test-cluster.ts, jepsen's cluster).
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';

const lowestPort = 10_000;
const highestPort = 65_535;
/** A range narrower than this is not worth picking from at random. */
const rangeMinPorts = 1000;

/** The kernel's ephemeral (local) port range; the Linux default where /proc does not say. */
function ephemeralRange(): { readonly low: number; readonly high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! <= high!) return { low: low!, high: high! };
  } catch {
    // not Linux
  }
  return { low: 32_768, high: 60_999 };
}

/** [low, high] to pick free ports from: below the ephemeral range, else above it, else anything unprivileged. */
function pickRange(): { readonly low: number; readonly high: number } {
  const ephemeral = ephemeralRange();
  if (ephemeral.low - 1 - lowestPort >= rangeMinPorts) return { low: lowestPort, high: ephemeral.low - 1 };
  if (highestPort - (ephemeral.high + 1) >= rangeMinPorts) return { low: ephemeral.high + 1, high: highestPort };
  return { low: 1024, high: highestPort };
}

// Math.random, not a run's seed: which ports are used has no bearing on what a run does.
const randomPortIn = (range: { low: number; high: number }, span = 1) => range.low + Math.floor(Math.random() * (range.high - range.low + 2 - span));

/** Listens on 127.0.0.1:port exclusively; undefined if the port is taken. */
function holdPort(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

const release = (servers: readonly Server[]) => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));

/** `count` distinct free ports below the ephemeral range: all held at once while picked, then released together. */
export async function freePorts(count: number): Promise<number[]> {
  const range = pickRange();
  const held: Server[] = [];
  try {
    for (let attempt = 0; held.length < count && attempt < count * 50; attempt++) {
      const server = await holdPort(randomPortIn(range));
      if (server) held.push(server);
    }
    if (held.length < count) throw new Error(`found only ${held.length} of ${count} free ports in ${range.low}..${range.high}`);
    return held.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await release(held);
  }
}

/** A base port P below the ephemeral range such that P..P+count-1 are all free right now (other bases tried if not). */
export async function freeConsecutivePorts(count: number, attempts = 50): Promise<number> {
  const range = pickRange();
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = randomPortIn(range, count);
    const held: Server[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const server = await holdPort(base + i);
        if (!server) break;
        held.push(server);
      }
      if (held.length === count) return base;
    } finally {
      await release(held);
    }
  }
  throw new Error(`no ${count} consecutive free ports found after ${attempts} attempts`);
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
