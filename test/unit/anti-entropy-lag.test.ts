// Anti-entropy's record of completed exchanges per peer (core/anti-entropy.ts exchangesByPeer), the
// lag GET /admin/overview and `kvorum status` show: time since the last exchange on the runtime's
// clock, last and total repairs; a failed exchange leaves the record as it was.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientOp } from '../../src/core/rpc.js';
import { fakeCluster } from './fakes.js';

const put = (key: string, value: string): ClientOp => ({
  op: 'put', key, data: new TextEncoder().encode(value), contentType: 'text/plain', context: undefined, w: 1, pw: 0, timeoutMs: 1000,
});

describe('anti-entropy lag per peer', () => {
  it('records each completed exchange: time since, last and total repairs; a failed one changes nothing', async () => {
    const c = fakeCluster(2, { n: 2 });
    const [a, b] = c.ids as [typeof c.ids[0], typeof c.ids[0]];
    const ae = c.node(a).core.antiEntropy;
    for (const id of c.ids) c.node(id).core.antiEntropy.takeUpTrees();
    assert.deepEqual(ae.exchangesByPeer(), [], 'no exchange yet');

    await ae.exchange(b);
    await c.time.advance(5000);
    assert.deepEqual(ae.exchangesByPeer(), [{ peer: b, lastKeysRepaired: 0, lastPartitionsDiffering: 0, exchanges: 1, keysRepaired: 0, sinceLastMs: 5000 }]);

    // A write only `a` took (b down, the hint dropped): the next exchange repairs it.
    c.network.setNode(b, { kind: 'down' });
    assert.equal((await c.node(a).coordinator.execute(put('only-a', 'v'))).ok, true);
    c.network.setNode(b, { kind: 'up' });
    for (const h of await c.node(a).storage.listHints(b, 100)) await c.node(a).storage.removeHint(h.target, h.key, h.version);
    await ae.exchange(b);
    const [after] = ae.exchangesByPeer();
    assert.deepEqual([after!.sinceLastMs, after!.exchanges, after!.lastKeysRepaired, after!.keysRepaired, after!.lastPartitionsDiffering], [0, 2, 1, 1, 1]);

    await c.time.advance(1000);
    c.network.setNode(b, { kind: 'down' });
    await assert.rejects(ae.exchange(b));
    const [still] = ae.exchangesByPeer();
    assert.deepEqual([still!.sinceLastMs, still!.exchanges], [1000, 2], 'a failed exchange is not a completed one: the lag grows');
    assert.deepEqual(c.node(b).core.antiEntropy.exchangesByPeer(), [], 'the peer that answered records nothing (it started no exchange)');
  });
});
