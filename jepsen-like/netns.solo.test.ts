// --netns for real (root, Linux): nodes in their own network namespaces on a bridge, each on its
// own address. First three nodes and a joiner: /cluster lists the advertised namespace addresses, the nodes run
// in another network namespace than this process, nothing answers on 127.0.0.1:7070 here, a
// partition rule really cuts one link (refuse: reset; drop: silence) and not the others, 100% loss
// silences it, a bandwidth limit is a tbf qdisc, a link down is unreachable, and healing undoes all. Then a
// short run with every packet-level fault this kernel has plus kill/pause: nothing acknowledged is
// lost, every available kind was applied, and the run says which kinds were unavailable.
// Skips (saying why) without root or where `ip netns add` is not permitted; under CI=true a missing
// nftables is a failure (.ci/run installs it). A solo test: it runs alone, after the others.
// Needs `npm run build` first.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getJson } from '../test/kit/http.js';
import { netnsPort, ProcessCluster } from './cluster.js';
import type { FaultWindow } from './history.js';
import { availableNetFaults, detectCapabilities, Netns, netnsProblem } from './netns.js';
import type { NemesisKind } from './nemesis.js';
import { defaultOptions, planOf, runJepsen } from './run.js';

const problem = netnsProblem();
const skip = problem === undefined ? false : `--netns cannot run here: ${problem}`;

/** From inside namespace `ns`: what a TCP connect to host:port gives within `waitMs` ("open", "silence" or the error code). */
function probeFrom(netns: Netns, id: string, host: string, port: number, waitMs: number): string {
  const script = `const s=require('net').connect(${port},${JSON.stringify(host)});const t=setTimeout(()=>{console.log('silence');process.exit(0)},${waitMs});` +
    `s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)});`;
  const [cmd, ...args] = [...netns.execPrefix(id), process.execPath, '-e', script];
  return spawnSync(cmd!, args, { encoding: 'utf8', timeout: waitMs + 5000 }).stdout.trim();
}

/** Partitions (refuse: reset; drop: silence) and 100% loss really cut n1's packets to n2, and only those. */
function cutLinks(netns: Netns): void {
  const n2 = netns.address('n2');
  netns.setLink('n1', 'n2', 'refuse');
  assert.match(probeFrom(netns, 'n1', n2, netnsPort, 2000), /ECONNRESET|ECONNREFUSED/, 'refuse: a reset');
  netns.setLink('n1', 'n2', 'drop');
  assert.equal(probeFrom(netns, 'n1', n2, netnsPort, 1000), 'silence', 'drop: silence');
  assert.equal(probeFrom(netns, 'n1', netns.address('n3'), netnsPort, 2000), 'open', 'the other link still passes');
  netns.setLink('n1', 'n2', 'pass');
  assert.equal(probeFrom(netns, 'n1', n2, netnsPort, 2000), 'open', 'the cut is healed by deleting the rule');
  netns.setLoss('n1', 100);
  assert.equal(probeFrom(netns, 'n1', n2, netnsPort, 1000), 'silence', 'loss 100%: nothing gets through');
  netns.setLoss('n1', 0);
}

function qdiscOf(netns: Netns, id: string): string {
  const [cmd, ...args] = [...netns.execPrefix(id), 'tc', 'qdisc', 'show', 'dev', 'eth0'];
  return spawnSync(cmd!, args, { encoding: 'utf8' }).stdout;
}

/** A TCP connect from this (the root) namespace: "open" or the error code. */
function probeHere(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); resolve('silence'); }, 2000);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve('open'); });
    s.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(e.code ?? 'error'); });
  });
}

describe('jepsen --netns', { skip }, () => {
  it('under CI, nftables is there (.ci/run installs it)', () => {
    const caps = detectCapabilities();
    console.log(`# this kernel: netem ${caps.netem ? 'yes' : `no (${caps.netemProblem})`}, tbf ${caps.tbf ? 'yes' : 'no'}, nftables ${caps.nft ? 'yes' : `no (${caps.nftProblem})`}`);
    if (process.env['CI'] === 'true') assert.ok(caps.nft, `nftables missing under CI: ${caps.nftProblem}`);
  });

  it("nodes are on their own addresses: /cluster gives them out (a joiner's too), nothing on 127.0.0.1, a partition rule cuts one link", async () => {
    const netns = Netns.create(['n1', 'n2', 'n3', 'n4']); // n4 joins later
    const logDir = await mkdtemp(join(tmpdir(), 'kvorum-netns-test-'));
    let cluster: ProcessCluster | undefined;
    try {
      cluster = await ProcessCluster.start({ nodes: 3, n: 3, logDir, extraArgs: ['--log-level', 'warn'], healthDeadlineMs: 60_000, netns });
      const urls = ['n1', 'n2', 'n3'].map((id) => `http://${netns.address(id)}:${netnsPort}`);
      assert.deepEqual(cluster.nodes.map((n) => n.url), urls);
      const view = (await getJson(`${urls[0]}/cluster`, 5000)).body as { members: { id: string; url: string }[] };
      assert.deepEqual(view.members.map((m) => m.url).sort(), urls, 'the ring gives out the advertised namespace addresses');
      // A joining node registers its advertised URL: every member hears of it.
      const joiner = await cluster.addJoiner('n4', cluster.node('n1'));
      const joinerUrl = `http://${netns.address('n4')}:${netnsPort}`;
      assert.equal(joiner.url, joinerUrl);
      const after = (await getJson(`${urls[1]}/cluster`, 5000)).body as { members: { id: string; url: string }[] };
      assert.equal(after.members.find((m) => m.id === 'n4')?.url, joinerUrl, 'the joiner is known by its advertised namespace address');
      const own = readlinkSync('/proc/self/ns/net');
      for (const node of cluster.nodes) {
        assert.notEqual(readlinkSync(`/proc/${node.proc!.pid}/ns/net`), own, `${node.id} runs in a namespace of its own`);
        // `ip netns exec` execs: the pid the nemesis signals is node's own (kill and pause reach it).
        assert.equal(readlinkSync(`/proc/${node.proc!.pid}/exe`), realpathSync(process.execPath), `${node.id}'s pid is node's`);
      }
      assert.notEqual(await probeHere('127.0.0.1', netnsPort), 'open', `nothing listens on 127.0.0.1:${netnsPort} here`);
      assert.equal(probeFrom(netns, 'n1', netns.address('n2'), netnsPort, 2000), 'open');
      if (detectCapabilities().nft) cutLinks(netns);
      else console.log('# nftables missing: partition and loss not checked');
      netns.setBandwidth('n2', 128);
      assert.match(qdiscOf(netns, 'n2'), /tbf .*rate 128Kbit/, 'bandwidth: a tbf qdisc on the link');
      netns.setLinkDown('n3', true);
      assert.equal(await probeHere(netns.address('n3'), netnsPort), 'silence', 'link down: unreachable from the bridge');
      netns.healAll();
      assert.doesNotMatch(qdiscOf(netns, 'n2'), /tbf/, 'healed: no tbf');
      assert.equal(probeFrom(netns, 'n1', netns.address('n2'), netnsPort, 2000), 'open', 'healed');
      assert.equal(await probeHere(netns.address('n3'), netnsPort), 'open', 'link up again');
    } finally {
      await cluster?.stop();
      netns.destroy();
      await rm(logDir, { recursive: true, force: true });
    }
    assert.ok(!spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(`kv${process.pid}`), 'namespaces removed');
  });

  it('a short run with every available packet-level fault plus kill and pause loses nothing', async () => {
    const caps = detectCapabilities();
    const kinds: NemesisKind[] = ['kill', 'pause', ...(caps.nft ? ['partition' as const] : []), ...availableNetFaults(caps)];
    const base = { nodes: 5, timeSec: 30, netns: true, keys: 2, concurrency: 8, churnKeys: 10, quietMs: [500, 1000], faultMs: [1500, 2500] } as const;
    const seed = seedCovering(base, kinds);
    const out = await mkdtemp(join(tmpdir(), 'kvorum-netns-run-'));
    let kept = false;
    try {
      const { dir, results } = await runJepsen({ ...base, seed, nemeses: ['kill', 'pause', 'partition', 'loss', 'bandwidth', 'latency', 'link-down'], out });
      const faults = JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8')) as FaultWindow[];
      const applied = new Set(faults.map((f) => f.kind));
      const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).info as { network: string };
      console.log(`# seed ${seed}: ${results.set?.acknowledged} adds acknowledged, ${results.set?.lost.count} lost; faults ${faults.map((f) => f.kind).join(' ')}; ${info.network}`);
      kept = !results.valid;
      assert.ok(results.set, 'set results');
      assert.equal(results.set.lost.count, 0, `lost adds: ${JSON.stringify(results.set.lost.examples.slice(0, 3))}`);
      assert.ok(results.set.acknowledged > 50, `enough adds acknowledged (${results.set.acknowledged})`);
      assert.ok(results.valid, `valid: ${results.reasons.join('; ')}`);
      for (const kind of kinds) assert.ok(applied.has(kind as FaultWindow['kind']), `a ${kind} fault was applied: ${[...applied].join(', ')}`);
      assert.equal(applied.has('latency'), caps.netem, 'latency only when netem is there');
      assert.match(info.network, caps.netem ? /unavailable: none/ : /unavailable: latency \(tc netem/, 'the run says what was unavailable');
      assert.ok(existsSync(join(dir, 'report.html')), 'report.html written');
    } finally {
      if (kept) console.error(`run directory kept: ${out}`);
      else await rm(out, { recursive: true, force: true });
    }
  });
});

/** The first seed whose plan applies every kind early enough (kills count the restart) to fit the run. */
function seedCovering(base: { timeSec: number; quietMs: readonly [number, number]; faultMs: readonly [number, number]; nodes: number }, kinds: NemesisKind[]): number {
  const restartMs = 4000;
  for (let seed = 1; seed < 10_000; seed++) {
    const plan = planOf(defaultOptions({ ...base, seed }), kinds);
    const seen = new Set<string>();
    let atMs = 0;
    for (const f of plan) {
      atMs += f.quietMs + f.durationMs + (f.kind === 'kill' ? restartMs : 0);
      if (atMs > base.timeSec * 1000 - 6000) break;
      seen.add(f.kind);
      if (seen.size === kinds.length) return seed;
    }
  }
  throw new Error(`no seed applies every kind (${kinds.join(', ')}) within ${base.timeSec} s`);
}
