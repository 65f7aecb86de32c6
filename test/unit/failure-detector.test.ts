// The failure detector (src/core/failure-detector.ts) on simulated time and the fake network: when
// a silent peer is believed down is computed here from the phi-accrual model (phi-model.ts) and
// checked to the millisecond; refusals, revivals, fresh estimators after an outage, and a peer list
// that changes at run time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FailureDetector } from '../../src/core/failure-detector.js';
import { peerProbeTimeoutMs, phiThresholdDefault } from '../../src/core/limits.js';
import { PhiAccrual } from '../../src/core/phi-accrual.js';
import type { Logger } from '../../src/core/ports.js';
import { RpcClient } from '../../src/core/rpc-client.js';
import { asNodeId, type NodeId } from '../../src/core/types.js';
import { FakeNetwork, SimTime } from './fakes.js';
import { expectedCrossingMs, seedsFor } from './phi-model.js';

const [n1, n2, n3, n4] = ['n1', 'n2', 'n3', 'n4'].map(asNodeId) as [NodeId, NodeId, NodeId, NodeId];
const emptyObject = { context: { vv: [], cloud: [] }, siblings: [] };

interface Options {
  readonly probeIntervalMs?: number;
  readonly phiThreshold?: number;
  readonly peers?: NodeId[];
}

/** n1's detector over peers that answer pings with pongs and anything else with an ack. */
function setup(opts: Options = {}) {
  const time = new SimTime();
  const network = new FakeNetwork(time.runtime);
  const peers = opts.peers ?? [n1, n2, n3];
  for (const id of [n1, n2, n3, n4]) {
    network.handlers.set(id, async (r) => (r.type === 'ping' ? { type: 'pong', node: id } : { type: 'ack' }));
  }
  const logged: string[] = [];
  const log: Logger = { debug() {}, warn() {}, error() {}, info: (_fields, message) => void logged.push(message) };
  const rpc = new RpcClient(network.transportFor(n1), () => detector);
  const probeIntervalMs = opts.probeIntervalMs ?? 1000;
  const phiThreshold = opts.phiThreshold ?? phiThresholdDefault;
  const detector: FailureDetector = new FailureDetector({
    self: n1, peers: () => peers, runtime: time.runtime, rpc, log, probeIntervalMs, probeTimeoutMs: peerProbeTimeoutMs, phiThreshold,
  });
  const ups: NodeId[] = [];
  detector.onUp((peer) => ups.push(peer));
  const now = () => time.world.now;
  /** Moves time to `ms` (absolute). */
  const at = (ms: number) => time.advance(ms - now());
  const pings = (peer: NodeId) => network.log.filter(([, to, type]) => to === peer && type === 'ping').length;
  return { time, network, peers, detector, rpc, logged, ups, now, at, pings, probeIntervalMs, phiThreshold };
}

/**
 * Probes start at 0 and every peer answers at once, so pongs arrive at 0, I, 2I, ... Runs until
 * `lastPongMs` (a multiple of I), then silences `peer` (its pings time out) just after that pong.
 */
async function pongsUntilSilent(s: ReturnType<typeof setup>, peer: NodeId, lastPongMs: number): Promise<void> {
  await s.at(lastPongMs);
  s.network.setNode(peer, { kind: 'silent' });
}

/** Asserts `peer` is up 1 ms before `lastPongMs + crossingMs` (rounded up) and down from then on. */
async function assertDownAt(s: ReturnType<typeof setup>, peer: NodeId, lastPongMs: number, crossingMs: number): Promise<void> {
  const downAt = lastPongMs + Math.ceil(crossingMs);
  // Up at every probe before the crossing, and just before it.
  for (let t = lastPongMs + s.probeIntervalMs; t < downAt; t += s.probeIntervalMs) {
    await s.at(t);
    assert.equal(s.detector.statusOf(peer), 'up', `${peer} at ${t} ms (down expected at ${downAt} ms)`);
  }
  await s.at(downAt - 1);
  assert.equal(s.detector.statusOf(peer), 'up', `${peer} 1 ms before the crossing (phi ${s.detector.phi(peer)})`);
  assert.ok(s.detector.phi(peer)! <= s.phiThreshold);
  await s.at(downAt);
  assert.equal(s.detector.statusOf(peer), 'down', `${peer} at the crossing, ${downAt} ms (phi ${s.detector.phi(peer)})`);
  assert.equal(s.detector.isUp(peer), false);
}

describe('FailureDetector: phi', () => {
  for (const [probeIntervalMs, phiThreshold] of [[1000, 8], [250, 8], [1000, 12], [2000, 3]] as const) {
    it(`a peer whose pongs stop is down exactly when phi crosses ${phiThreshold} (probe every ${probeIntervalMs} ms)`, async () => {
      const s = setup({ probeIntervalMs, phiThreshold });
      s.detector.start();
      const lastPongMs = 60 * probeIntervalMs;
      await pongsUntilSilent(s, n2, lastPongMs);
      assert.equal(s.detector.statusOf(n2), 'up');
      assert.ok(s.detector.phi(n2)! < 1e-6, `phi ${s.detector.phi(n2)} right after a pong`);
      // The window: the first pong's seeds, then 60 probe intervals; pause and first estimate are one probe interval.
      const window = [...seedsFor(probeIntervalMs), ...Array<number>(60).fill(probeIntervalMs)];
      const crossingMs = expectedCrossingMs(window, { pauseMs: probeIntervalMs, threshold: phiThreshold });
      await assertDownAt(s, n2, lastPongMs, crossingMs);
      assert.equal(s.detector.statusOf(n3), 'up', 'n3 kept answering');
      // The change is logged at the next probe, once.
      await s.at(lastPongMs + Math.ceil(crossingMs) + 3 * probeIntervalMs);
      assert.deepEqual(s.logged, ['peer n2 is down']);
    });
  }

  it('with one-second probes, a silent peer is down 2.5 s after its last pong, not at the first lost ping', async () => {
    const s = setup();
    s.detector.start();
    await pongsUntilSilent(s, n2, 60_000);
    const crossingMs = expectedCrossingMs([...seedsFor(1000), ...Array<number>(60).fill(1000)]);
    assert.ok(crossingMs > 2500 && crossingMs < 2550, `crossing ${crossingMs} ms`);
    await s.at(60_000 + 1000 + peerProbeTimeoutMs + 1); // the first ping has timed out
    assert.equal(s.detector.statusOf(n2), 'up', 'a timeout is only a missing heartbeat');
  });

  it('a peer that never answers is down once the assumed first interval is long past (3.3 s), and has no phi', async () => {
    const s = setup();
    s.network.setNode(n2, { kind: 'silent' });
    s.detector.start();
    await s.at(1);
    assert.equal(s.detector.statusOf(n2), 'unknown');
    assert.equal(s.detector.isUp(n2), true, 'unknown deserves a try');
    assert.equal(s.detector.phi(n2), undefined);
    // As if it had answered the first probe: seeds only.
    const crossingMs = expectedCrossingMs(seedsFor(1000));
    await s.at(Math.ceil(crossingMs) - 1);
    assert.equal(s.detector.statusOf(n2), 'unknown');
    await s.at(Math.ceil(crossingMs));
    assert.equal(s.detector.statusOf(n2), 'down');
    assert.equal(s.detector.phi(n2), undefined, 'still never heard from');
  });

  it('this node is always up with no phi', () => {
    const s = setup();
    assert.deepEqual([s.detector.statusOf(n1), s.detector.phi(n1)], ['up', undefined]);
    s.detector.heartbeat(n1);
    s.detector.reportFailure(n1);
    assert.deepEqual([s.detector.statusOf(n1), s.detector.phi(n1)], ['up', undefined]);
  });
});

describe('FailureDetector: refusals and revivals', () => {
  it('a refused ping marks the peer down at once, whatever phi says; the next pong brings it up', async () => {
    const s = setup();
    s.detector.start();
    await s.at(10_000);
    s.network.setNode(n2, { kind: 'down' });
    await s.at(10_500);
    assert.equal(s.detector.statusOf(n2), 'up', 'no probe since');
    await s.at(11_000); // the probe is refused
    assert.equal(s.detector.statusOf(n2), 'down');
    assert.ok(s.detector.phi(n2)! < 1e-6, `phi ${s.detector.phi(n2)}: the refusal alone made it down`);
    assert.deepEqual(s.logged, ['peer n2 is down']);
    s.network.setNode(n2, { kind: 'up' });
    await s.at(11_999);
    assert.equal(s.detector.statusOf(n2), 'down', 'down until heard from');
    s.ups.length = 0;
    await s.at(12_000);
    assert.equal(s.detector.statusOf(n2), 'up');
    assert.deepEqual(s.ups, [n2], 'listeners hear of it');
    assert.deepEqual(s.logged, ['peer n2 is down', 'peer n2 is up']);
  });

  it('any other reply brings a refused peer up before the next probe, and a refusal of any call marks it down', async () => {
    const s = setup();
    s.detector.start();
    await s.at(5000);
    s.network.setNode(n2, { kind: 'down' });
    await assert.rejects(s.rpc.call(n2, { type: 'replicate', key: 'k', object: emptyObject }, 100));
    assert.equal(s.detector.statusOf(n2), 'down', 'a replica call refused: down at once');
    s.network.setNode(n2, { kind: 'up' });
    await s.at(5300);
    await s.rpc.call(n2, { type: 'replicate', key: 'k', object: emptyObject }, 100);
    assert.equal(s.detector.statusOf(n2), 'up');
    // Revived at 5300 with a fresh estimator: down 3.3 s later if nothing more is heard.
    s.network.setNode(n2, { kind: 'silent' });
    await assertDownAt(s, n2, 5300, expectedCrossingMs(seedsFor(1000)));
  });

  it('replies from a peer believed up are not heartbeats: they neither delay suspicion nor widen the window', async () => {
    const s = setup();
    s.detector.start();
    await pongsUntilSilent(s, n2, 60_000);
    // The peer answers other calls at irregular times, but its pongs are lost (a one-way link fault).
    s.network.setNode(n2, { kind: 'up' });
    const pongsLost = s.network.handlers.get(n2)!;
    s.network.handlers.set(n2, async (r) => (r.type === 'ping' ? new Promise(() => {}) : pongsLost(r)));
    for (const t of [60_100, 60_900, 61_400, 62_300]) {
      await s.at(t);
      await s.rpc.call(n2, { type: 'replicate', key: 'k', object: emptyObject }, 100);
    }
    await assertDownAt(s, n2, 60_000, expectedCrossingMs([...seedsFor(1000), ...Array<number>(60).fill(1000)]));
  });
});

describe('FailureDetector: long outages', () => {
  /** Pongs for 1000 s (a full window of 1 s intervals), silent for `outageMs`, then pongs for 60 s; returns the last pong's time. */
  async function outageThenReturn(s: ReturnType<typeof setup>, outageMs: number): Promise<number> {
    s.detector.start();
    await pongsUntilSilent(s, n2, 1_000_000);
    await s.at(1_000_000 + outageMs - 1);
    assert.equal(s.detector.statusOf(n2), 'down');
    s.network.setNode(n2, { kind: 'up' });
    const backMs = 1_000_000 + outageMs; // a multiple of the probe interval: a pong arrives now
    const lastPongMs = backMs + 60_000;
    await pongsUntilSilent(s, n2, lastPongMs);
    return lastPongMs;
  }

  it('after a 10-minute outage, the next failure is detected in ~2.5 s, not ~102 s (a fresh estimator on return)', async () => {
    const s = setup();
    const lastPongMs = await outageThenReturn(s, 600_000);
    assert.equal(s.detector.statusOf(n2), 'up');
    const fresh = expectedCrossingMs([...seedsFor(1000), ...Array<number>(60).fill(1000)]);
    // What the same pongs give an estimator that keeps every interval: the outage's 600 s gap in a
    // window of 1000 intervals (999 of 1 s) puts the deviation near 19 s.
    const poisoned = expectedCrossingMs([...Array<number>(939).fill(1000), 600_000, ...Array<number>(60).fill(1000)]);
    assert.ok(fresh < 2600 && poisoned > 100_000 && poisoned < 103_000, `fresh ${fresh} ms, poisoned ${poisoned} ms`);
    const kept = new PhiAccrual({ firstIntervalEstimateMs: 1000, acceptablePauseMs: 1000 });
    for (let t = 0; t <= 1_000_000; t += 1000) kept.heartbeat(t);
    for (let t = 1_600_000; t <= lastPongMs; t += 1000) kept.heartbeat(t);
    assert.ok(Math.abs(kept.phi(lastPongMs + poisoned) - phiThresholdDefault) < 1e-6, 'the model matches an estimator that kept the gap');
    await assertDownAt(s, n2, lastPongMs, fresh);
  });

  it('a peer that comes back is logged down then up once, and its listeners told once', async () => {
    const s = setup();
    await outageThenReturn(s, 30_000);
    assert.deepEqual(s.logged, ['peer n2 is down', 'peer n2 is up']);
    assert.deepEqual(s.ups, [n2, n3, n2], 'first contact with n2 and n3, then n2 back');
  });
});

describe('FailureDetector: a peer list that changes', () => {
  it('probes the peers listed at each probe, and drops the state of those no longer listed', async () => {
    const s = setup({ peers: [n1, n2, n3] });
    s.detector.start();
    await s.at(5000);
    assert.deepEqual([s.detector.statusOf(n3), s.detector.statusOf(n4), s.pings(n4)], ['up', 'unknown', 0]);
    // n3 leaves and n4 joins.
    s.peers.splice(2, 1, n4);
    await s.at(6000);
    assert.equal(s.detector.statusOf(n4), 'up', 'n4 probed and heard at once');
    assert.ok(s.detector.phi(n4)! < 1e-6);
    assert.deepEqual([s.detector.statusOf(n3), s.detector.phi(n3)], ['unknown', undefined], "n3's estimator dropped");
    const n3Pings = s.pings(n3);
    await s.at(10_000);
    assert.equal(s.pings(n3), n3Pings, 'n3 is no longer probed');
    // n3 silent while away; listed again, it starts afresh: unknown until heard, never down for its old silence.
    s.network.setNode(n3, { kind: 'silent' });
    s.peers.push(n3);
    await s.at(11_000);
    assert.equal(s.detector.statusOf(n3), 'unknown');
    s.network.setNode(n3, { kind: 'up' });
    await s.at(12_000);
    assert.equal(s.detector.statusOf(n3), 'up');
  });

  it('start() again restarts the probe cycle instead of running a second one', async () => {
    const s = setup();
    s.detector.start();
    await s.at(500);
    s.detector.start();
    await s.at(10_400);
    assert.equal(s.pings(n2), 11, 'pings at 0, 500, 1500, ..., 9500');
    s.detector.stop();
    await s.at(20_000);
    assert.equal(s.pings(n2), 11, 'none after stop()');
  });
});
