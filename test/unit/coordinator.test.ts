// The coordinator against fake time and a fake network (Dynamo paper, section 4.5: quorum reads
// and writes; section 4.6: a slow or failed replica must not block the answer).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveValues } from '../../src/core/dvv.js';
import { readSpeculateAfterMs } from '../../src/core/limits.js';
import type { NodeId } from '../../src/core/types.js';
import { anyMs, get, put, replicasOf, text, values, watch } from './coordinator-kit.js';
import { fakeCluster } from './fakes.js';

describe('coordinator: writes', () => {
  it('stores a write on every primary and answers once w have acked', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    const res = await c.node(a!).coordinator.execute(put('k', 'v1', 'all'));
    assert.equal(res.ok, true);
    for (const id of c.ids) assert.deepEqual(liveValues(await c.node(id).storage.get('k'), anyMs).length, 1);
  });

  it('answers w=quorum without waiting for a silent replica', async () => {
    const c = fakeCluster(3);
    const [a, , z] = replicasOf(c, 'k');
    c.network.setNode(z!, { kind: 'silent' });
    const res = watch(c.node(a!).coordinator.execute(put('k', 'v', 'quorum')));
    await c.time.settle();
    assert.equal(res.done, true, 'quorum of 2 met by coordinator + one replica, no timer needed');
    assert.equal(res.value?.ok, true);
  });

  it('w=all with a silent replica fails with required/acked exactly at the timeout', async () => {
    const c = fakeCluster(3);
    const [a, , z] = replicasOf(c, 'k');
    c.network.setNode(z!, { kind: 'silent' });
    const res = watch(c.node(a!).coordinator.execute(put('k', 'v', 'all', undefined, 1000)));
    await c.time.advance(999);
    assert.equal(res.done, false, 'must keep waiting until the timeout');
    await c.time.advance(1);
    assert.equal(res.done, true);
    assert.deepEqual(res.value, {
      ok: false, node: a, code: 'quorum_unavailable', message: 'Needed 3 replicas, 2 answered in time.', details: { required: 3, acked: 2 },
    });
  });

  it('a write whose w is met only with a fallback\'s ack fails pw=all, and its 503 says primaries were missing', async () => {
    const c = fakeCluster(4);
    const [a, , z] = replicasOf(c, 'k');
    c.network.setNode(z!, { kind: 'down' });
    const res = await c.node(a!).coordinator.execute({ op: 'put', key: 'k', data: text('v'), contentType: 'text/plain', w: 'all', pw: 'all', timeoutMs: 2000 });
    assert.deepEqual(res.ok ? res : [res.code, res.message, res.details], [
      'quorum_unavailable', 'Needed 3 replicas, 3 answered in time (3 of them primaries; 2 primaries answered).', { required: 3, acked: 3 },
    ]);
  });

  it('fails at once, not at the timeout, when the quorum can no longer be met', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    c.network.setNode(b!, { kind: 'down' });
    c.network.setNode(z!, { kind: 'down' });
    const res = watch(c.node(a!).coordinator.execute(put('k', 'v', 2)));
    await c.time.settle();
    assert.equal(res.done, true);
    assert.equal(res.value?.ok, false);
    assert.deepEqual(res.value?.ok === false && res.value.details, { required: 2, acked: 1 });
  });

  it('waits for a slow replica when w needs it, and answers when it acks', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    c.network.setNode(b!, { kind: 'slow', delayMs: 300 });
    c.network.setNode(z!, { kind: 'slow', delayMs: 500 });
    const res = watch(c.node(a!).coordinator.execute(put('k', 'v', 'all')));
    await c.time.advance(499);
    assert.equal(res.done, false);
    await c.time.advance(1);
    assert.equal(res.value?.ok, true);
  });

  it('a numeric w larger than the membership is 503, the named forms adapt (2 members, N=3)', async () => {
    const c = fakeCluster(2);
    const res = await c.node(c.ids[0]!).coordinator.execute(put('k', 'v', 3));
    assert.deepEqual(res.ok === false && res.details, { required: 3, acked: 0 });
    assert.equal((await c.node(c.ids[0]!).coordinator.execute(put('k', 'v', 'all'))).ok, true);
    assert.equal((await c.node(c.ids[0]!).coordinator.execute(get('k', 'all'))).ok, true);
  });

  it('a write with the context of a read supersedes what the read saw, and nothing else', async () => {
    const c = fakeCluster(3);
    const [a, b] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v1', 'all'));
    const read = await c.node(b!).coordinator.execute(get('k', 'all'));
    assert.ok(read.ok);
    // A concurrent blind write after the read: the context does not cover it.
    await c.node(b!).coordinator.execute(put('k', 'blind', 'all'));
    await c.node(a!).coordinator.execute(put('k', 'v2', 'all', read.context));
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['blind', 'v2']);
  });

  it('the context returned by a write lets the writer write again without reading', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    const first = await c.node(a!).coordinator.execute(put('k', 'v1', 'all'));
    assert.ok(first.ok);
    await c.node(a!).coordinator.execute(put('k', 'other', 'all')); // someone else, blind
    await c.node(a!).coordinator.execute(put('k', 'v2', 'all', first.context));
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['other', 'v2']);
  });

  it('a delete without context removes what the coordinator has seen', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v1', 'all'));
    const del = await c.node(a!).coordinator.execute({ op: 'delete', key: 'k', context: undefined, w: 'all', pw: 0, timeoutMs: 2000 });
    assert.equal(del.ok, true);
    const read = await c.node(a!).coordinator.execute(get('k', 'all'));
    assert.deepEqual(values(read), []);
    assert.ok(read.ok && read.object && read.object.siblings.length === 1, 'a tombstone is kept');
  });
});

describe('coordinator: reads', () => {
  it('r=2 succeeds with one replica down, r=all does not', async () => {
    const c = fakeCluster(3);
    const [a, , z] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v', 'all'));
    c.network.setNode(z!, { kind: 'down' });
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 2))), ['v']);
    const all = await c.node(a!).coordinator.execute(get('k', 'all'));
    // Decided as soon as the down replica refused: the other reply may not have arrived yet.
    assert.ok(!all.ok && all.details['required'] === 3 && (all.details['acked'] as number) < 3, JSON.stringify(all));
  });

  it('"not found" replies count toward r', async () => {
    const c = fakeCluster(3);
    const res = await c.node(c.ids[0]!).coordinator.execute(get('missing', 'all'));
    assert.ok(res.ok);
    assert.equal(res.object, undefined);
  });

  it('merges concurrent versions held by different replicas into siblings', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    // Partition so that each blind write reaches only its coordinator.
    for (const id of [a!, b!, z!]) c.network.setNode(id, { kind: 'down' });
    assert.equal((await c.node(a!).coordinator.execute(put('k', 'from-a', 1))).ok, true);
    assert.equal((await c.node(b!).coordinator.execute(put('k', 'from-b', 1))).ok, true);
    for (const id of [a!, b!, z!]) c.network.setNode(id, { kind: 'up' });
    assert.deepEqual(values(await c.node(z!).coordinator.execute(get('k', 'all'))), ['from-a', 'from-b']);
  });

  it('times out a silent replica when r needs it', async () => {
    const c = fakeCluster(3);
    const [a, , z] = replicasOf(c, 'k');
    c.network.setNode(z!, { kind: 'silent' });
    const res = watch(c.node(a!).coordinator.execute(get('k', 'all', 700)));
    await c.time.advance(699);
    assert.equal(res.done, false);
    await c.time.advance(1);
    assert.deepEqual(res.value?.ok === false && res.value.details, { required: 3, acked: 2 });
  });
});

describe('coordinator: reads ask r replicas, and a spare when one fails or is slow', () => {
  const digestsTo = (c: ReturnType<typeof fakeCluster>, node: NodeId) => c.network.log.filter(([, to, type]) => to === node && type === 'readDigest').length;

  it('r=2 asks this node and one peer; the other primary gets no request', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v', 'all'));
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 2))), ['v']);
    await c.time.settle();
    assert.equal(digestsTo(c, b!) + digestsTo(c, z!), 1, JSON.stringify(c.network.log));
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['v']);
    assert.equal(digestsTo(c, b!) + digestsTo(c, z!), 3, 'r=all asks both peers');
  });

  it('a peer that refuses is replaced by the spare at once', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v', 'all'));
    // b comes first in the preference list, refuses, and is still believed up: a asks it, then z.
    c.network.setNode(b!, { kind: 'down' });
    const res = watch(c.node(a!).coordinator.execute(get('k', 2)));
    await c.time.settle();
    assert.equal(res.done, true, 'answered without waiting for any timer');
    assert.deepEqual(res.value && values(res.value), ['v']);
    assert.deepEqual([digestsTo(c, b!), digestsTo(c, z!)], [1, 1]);
  });

  it('a silent peer costs a read readSpeculateAfterMs, not its timeout', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v', 'all'));
    c.network.setNode(b!, { kind: 'silent' });
    c.network.setNode(z!, { kind: 'silent' });
    const res = watch(c.node(a!).coordinator.execute(get('k', 2, 2000)));
    await c.time.advance(readSpeculateAfterMs - 1);
    assert.equal(res.done, false);
    // Whichever peer was asked first stays silent; the spare answers once asked.
    c.network.setNode(b!, { kind: 'up' });
    c.network.setNode(z!, { kind: 'up' });
    await c.time.advance(1);
    assert.equal(res.done, true, 'answered by the spare asked at readSpeculateAfterMs');
    assert.deepEqual(res.value && values(res.value), ['v']);
  });
});

describe('coordinator: forwarding', () => {
  const keyNotOn = (c: ReturnType<typeof fakeCluster>, node: NodeId) => {
    for (let i = 0; i < 1000; i++) if (!replicasOf(c, `key${i}`).includes(node)) return `key${i}`;
    throw new Error('no such key');
  };

  it('a node outside the preference list forwards to a primary', async () => {
    const c = fakeCluster(5);
    const key = keyNotOn(c, c.ids[0]!);
    const res = await c.node(c.ids[0]!).coordinator.execute(put(key, 'v', 'all'));
    assert.ok(res.ok);
    assert.equal(res.node, replicasOf(c, key)[0]);
    assert.equal(await c.node(c.ids[0]!).storage.get(key), undefined, 'the forwarder stores nothing');
    const read = await c.node(c.ids[0]!).coordinator.execute(get(key, 'all'));
    assert.deepEqual(values(read), ['v']);
  });

  it('tries the next primary when the first is unreachable', async () => {
    const c = fakeCluster(5);
    const key = keyNotOn(c, c.ids[0]!);
    const [first, second] = replicasOf(c, key);
    c.network.setNode(first!, { kind: 'down' });
    const res = await c.node(c.ids[0]!).coordinator.execute(put(key, 'v', 2));
    assert.ok(res.ok);
    assert.equal(res.node, second);
  });

  it('answers 503 with acked 0 when no primary can be reached', async () => {
    const c = fakeCluster(5);
    const key = keyNotOn(c, c.ids[0]!);
    for (const id of replicasOf(c, key)) c.network.setNode(id, { kind: 'down' });
    const res = await c.node(c.ids[0]!).coordinator.execute(get(key, 'quorum'));
    assert.deepEqual(res.ok === false && res.details, { required: 2, acked: 0 });
  });
});
