// Per-key TTL (docs/api.md section 2, Expiry): liveness decided with the reading node's clock, the
// expiry carried with the version (hash, digest, replication, hints, forwarding), and an expired
// value reaped as a tombstone deleted at its expiry, through the reaper's safe path only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goneSinceMs, isLive, liveValues, sameVersion, update } from '../../src/core/dvv.js';
import { KvError } from '../../src/core/errors.js';
import { ttlSecondsMax } from '../../src/core/limits.js';
import { objectDigest, versionHash } from '../../src/core/merkle.js';
import { preferenceListForKey } from '../../src/core/ring.js';
import type { ClientOp, QuorumSpec } from '../../src/core/rpc.js';
import { isReapable } from '../../src/core/tombstone-reaper.js';
import { parseTtl } from '../../src/core/ttl.js';
import type { ActorId, NodeId, SiblingValue, VersionedObject } from '../../src/core/types.js';
import { fakeCluster } from './fakes.js';

const actor = 'n1.a' as ActorId;
const data = new Uint8Array([1]);
const value = (expiresAtMs?: number): SiblingValue => ({ kind: 'value', data, contentType: 't', ...(expiresAtMs === undefined ? {} : { expiresAtMs }) });
const tombstone = (deletedAtMs: number): SiblingValue => ({ kind: 'tombstone', deletedAtMs });
/** An object holding one blind write of each value, in order. */
const objectOf = (...values: SiblingValue[]): VersionedObject =>
  values.reduce<VersionedObject | undefined>((o, v) => update(o, undefined, actor, v).object, undefined)!;

const put = (key: string, body: string, opts: { w?: QuorumSpec; ttlSeconds?: number; timeoutMs?: number } = {}): ClientOp => ({
  op: 'put', key, data: new TextEncoder().encode(body), contentType: 'text/plain', w: opts.w ?? 'all', pw: 0, timeoutMs: opts.timeoutMs ?? 1000, ttlSeconds: opts.ttlSeconds,
});
const get = (key: string, r: QuorumSpec = 'all'): ClientOp => ({ op: 'get', key, r, pr: 0, timeoutMs: 1000 });
const expiries = (o: VersionedObject | undefined) => o?.siblings.map((s) => (s.value.kind === 'value' ? s.value.expiresAtMs : 'tombstone'));

describe('ttl: liveness', () => {
  it('a value is live strictly before its expiry, never at or after it; a tombstone never is', () => {
    assert.equal(isLive(value(1000), 999), true);
    assert.equal(isLive(value(1000), 1000), false, 'expiresAtMs <= now is not live');
    assert.equal(isLive(value(1000), 5000), false);
    assert.equal(isLive(value(), Number.MAX_SAFE_INTEGER), true, 'without a ttl a value never expires');
    assert.equal(isLive(tombstone(0), 0), false);
  });

  it('liveValues keeps the siblings live at the instant given, whatever their order', () => {
    const o = objectOf(value(1000), value(), value(3000), tombstone(500));
    assert.deepEqual(liveValues(o, 999).map((v) => v.expiresAtMs), [1000, undefined, 3000]);
    assert.deepEqual(liveValues(o, 1000).map((v) => v.expiresAtMs), [undefined, 3000]);
    assert.deepEqual(liveValues(o, 3000).map((v) => v.expiresAtMs), [undefined]);
    assert.deepEqual(liveValues(objectOf(value(1000)), 2000), [], 'an expired-only object reads like a tombstone');
  });

  it('goneSinceMs: a tombstone since its delete, a value since its expiry, a value without a ttl never', () => {
    assert.equal(goneSinceMs(tombstone(7)), 7);
    assert.equal(goneSinceMs(value(9)), 9);
    assert.equal(goneSinceMs(value()), undefined);
  });
});

describe('ttl: version identity', () => {
  it('a version without a ttl hashes exactly as before TTLs existed (existing data does not look changed)', () => {
    const o: VersionedObject = {
      context: { vv: [[actor, 2]], cloud: [] },
      siblings: [{ dot: [actor, 1], value: tombstone(5) }, { dot: [actor, 2], value: value() }],
    };
    // Pinned from the code before TTLs: anti-entropy trees and the reaper's digests stay the same.
    assert.equal(versionHash('k', o).toString(16), 'e30401bfd04af9bf');
    assert.equal(objectDigest(o), '4c49d052e1f2ab5546b369aceb86dabf7895d4f8');
  });

  it('copies that differ only in a sibling expiry are different versions (hash, digest, sameVersion)', () => {
    const base = objectOf(value());
    const withExpiry = (ms?: number): VersionedObject => ({ ...base, siblings: [{ dot: base.siblings[0]!.dot, value: value(ms) }] });
    const [none, early, late] = [withExpiry(), withExpiry(1000), withExpiry(2000)];
    assert.notEqual(versionHash('k', none), versionHash('k', early));
    assert.notEqual(versionHash('k', early), versionHash('k', late));
    assert.notEqual(objectDigest(early), objectDigest(late));
    assert.equal(sameVersion(early, late), false);
    assert.equal(sameVersion(early, withExpiry(1000)), true);
    assert.equal(versionHash('k', early), versionHash('k', withExpiry(1000)));
  });
});

describe('ttl: parseTtl', () => {
  it('takes whole seconds in 1..ttlSecondsMax, as digits or an integer', () => {
    assert.equal(parseTtl(undefined), undefined);
    assert.equal(parseTtl('1'), 1);
    assert.equal(parseTtl('0042'), 42);
    assert.equal(parseTtl(String(ttlSecondsMax)), ttlSecondsMax);
    assert.equal(parseTtl(60), 60);
  });

  it('refuses 0, negatives, fractions, over the max and anything not a number with invalid_ttl', () => {
    for (const bad of ['0', '-1', '1.5', '1e3', ' 1', '', 'abc', '0x10', String(ttlSecondsMax + 1), '9'.repeat(12), 0, -5, 1.5, ttlSecondsMax + 1, Number.NaN]) {
      assert.throws(() => parseTtl(bad), (err: unknown) => err instanceof KvError && err.code === 'invalid_ttl', `ttl ${JSON.stringify(bad)}`);
    }
  });
});

describe('ttl: reapability', () => {
  const grace = 100;
  it('an expired value counts as a tombstone deleted at its expiry', () => {
    assert.equal(isReapable(objectOf(value(1000)), 1000 + grace, grace), true);
    assert.equal(isReapable(objectOf(value(1000)), 1000 + grace - 1, grace), false, 'not before the grace period from the expiry');
    assert.equal(isReapable(objectOf(value(1000)), 999, grace), false, 'not while live');
    assert.equal(isReapable(objectOf(value(1000), tombstone(900)), 1000 + grace, grace), true, 'expired and deleted siblings together');
    assert.equal(isReapable(objectOf(value(1000), tombstone(1500)), 1000 + grace, grace), false, 'the latest departure counts');
  });

  it('a value without a ttl, or any live sibling, keeps the object', () => {
    assert.equal(isReapable(objectOf(value()), Number.MAX_SAFE_INTEGER, grace), false);
    assert.equal(isReapable(objectOf(value(1000), value()), 1_000_000, grace), false);
    assert.equal(isReapable(objectOf(value(1000), value(2_000_000)), 1_000_000, grace), false);
  });
});

describe('ttl: the coordinator and convergence (fake cluster)', () => {
  const grace = 5000;

  it('stamps the coordinator clock plus the ttl into the version every replica stores; after it a read is a 404 with context', async () => {
    const c = fakeCluster(3, { settings: { tombstoneGraceMs: grace } });
    const [p1] = preferenceListForKey(c.ring, 'k').primaries;
    const writtenAt = c.time.runtime.wallClockMs();
    assert.equal((await c.node(p1!).coordinator.execute(put('k', 'v', { ttlSeconds: 3 }))).ok, true);
    for (const id of c.ids) assert.deepEqual(expiries(await c.node(id).storage.get('k')), [writtenAt + 3000], `${id}'s copy carries the expiry`);

    await c.time.advance(2999);
    const before = await c.node(p1!).coordinator.execute(get('k'));
    assert.ok(before.ok);
    assert.equal(liveValues(before.object, c.time.runtime.wallClockMs()).length, 1, 'live 1 ms before the expiry');
    await c.time.advance(1);
    const after = await c.node(p1!).coordinator.execute(get('k'));
    assert.ok(after.ok && after.object);
    assert.deepEqual(liveValues(after.object, c.time.runtime.wallClockMs()), [], 'not live at the expiry');
    assert.ok(after.context.vv.length > 0, 'the read still returns the context, to write over the expired value');
  });

  it('a forwarded put carries its ttl to the primary that coordinates it', async () => {
    const c = fakeCluster(5);
    const { primaries } = preferenceListForKey(c.ring, 'k');
    const outsider = c.ids.find((id) => !primaries.includes(id))!;
    const writtenAt = c.time.runtime.wallClockMs();
    const res = await c.node(outsider).coordinator.execute(put('k', 'v', { ttlSeconds: 60 }));
    assert.ok(res.ok && res.node !== outsider, 'coordinated by a primary');
    for (const id of primaries) assert.deepEqual(expiries(await c.node(id).storage.get('k')), [writtenAt + 60_000], `${id}`);
    assert.equal(await c.node(outsider).storage.get('k'), undefined);
  });

  it('a primary down during the write gets only the expired version from its hint, and the reap waits for it', async () => {
    const c = fakeCluster(3, { settings: { tombstoneGraceMs: grace } });
    const [p1, p2, p3] = preferenceListForKey(c.ring, 'k').primaries as [NodeId, NodeId, NodeId];
    c.network.setNode(p3, { kind: 'down' });
    assert.equal((await c.node(p1).coordinator.execute(put('k', 'short', { w: 2, ttlSeconds: 1 }))).ok, true);
    assert.equal(await c.node(p3).storage.get('k'), undefined);
    assert.equal(c.node(p1).storage.hintCounts().get(p3), 1, 'the coordinator keeps the hint (no fallback among 3 nodes)');

    await c.time.advance(1000 + grace + 1000); // expired, and past the grace
    assert.equal(await c.node(p1).core.reaper.round(), 0, `${p3} lacks the version and a hint for it is pending`);
    assert.notEqual(await c.node(p2).storage.get('k'), undefined);

    c.network.setNode(p3, { kind: 'up' });
    for (const id of c.ids) c.node(id).core.detector.start();
    await c.time.advance(150);
    await c.node(p1).core.handoff.round();
    const delivered = await c.node(p3).storage.get('k');
    assert.equal(expiries(delivered)?.length, 1, `${p3} got the version from the hint`);
    assert.deepEqual(liveValues(delivered, c.time.runtime.wallClockMs()), [], 'and it is expired there too');
    const read = await c.node(p3).coordinator.execute(get('k', 1));
    assert.ok(read.ok);
    assert.deepEqual(liveValues(read.object, c.time.runtime.wallClockMs()), [], `a read of ${p3}'s own copy finds no live value`);

    assert.equal(await c.node(p1).core.reaper.round(), 1, 'every primary holds it, no hint left: reaped');
    for (const id of c.ids) assert.equal(await c.node(id).storage.get('k'), undefined, `${id} holds nothing for k`);
  });

  it('an expired value next to a live sibling is not reaped; a live ttl value is never reaped', async () => {
    const c = fakeCluster(3, { settings: { tombstoneGraceMs: grace } });
    const [p1] = preferenceListForKey(c.ring, 'k').primaries as [NodeId];
    await c.node(p1).coordinator.execute(put('k', 'short', { ttlSeconds: 1 }));
    await c.node(p1).coordinator.execute(put('k', 'forever'));
    await c.node(p1).coordinator.execute(put('k2', 'long', { ttlSeconds: 3600 }));
    await c.time.advance(1000 + grace + 1);
    assert.equal(await c.node(p1).core.reaper.round(), 0);
    for (const id of c.ids) assert.equal((await c.node(id).storage.get('k'))?.siblings.length, 2);
  });
});
