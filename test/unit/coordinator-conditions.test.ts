// The coordinator's refusals of client writes, against fake time and a fake network: the sibling
// cap (409 too_many_siblings) and conditional writes (If-None-Match: *, If-Match; 412).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveValues, update } from '../../src/core/dvv.js';
import { siblingsMax } from '../../src/core/limits.js';
import { versionHash } from '../../src/core/merkle.js';
import type { ClientOp, ClientResult, QuorumSpec, WriteCondition } from '../../src/core/rpc.js';
import type { ActorId, CausalContext, NodeId, VersionedObject } from '../../src/core/types.js';
import { anyMs, get, put, replicasOf, text, values, watch } from './coordinator-kit.js';
import { fakeCluster } from './fakes.js';

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
