// The coordinator against fake time and a fake network (Dynamo paper, section 4.5: quorum reads
// and writes; section 4.6: a slow or failed replica must not block the answer).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveValues, update } from '../../src/core/dvv.js';
import { readSpeculateAfterMs, siblingsMax } from '../../src/core/limits.js';
import { versionHash } from '../../src/core/merkle.js';
import { preferenceListForKey } from '../../src/core/ring.js';
import type { ClientOp, ClientResult, QuorumSpec, WriteCondition } from '../../src/core/rpc.js';
import type { ActorId, CausalContext, NodeId, VersionedObject } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

const text = (s: string) => new TextEncoder().encode(s);
const put = (key: string, value: string, w: QuorumSpec = 'quorum', context?: CausalContext, timeoutMs = 2000): ClientOp => ({
  op: 'put', key, data: text(value), contentType: 'text/plain', context, w, pw: 0, timeoutMs,
});
const get = (key: string, r: QuorumSpec = 'quorum', timeoutMs = 2000): ClientOp => ({ op: 'get', key, r, pr: 0, timeoutMs });
/** Values written here without a ttl are live at any instant. */
const anyMs = 0;
const values = (res: ClientResult, nowMs = anyMs) => {
  assert.ok(res.ok, `expected success, got ${JSON.stringify(res)}`);
  return liveValues(res.object, nowMs).map((v) => new TextDecoder().decode(v.data)).sort();
};

/** Tracks whether a promise has settled, without awaiting it. */
function watch<T>(p: Promise<T>) {
  const state: { done: boolean; value?: T } = { done: false };
  void p.then((v) => Object.assign(state, { done: true, value: v }));
  return state;
}

function replicasOf(c: ReturnType<typeof fakeCluster>, key: string): NodeId[] {
  return [...preferenceListForKey(c.ring, key).primaries];
}

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

describe('coordinator: the sibling cap', () => {
  /** `count` blind writes of `key` through `node`, each acked by every replica. */
  const blindWrites = async (c: ReturnType<typeof fakeCluster>, node: NodeId, key: string, count: number) => {
    for (let i = 0; i < count; i++) assert.equal((await c.node(node).coordinator.execute(put(key, `v${i}`, 'all'))).ok, true, `blind write ${i}`);
  };
  const hashes = (c: ReturnType<typeof fakeCluster>, key: string) =>
    Promise.all(c.ids.map(async (id) => {
      const o = await c.node(id).storage.get(key);
      return o && versionHash(key, o);
    }));

  it('a client write that would leave more than siblingsMax siblings is refused and changes nothing; one with the context read resolves them', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    await blindWrites(c, a!, 'k', siblingsMax);
    assert.equal((await c.node(a!).storage.get('k'))?.siblings.length, siblingsMax, 'siblingsMax siblings are allowed');
    const before = await hashes(c, 'k');

    const refused = await c.node(a!).coordinator.execute(put('k', 'one-too-many', 'all'));
    assert.deepEqual(refused.ok ? refused : [refused.code, refused.details, refused.node], ['too_many_siblings', { siblingsMax }, a]);
    const withStaleContext = await c.node(a!).coordinator.execute({ op: 'delete', key: 'k', context: { vv: [], cloud: [] }, w: 'all', pw: 0, timeoutMs: 2000 });
    assert.equal(withStaleContext.ok === false && withStaleContext.code, 'too_many_siblings', 'a delete whose context covers nothing is refused too');
    assert.deepEqual(await hashes(c, 'k'), before, 'no replica changed');

    const read = await c.node(a!).coordinator.execute(get('k', 'all'));
    assert.ok(read.ok);
    assert.equal(values(read).length, siblingsMax);
    assert.equal((await c.node(a!).coordinator.execute(put('k', 'merged', 'all', read.context))).ok, true, 'the write with the context read is taken');
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['merged']);
  });

  it('a delete without a context at the cap supersedes what the coordinator has seen, so it is taken', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    await blindWrites(c, a!, 'k', siblingsMax);
    const del = await c.node(a!).coordinator.execute({ op: 'delete', key: 'k', context: undefined, w: 'all', pw: 0, timeoutMs: 2000 });
    assert.equal(del.ok, true);
    assert.equal((await c.node(a!).storage.get('k'))?.siblings.length, 1);
  });

  it('a forwarded write over the cap is refused by the primary that coordinates it', async () => {
    const c = fakeCluster(5);
    const [a] = replicasOf(c, 'k');
    const outsider = c.ids.find((id) => !replicasOf(c, 'k').includes(id))!;
    await blindWrites(c, a!, 'k', siblingsMax);
    const res = await c.node(outsider).coordinator.execute(put('k', 'one-too-many', 'all'));
    assert.equal(res.ok === false && res.code, 'too_many_siblings');
  });

  it('replication is never refused: a replica merges a copy holding more than siblingsMax siblings', async () => {
    const c = fakeCluster(3);
    const [a, b] = replicasOf(c, 'k');
    let object: VersionedObject | undefined;
    for (let i = 0; i < siblingsMax + 20; i++) object = update(object, undefined, `${a}.x` as ActorId, { kind: 'value', data: text(`v${i}`), contentType: 't' }).object;
    assert.deepEqual(await c.node(b!).core.rpc.handle({ type: 'replicate', key: 'k', object: object! }), { type: 'ack' });
    assert.equal((await c.node(b!).storage.get('k'))?.siblings.length, siblingsMax + 20);
  });
});

describe('coordinator: conditional writes (If-None-Match: *, If-Match)', () => {
  const putIf = (key: string, value: string, condition: WriteCondition, w: QuorumSpec = 'all', timeoutMs = 2000): ClientOp => ({
    op: 'put', key, data: text(value), contentType: 'text/plain', condition, w, pw: 0, timeoutMs,
  });
  const deleteIf = (key: string, condition: WriteCondition): ClientOp => ({ op: 'delete', key, condition, w: 'all', pw: 0, timeoutMs: 2000 });
  const absent: WriteCondition = { kind: 'absent' };
  const match = (context: CausalContext): WriteCondition => ({ kind: 'match', context });
  /** Every node's stored copy of `key`, to show a refused write changed nothing anywhere. */
  const stored = async (c: ReturnType<typeof fakeCluster>, key: string) => {
    await c.time.settle();
    return Promise.all(c.ids.map((id) => c.node(id).storage.get(key)));
  };
  const refused = (res: ClientResult) => {
    assert.ok(!res.ok, `expected 412, got ${JSON.stringify(res)}`);
    assert.equal(res.code, 'precondition_failed');
  };

  it('absent: creates a missing key; a second create is refused and changes nothing', async () => {
    const c = fakeCluster(3);
    const [a, b] = replicasOf(c, 'k');
    assert.equal((await c.node(a!).coordinator.execute(putIf('k', 'first', absent))).ok, true);
    const before = await stored(c, 'k');
    refused(await c.node(b!).coordinator.execute(putIf('k', 'second', absent)));
    assert.deepEqual(await stored(c, 'k'), before);
    assert.deepEqual(values(await c.node(b!).coordinator.execute(get('k', 'all'))), ['first']);
  });

  it('absent: a deleted key counts as absent, and the create supersedes its tombstone', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'old', 'all'));
    await c.node(a!).coordinator.execute({ op: 'delete', key: 'k', w: 'all', pw: 0, timeoutMs: 2000 });
    assert.equal((await c.node(a!).coordinator.execute(putIf('k', 'new', absent))).ok, true);
    const read = await c.node(a!).coordinator.execute(get('k', 'all'));
    assert.deepEqual(values(read), ['new']);
    assert.ok(read.ok && read.object?.siblings.length === 1, 'the tombstone is superseded, not kept as a sibling');
  });

  it('absent: siblings are live values too', async () => {
    const c = fakeCluster(3);
    const [a, b] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'x', 'all'));
    await c.node(b!).coordinator.execute(put('k', 'y', 'all'));
    refused(await c.node(a!).coordinator.execute(putIf('k', 'z', absent)));
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['x', 'y']);
  });

  it('match: writes with the current context, superseding it; a stale context is refused and changes nothing', async () => {
    const c = fakeCluster(3);
    const [a, b] = replicasOf(c, 'k');
    await c.node(a!).coordinator.execute(put('k', 'v1', 'all'));
    const read1 = await c.node(b!).coordinator.execute(get('k', 'all'));
    assert.ok(read1.ok);
    const ok = await c.node(b!).coordinator.execute(putIf('k', 'v2', match(read1.context)));
    assert.ok(ok.ok);
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['v2']);
    const before = await stored(c, 'k');
    refused(await c.node(a!).coordinator.execute(putIf('k', 'v3', match(read1.context))));
    refused(await c.node(a!).coordinator.execute(deleteIf('k', match(read1.context))));
    assert.deepEqual(await stored(c, 'k'), before);
    // The context a conditional write returns is the current one while nothing else is written.
    assert.equal((await c.node(a!).coordinator.execute(putIf('k', 'v4', match(ok.context)))).ok, true);
    assert.deepEqual(values(await c.node(b!).coordinator.execute(get('k', 'all'))), ['v4']);
  });

  it('match: a context that misses a concurrent write (a sibling) is refused; one that has seen both resolves them', async () => {
    const c = fakeCluster(3);
    const [a, b] = replicasOf(c, 'k');
    const first = await c.node(a!).coordinator.execute(put('k', 'x', 'all'));
    await c.node(b!).coordinator.execute(put('k', 'y', 'all'));
    assert.ok(first.ok);
    refused(await c.node(a!).coordinator.execute(putIf('k', 'x2', match(first.context))));
    const both = await c.node(a!).coordinator.execute(get('k', 'all'));
    assert.ok(both.ok);
    assert.equal((await c.node(b!).coordinator.execute(putIf('k', 'xy', match(both.context)))).ok, true);
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['xy']);
  });

  it('match on a delete: the current context deletes, a stale one is refused', async () => {
    const c = fakeCluster(3);
    const [a] = replicasOf(c, 'k');
    const w1 = await c.node(a!).coordinator.execute(put('k', 'v1', 'all'));
    const w2 = await c.node(a!).coordinator.execute(put('k', 'v2', 'all', w1.ok ? w1.context : undefined));
    assert.ok(w1.ok && w2.ok);
    refused(await c.node(a!).coordinator.execute(deleteIf('k', match(w1.context))));
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['v2']);
    assert.equal((await c.node(a!).coordinator.execute(deleteIf('k', match(w2.context)))).ok, true);
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), []);
  });

  it('the read needs a quorum: without one the answer is 503 and nothing is written, even with w=1', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    c.network.setNode(b!, { kind: 'down' });
    c.network.setNode(z!, { kind: 'down' });
    const res = await c.node(a!).coordinator.execute(putIf('k', 'v', absent, 1));
    assert.ok(!res.ok && res.code === 'quorum_unavailable', JSON.stringify(res));
    assert.deepEqual(res.details, { required: 2, acked: 1 });
    assert.equal(await c.node(a!).storage.get('k'), undefined);
  });

  it('read and write share the timeout: the write gets what the read left', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    c.network.setNode(b!, { kind: 'slow', delayMs: 600 });
    c.network.setNode(z!, { kind: 'silent' });
    // The read's quorum (a and b) is met at 600 ms; the write's second ack could only come at 1200 ms.
    const res = watch(c.node(a!).coordinator.execute(putIf('k', 'v', absent, 2, 1000)));
    await c.time.advance(999);
    assert.equal(res.done, false);
    await c.time.advance(1);
    assert.equal(res.done, true, 'answered at the op timeout, not at read time + a whole timeout');
    assert.ok(res.value && !res.value.ok && res.value.code === 'quorum_unavailable', JSON.stringify(res.value));
  });

  it('a forwarded conditional write is checked by the primary it is forwarded to', async () => {
    const c = fakeCluster(5);
    let key = '';
    for (let i = 0; !key; i++) if (!replicasOf(c, `key${i}`).includes(c.ids[0]!)) key = `key${i}`;
    const outsider = c.node(c.ids[0]!).coordinator;
    assert.equal((await outsider.execute(putIf(key, 'v1', absent))).ok, true);
    refused(await outsider.execute(putIf(key, 'v2', absent)));
    const read = await outsider.execute(get(key, 'all'));
    assert.ok(read.ok);
    assert.equal((await outsider.execute(putIf(key, 'v3', match(read.context)))).ok, true);
    assert.deepEqual(values(await outsider.execute(get(key, 'all'))), ['v3']);
    assert.ok(c.network.log.some(([from, , type]) => from === c.ids[0] && type === 'forward'));
  });

  it('leaderless caveat: two creates whose reads cannot see the other write both succeed, and both values survive as siblings', async () => {
    const c = fakeCluster(3);
    const [a, b, z] = replicasOf(c, 'k');
    // a and b cannot reach each other (calls to either are refused); z is reachable but slow, so
    // each read's quorum is {itself, z}, both answered at 100 ms, before either write reaches z (200 ms).
    c.network.setNode(a!, { kind: 'down' });
    c.network.setNode(b!, { kind: 'down' });
    c.network.setNode(z!, { kind: 'slow', delayMs: 100 });
    const fromA = watch(c.node(a!).coordinator.execute(putIf('k', 'from-a', absent, 'quorum')));
    const fromB = watch(c.node(b!).coordinator.execute(putIf('k', 'from-b', absent, 'quorum')));
    await c.time.advance(200);
    assert.equal(fromA.value?.ok, true, JSON.stringify(fromA.value));
    assert.equal(fromB.value?.ok, true, JSON.stringify(fromB.value));
    for (const id of [a!, b!, z!]) c.network.setNode(id, { kind: 'up' });
    // Nothing lost: z holds both writes, and any quorum read now sees both siblings.
    assert.deepEqual(liveValues(await c.node(z!).storage.get('k'), anyMs).map((v) => new TextDecoder().decode(v.data)).sort(), ['from-a', 'from-b']);
    assert.deepEqual(values(await c.node(a!).coordinator.execute(get('k', 'all'))), ['from-a', 'from-b']);
    // And now that they see each other, a third create is refused.
    refused(await c.node(b!).coordinator.execute(putIf('k', 'third', absent)));
  });
});
