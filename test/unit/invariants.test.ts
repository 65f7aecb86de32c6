// The core asserts its invariants where they are cheap: quorum arithmetic, ring shape, DVV normal
// form on merge and update, storage and transport batch bounds. A broken one throws InvariantError
// (failure `invariant_violated`, a bug) with a message that says what broke.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { invariant } from '../../src/core/assert.js';
import { sync, update } from '../../src/core/dvv.js';
import { failureCodeOf, InvariantError } from '../../src/core/errors.js';
import { awaitQuorum, type Reply } from '../../src/core/quorum-wait.js';
import { resolveQuorum } from '../../src/core/quorum.js';
import { createRing, preferenceList, type Ring } from '../../src/core/ring.js';
import { LocalReplica } from '../../src/core/replica.js';
import { silentLogger, type HintEntry, type Runtime } from '../../src/core/ports.js';
import { noMetrics } from '../../src/core/metrics.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { asNodeId, asPartitionId, type ActorId, type VersionedObject } from '../../src/core/types.js';

const broken = (pattern: RegExp) => (err: unknown) => err instanceof InvariantError && failureCodeOf(err) === 'invariant_violated' && pattern.test(err.message);
const a = 'n1.aa' as ActorId;
const value = { kind: 'value', data: new Uint8Array([1]), contentType: 'text/plain' } as const;
/** Timers that never fire: these waits are decided by replies alone. */
const stillTime: Runtime = { now: () => 0, wallClockMs: () => 0, random: () => 0.5, setTimer: () => ({ cancel: () => undefined }) };

describe('core invariants', () => {
  it('invariant builds its message only when it fails', () => {
    let built = 0;
    invariant(true, () => `${++built}`);
    assert.equal(built, 0);
    assert.throws(() => invariant(false, () => 'what broke'), broken(/^what broke$/));
  });

  it('DVV: merge and update refuse to return an object out of normal form', () => {
    // A sibling its own context does not cover: nothing valid can produce it, so a merge with it is a bug upstream.
    const uncovered: VersionedObject = { context: { vv: [], cloud: [] }, siblings: [{ dot: [a, 5], value }] };
    assert.throws(() => sync(uncovered, { context: { vv: [], cloud: [] }, siblings: [] }), broken(/dvv: sync .* a sibling the context does not cover/));
    assert.throws(() => update(uncovered, undefined, 'n2.bb' as ActorId, value), broken(/dvv: update .* not in normal form/));
    // The well-formed path is untouched.
    const first = update(undefined, undefined, a, value).object;
    assert.deepEqual(sync(first, first), first);
  });

  it('quorum: a numeric spec must be a count, and N and members positive', () => {
    assert.equal(resolveQuorum('quorum', 5, 4), 3);
    assert.throws(() => resolveQuorum(-1, 3, 3), broken(/numeric spec must be a count/));
    assert.throws(() => resolveQuorum('one', 3, 0), broken(/N=3 over 0 members/));
  });

  it('quorum wait: asking for more primaries than replies, or one node answering two slots, is a bug', async () => {
    assert.throws(() => awaitQuorum(stillTime, [], { total: 1, primary: 2 }, 1000), broken(/2 primaries of 1 replies/));
    const n2 = asNodeId('n2');
    const twice: Promise<Reply<number>>[] = [Promise.resolve({ node: n2, primary: true, value: 1 }), Promise.resolve({ node: n2, primary: true, value: 2 })];
    const { decided, all } = awaitQuorum(stillTime, twice, { total: 2, primary: 0 }, 1000);
    await assert.rejects(decided, broken(/n2 answered for two replica slots/));
    await assert.rejects(all, broken(/n2 answered for two replica slots/));
  });

  it('ring: a preference list that repeats a node is a bug', () => {
    const ring = createRing(['n1', 'n2', 'n3'].map(asNodeId), 8, 3);
    assert.equal(preferenceList(ring, asPartitionId(0)).primaries.length, 3);
    const forged: Ring = { ...ring, replicas: ring.replicas.map((r, p) => (p === 0 ? [r[0]!, r[0]!] : r)) };
    assert.throws(() => preferenceList(forged, asPartitionId(0)), broken(/ring: partition 0's preference list repeats a node/));
  });

  it('storage bounds: a listing longer than asked is a bug in the engine', async () => {
    class Overlisting extends MemoryStorage {
      override async listHints(target: ReturnType<typeof asNodeId>, limit: number): Promise<HintEntry[]> {
        return super.listHints(target, limit + 1);
      }
    }
    const storage = new Overlisting();
    const ring = createRing(['n1', 'n2', 'n3'].map(asNodeId), 8, 3);
    const deps = { self: asNodeId('n1'), storage, ring: () => ring, runtime: stillTime, log: silentLogger, metrics: noMetrics, hintsPerPeerMax: 10, reapedMemoryMs: 1000 };
    const replica = new LocalReplica(deps);
    const n2 = asNodeId('n2');
    await replica.storeHint(n2, 'a', update(undefined, undefined, a, value).object);
    await replica.storeHint(n2, 'b', update(undefined, undefined, a, value).object);
    assert.equal((await replica.listHints(n2, 2)).length, 2);
    await assert.rejects(replica.listHints(n2, 1), broken(/storage: listHints\(n2, 1\) gave 2 hints/));
  });
});
