// Small helpers shared by the runner's modules: bounded waits, JSON GETs, free ports.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `promise` at most `ms` (true if it settled), leaving no timer behind. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `count` free ports below the kernel's ephemeral range. A killed node's port must still be free when
 * it restarts; inside the ephemeral range one of the many outgoing connections could take it meanwhile.
 */
export async function freePorts(count: number): Promise<number[]> {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // not Linux: assume the IANA-ish default
  }
  const lo = 10_000;
  const hi = Math.max(lo + 1000, ephemeralLow - 1);
  const held: import('node:net').Server[] = [];
  try {
    for (let attempt = 0; held.length < count && attempt < count * 50; attempt++) {
      // Math.random, not the run's seed: ports have no bearing on the run's behaviour.
      const port = lo + Math.floor(Math.random() * (hi - lo));
      const server = await new Promise<import('node:net').Server | undefined>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(undefined));
        s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
      });
      if (server) held.push(server);
    }
    if (held.length < count) throw new Error(`found only ${held.length} of ${count} free ports`);
    return held.map((s) => (s.address() as import('node:net').AddressInfo).port);
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

