// staggeredCalls: the first calls start at once, a spare when one fails or when the speculation
// delay passes, and spares never needed reject with NotAsked once the quorum is decided.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotAsked, staggeredCalls } from '../../src/core/staggered-calls.js';
import { SimTime } from './fakes.js';

/** Calls that record when they start and settle only when the test says so. */
function controlled(count: number) {
  const started: number[] = [];
  const settle: Array<{ resolve(v: string): void; reject(e: Error): void }> = [];
  const starts = Array.from({ length: count }, (_, i) => () => {
    started.push(i);
    return new Promise<string>((resolve, reject) => (settle[i] = { resolve, reject }));
  });
  return { started, settle, starts };
}

const outcome = (p: Promise<string>) => p.then((v) => v, (e: unknown) => (e instanceof NotAsked ? 'not asked' : `failed: ${(e as Error).message}`));

describe('staggeredCalls', () => {
  it('starts the first calls at once and no spare while they are healthy and fast', async () => {
    const time = new SimTime();
    const { started, starts } = controlled(3);
    staggeredCalls(time.runtime, starts, 2, 50);
    await time.advance(49);
    assert.deepEqual(started, [0, 1]);
  });

  it('starts a spare as soon as a started call fails, in order', async () => {
    const time = new SimTime();
    const { started, settle, starts } = controlled(4);
    const s = staggeredCalls(time.runtime, starts, 2, 50);
    for (const call of s.calls) call.catch(() => undefined); // awaitQuorum handles every call
    settle[1]!.reject(new Error('down'));
    await time.settle();
    assert.deepEqual(started, [0, 1, 2]);
    settle[2]!.reject(new Error('down too'));
    await time.settle();
    assert.deepEqual(started, [0, 1, 2, 3]);
    settle[3]!.resolve('spare');
    assert.equal(await outcome(s.calls[3]!), 'spare');
  });

  it('starts one spare when the speculation delay passes before the quorum is decided', async () => {
    const time = new SimTime();
    const { started, starts } = controlled(4);
    staggeredCalls(time.runtime, starts, 2, 50);
    await time.advance(50);
    assert.deepEqual(started, [0, 1, 2]);
    await time.advance(1000);
    assert.deepEqual(started, [0, 1, 2], 'one speculative call, not one per delay');
  });

  it('stop: spares not started reject with NotAsked and none starts later', async () => {
    const time = new SimTime();
    const { started, settle, starts } = controlled(3);
    const s = staggeredCalls(time.runtime, starts, 2, 50);
    s.stop();
    assert.equal(await outcome(s.calls[2]!), 'not asked');
    settle[0]!.reject(new Error('late failure'));
    await time.advance(100);
    assert.deepEqual(started, [0, 1]);
  });
});
