// Overload bench (issue 15 point 4): one node with --client-requests-in-flight-max --limit, first
// measured with as many concurrent clients as the limit (its capacity), then offered --factor times
// as many (closed loop: a shed answer comes back at once and its client asks again), twice: with
// overload protection, and without it (in-flight limit 100000, event-loop shedding off). The load
// generator shares the machine: with thousands of clients it, not the node, is the bottleneck, so
// the default limit here is 64, not the node's default 256. Prints capacity, offered and answered rates, accepted vs shed, accepted p50/p99,
// /health max latency (polled every 50 ms on its own connection) and the node's RSS before / peak.
//   npm run bench:overload -- [--limit 64] [--factor 10] [--requests 30000]
import { percentile, pollHealth, rssBytes, runLoad, sampleRss, type LoadOutcome } from '../kit/overload-load.js';
import { startCluster, type TestCluster } from '../kit/test-cluster.js';
import { eventLoopDelayMaxMsDefault } from '../../src/core/limits.js';
import { benchCli } from './cli.js';

const { flags, integer } = benchCli(
  {
    limit: { type: 'string', default: '64' },
    factor: { type: 'string', default: '10' },
    requests: { type: 'string', default: '30000' },
    help: { type: 'boolean', short: 'h' },
  },
  'usage: npm run bench:overload -- [--limit L] [--factor F] [--requests N]',
);
const clientsBase = integer('limit', flags.limit, 1);
const factor = integer('factor', flags.factor, 1);
const requests = integer('requests', flags.requests, 1);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const ms = (v: number) => v.toFixed(1);

interface Run {
  readonly label: string;
  readonly base: LoadOutcome;
  readonly load: LoadOutcome;
  readonly healthMaxMs: number;
  readonly healthFailures: number;
  readonly rssBefore: number;
  readonly rssPeak: number;
}

async function measure(label: string, args: readonly string[]): Promise<Run> {
  let cluster: TestCluster | undefined;
  try {
    cluster = await startCluster({ nodes: 1, extraArgs: [...args, '--log-level', 'warn'] });
    const node = cluster.nodes[0]!;
    const pid = node.pid()!;
    const base = await runLoad(node.url, clientsBase, Math.max(2000, Math.floor(requests / 4)));
    const rssBefore = rssBytes(pid);
    const health = pollHealth(node.url, 50);
    const rss = sampleRss(pid, 50);
    const load = await runLoad(node.url, clientsBase * factor, requests);
    const seen = await health.stop();
    return { label, base, load, healthMaxMs: seen.maxMs, healthFailures: seen.failures.length, rssBefore, rssPeak: rss.stop() };
  } finally {
    await cluster?.stop();
  }
}

function report(run: Run): void {
  const { base, load } = run;
  const capacity = base.accepted / base.seconds;
  const answered = (load.accepted + load.shed) / load.seconds;
  const lost = Object.values(load.errors).reduce((a, b) => a + b, 0) + Object.values(load.otherStatuses).reduce((a, b) => a + b, 0);
  console.log(`${run.label}:`);
  console.log(`  capacity: ${capacity.toFixed(0)} req/s with ${clientsBase} clients (p50 ${ms(percentile(base.acceptedMs, 50))} ms, p99 ${ms(percentile(base.acceptedMs, 99))} ms)`);
  console.log(`  offered: ${clientsBase * factor} clients, ${requests} requests; answered ${answered.toFixed(0)} req/s (${(answered / capacity).toFixed(1)}x capacity), accepted ${(load.accepted / load.seconds).toFixed(0)} req/s`);
  console.log(`  accepted ${load.accepted}, shed ${load.shed} (503 overloaded), other answers or no answer ${lost} ${JSON.stringify({ ...load.otherStatuses, ...load.errors })}`);
  console.log(`  accepted latency: p50 ${ms(percentile(load.acceptedMs, 50))} ms, p99 ${ms(percentile(load.acceptedMs, 99))} ms, max ${ms(percentile(load.acceptedMs, 100))} ms`);
  console.log(`  /health: max ${ms(run.healthMaxMs)} ms, ${run.healthFailures} failures; RSS ${mib(run.rssBefore)} MiB before, ${mib(run.rssPeak)} MiB peak`);
}

console.log(`overload bench: one node, PUTs of new keys and GETs of them, 100-byte values, closed-loop clients (undici, one connection each)`);
const protection = ['--client-requests-in-flight-max', String(clientsBase), '--event-loop-delay-max-ms', String(eventLoopDelayMaxMsDefault)];
const protectedRun = await measure(`with protection (${protection.join(' ')})`, protection);
report(protectedRun);
const unprotected = await measure('without (--client-requests-in-flight-max 100000 --event-loop-delay-max-ms 0)', ['--client-requests-in-flight-max', '100000', '--event-loop-delay-max-ms', '0']);
report(unprotected);
