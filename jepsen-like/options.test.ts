// The runner's --netns options: packet-level nemeses only with it (its default adds them), no
// membership nemesis with it. No root needed: nothing is created.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planNetFault } from './net-faults.js';
import { parseOptions, UsageError, type RunOptions } from './options.js';
import { Prng } from './prng.js';

const parse = (argv: string[]) => parseOptions(argv) as RunOptions;

describe('jepsen options: --netns', () => {
  it('off by default; on, its default nemesis adds every packet-level kind', () => {
    assert.equal(parse([]).netns, false);
    assert.deepEqual(parse([]).nemeses, ['kill', 'pause', 'partition']);
    const o = parse(['--netns']);
    assert.equal(o.netns, true);
    assert.deepEqual(o.nemeses, ['kill', 'pause', 'partition', 'loss', 'bandwidth', 'latency', 'link-down']);
    assert.deepEqual(parse(['--netns', '--nemesis', 'loss,kill']).nemeses, ['loss', 'kill']);
  });

  it('refuses packet-level kinds without --netns, and membership with it', () => {
    assert.throws(() => parseOptions(['--nemesis', 'kill,loss']), (e: unknown) => e instanceof UsageError && /loss is a packet-level fault: it needs --netns/.test(e.message));
    assert.throws(() => parseOptions(['--netns', '--nemesis', 'membership']), (e: unknown) => e instanceof UsageError && /membership nemesis does not run with --netns/.test(e.message));
  });

  it('plans packet-level faults in their ranges, a link down on at most maxDown nodes', () => {
    const prng = new Prng(3);
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (let i = 0; i < 200; i++) {
      const loss = planNetFault(prng, 'loss', ids, 2);
      assert.ok(loss.net.lossPercent! >= 5 && loss.net.lossPercent! <= 30 && loss.nodes.length >= 1);
      assert.ok([128, 256, 512, 1024].includes(planNetFault(prng, 'bandwidth', ids, 2).net.kbit!));
      const latency = planNetFault(prng, 'latency', ids, 2).net;
      assert.ok(latency.delayMs! >= 20 && latency.delayMs! <= 200 && latency.jitterMs! >= 5 && latency.jitterMs! <= 50);
      const down = planNetFault(prng, 'link-down', ids, 2);
      assert.ok(down.nodes.length >= 1 && down.nodes.length <= 2, down.description);
    }
  });
});
