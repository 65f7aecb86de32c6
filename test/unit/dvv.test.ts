// Dotted version vectors (Almeida, Baquero, Gonçalves, Preguiça, Fonte, "Scalable and Accurate
// Causality Tracking for Eventually Consistent Stores", DAIS 2014): merge laws, supersession by
// context, one sibling per blind write, clock size bounded by replicas.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { actorsOf, covers, emptyContext, emptyObject, joinContexts, liveValues, sameContext, sync, update } from '../../src/core/dvv.js';
import { decodeContext, encodeContext } from '../../src/core/context-token.js';
import { KvError } from '../../src/core/errors.js';
import type { ActorId, CausalContext, VersionedObject } from '../../src/core/types.js';
import { actors, arbStep, replay, value } from './dvv-histories.js';

/** A token check for key `key` that bounds counters only to safe integers. */
const anyCounter = (key: string) => ({ key, counterMax: Number.MAX_SAFE_INTEGER });
/** Values written here have no TTL: live at any instant. */
const anyMs = 0;

const arbReplicas = fc.array(arbStep, { maxLength: 40 }).map((steps) => replay(steps).replicas);

describe('dvv: merge laws', () => {
  it('sync is commutative', () => {
    fc.assert(fc.property(arbReplicas, ([a, b]) => assert.deepEqual(sync(a!, b!), sync(b!, a!))), { numRuns: 300 });
  });

  it('sync is associative', () => {
    fc.assert(
      fc.property(arbReplicas, ([a, b, c]) => assert.deepEqual(sync(sync(a!, b!), c!), sync(a!, sync(b!, c!)))),
      { numRuns: 300 },
    );
  });

  it('sync is idempotent', () => {
    fc.assert(
      fc.property(arbReplicas, ([a, b]) => {
        assert.deepEqual(sync(a!, a!), a);
        assert.deepEqual(sync(a!, sync(a!, b!)), sync(a!, b!));
      }),
      { numRuns: 300 },
    );
  });

  it('every sibling is covered by its object context, dots are unique, actors are only replicas', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 60 }), (steps) => {
        for (const o of replay(steps).replicas) {
          for (const s of o.siblings) assert.ok(covers(o.context, s.dot));
          assert.equal(new Set(o.siblings.map((s) => s.dot.join('#'))).size, o.siblings.length);
          for (const a of actorsOf(o.context)) assert.ok(actors.includes(a), `unexpected actor ${a}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('dvv: writes', () => {
  it('a write with the context of a read supersedes exactly what that read saw', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 40 }), fc.nat(2), fc.nat(2), (steps, readAt, writeAt) => {
        const { replicas } = replay(steps);
        const read = replicas[readAt]!;
        const target = replicas[writeAt]!;
        const result = update(target, read.context, actors[writeAt]!, value('new')).object;
        const surviving = new Set(result.siblings.map((s) => s.dot.join('#')));
        for (const s of read.siblings) assert.ok(!surviving.has(s.dot.join('#')), 'a sibling the read saw survived');
        for (const s of target.siblings) {
          assert.equal(surviving.has(s.dot.join('#')), !covers(read.context, s.dot), 'an unseen sibling was dropped');
        }
        assert.equal(result.siblings.length, target.siblings.filter((s) => !covers(read.context, s.dot)).length + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('blind concurrent writes produce one sibling each', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(2), { minLength: 1, maxLength: 20 }), (writers) => {
        const replicas: VersionedObject[] = [emptyObject, emptyObject, emptyObject];
        writers.forEach((r, i) => (replicas[r] = update(replicas[r], undefined, actors[r]!, value(`w${i}`)).object));
        const merged = replicas.reduce((a, b) => sync(a, b));
        assert.equal(liveValues(merged, anyMs).length, writers.length);
      }),
    );
  });

  it('the writer context covers what the client saw plus its write, never a concurrent sibling', () => {
    const first = update(undefined, undefined, actors[0]!, value('mine'));
    const other = update(first.object, undefined, actors[0]!, value('theirs')); // blind, same replica
    assert.ok(!covers(first.writerContext, other.dot));
    const again = update(other.object, first.writerContext, actors[0]!, value('mine-2'));
    assert.deepEqual(liveValues(again.object, anyMs).map((v) => new TextDecoder().decode(v.data)), ['theirs', 'mine-2']);
  });

  it('a key reaped and written again never reuses a dot, so a context from before the reap covers nothing new (KV679)', () => {
    const a = actors[0]!;
    let o: VersionedObject | undefined;
    for (let i = 0; i < 3; i++) o = update(o, o?.context, a, value(`old${i}`), 1000).object;
    const stale = o!.context; // a client read the key, then it was deleted and the tombstone reaped
    const reborn = update(undefined, undefined, a, value('new'), 5000);
    assert.ok(!covers(stale, reborn.dot), `${JSON.stringify(stale)} must not cover ${reborn.dot}`);
    const late = update(reborn.object, stale, a, value('late'), 6000);
    assert.deepEqual(liveValues(late.object, anyMs).map((v) => new TextDecoder().decode(v.data)), ['new', 'late'], 'the stale writer does not erase the new value');
    assert.ok(covers(stale, update(undefined, undefined, a, value('new'), 0).dot), 'without the floor, the dot would be reused');
    // Counters continue from the floor with a compact context: no dot cloud.
    const next = update(reborn.object, reborn.writerContext, a, value('next'), 9000);
    assert.equal(next.dot[1], reborn.dot[1] + 1);
    assert.deepEqual(next.object.context, { vv: [[a, reborn.dot[1] + 1]], cloud: [] });
  });

  it('clock entries stay bounded by replicas however many clients write', () => {
    let o: VersionedObject = emptyObject;
    let ctx: CausalContext | undefined;
    for (let client = 0; client < 500; client++) {
      const w = update(o, client % 2 === 0 ? ctx : undefined, actors[client % 3]!, value(`c${client}`));
      o = w.object;
      ctx = o.context;
    }
    assert.ok(o.context.vv.length <= 3 && o.context.cloud.length === 0, JSON.stringify(o.context));
  });
});

describe('dvv: sameContext (the If-Match check)', () => {
  const [a, b] = actors as [ActorId, ActorId];
  const ctx = (vv: [ActorId, number][], cloud: [ActorId, number][] = []): CausalContext => ({ vv, cloud });

  it('compares the sets of events, not the form they are written in', () => {
    assert.ok(sameContext(ctx([[a, 2]]), ctx([[a, 1]], [[a, 2]])), 'a cloud dot extending the vv');
    assert.ok(sameContext(ctx([], [[a, 1]]), ctx([[a, 1]])), 'a first dot in the cloud');
    assert.ok(sameContext(ctx([[a, 0]]), emptyContext), 'a zero entry names no event');
    assert.ok(sameContext(ctx([[b, 1], [a, 3]]), ctx([[a, 3], [b, 1]])), 'vv order');
    assert.ok(sameContext(ctx([[a, 3]], [[a, 2], [b, 5], [b, 5]]), ctx([[a, 3]], [[b, 5]])), 'covered and repeated cloud dots');
  });

  it('a missing, extra or different event makes them differ', () => {
    assert.ok(!sameContext(ctx([[a, 1]], [[a, 3]]), ctx([[a, 1]])), 'an extra dot beyond the vv');
    assert.ok(!sameContext(ctx([[a, 3]]), ctx([[a, 1]], [[a, 3]])), 'dot 2 missing');
    assert.ok(!sameContext(ctx([[a, 1]]), ctx([[b, 1]])), 'another actor');
    assert.ok(!sameContext(ctx([[a, 1], [b, 1]]), ctx([[a, 1]])));
    assert.ok(!sameContext(emptyContext, ctx([[a, 1]])));
  });

  it('fc: a write made with the context of everything stored returns a context naming exactly the new object (first write of an actor included)', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 40 }), fc.nat(2), fc.nat(2), (steps, at, writer) => {
        const stored = replay(steps).replicas[at]!;
        const w = update(stored, stored.context, actors[writer]!, value('next'), 10_000_000);
        assert.ok(sameContext(w.writerContext, w.object.context), `${JSON.stringify(w.writerContext)} vs ${JSON.stringify(w.object.context)}`);
      }),
      { numRuns: 300 },
    );
    const blind = update(undefined, undefined, a, value('first'), 5000);
    assert.deepEqual(blind.writerContext, blind.object.context, 'a fresh actor starting at its counter floor');
  });

  it('fc: on store histories, equal exactly when each context covers the other (their join is both)', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 40 }), fc.nat(), fc.nat(), (steps, i, j) => {
        const { contexts, replicas } = replay(steps);
        const pool = [...contexts, ...replicas.map((r) => r.context), emptyContext];
        const x = pool[i % pool.length]!;
        const y = pool[j % pool.length]!;
        const join = joinContexts(x, y);
        const expected = JSON.stringify(join) === JSON.stringify(x) && JSON.stringify(join) === JSON.stringify(y);
        assert.equal(sameContext(x, y), expected);
        assert.equal(sameContext(y, x), expected, 'symmetric');
        assert.ok(sameContext(x, x) && sameContext(x, joinContexts(x, x)), 'reflexive');
      }),
      { numRuns: 300 },
    );
  });
});

describe('context token', () => {
  it('round-trips any context produced by the store', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 40 }), (steps) => {
        for (const ctx of replay(steps).contexts) assert.deepEqual(decodeContext(encodeContext(ctx, 'k'), anyCounter('k')), ctx);
      }),
    );
  });

  it('is URL-safe', () => {
    const { contexts } = replay([{ kind: 'write', replica: 0, contextFrom: null, deleted: false }]);
    assert.match(encodeContext(contexts[0]!, 'k/é'), /^[A-Za-z0-9._-]+$/);
  });

  it('rejects garbage with invalid_context', () => {
    const bad = ['', 'garbage', 'c1.', 'c1.!!!', 'c2.W10', `c1.${Buffer.from('[1,2]').toString('base64url')}`,
      `c1.${Buffer.from('[[["n1.a",0]],[]]').toString('base64url')}`, `c1.${Buffer.from('[[["BAD",1]],[]]').toString('base64url')}`,
      `c1.${Buffer.from('{"a":1}').toString('base64url')}`, 'c1.' + 'A'.repeat(70_000)];
    for (const token of bad) {
      assert.throws(() => decodeContext(token, anyCounter('k')), (e: unknown) => e instanceof KvError && e.code === 'invalid_context', token.slice(0, 40));
    }
  });

  it('fc: arbitrary strings either decode to a valid context or are refused as invalid_context', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          decodeContext(s, anyCounter('k'));
        } catch (e) {
          assert.ok(e instanceof KvError && e.code === 'invalid_context');
        }
      }),
    );
  });
});
