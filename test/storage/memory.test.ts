import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../src/storage/memory.js';
import { storageConformance } from './conformance.js';

storageConformance('MemoryStorage', async () => {
  const storage = new MemoryStorage();
  return { storage, cleanup: () => storage.close() };
});

describe('MemoryStorage', () => {
  it('uses the incarnation it is given (the simulator needs determinism)', () => {
    assert.equal(new MemoryStorage({ incarnation: 'sim-3' }).incarnation, 'sim-3');
  });

  it('random incarnations differ', () => {
    assert.notEqual(new MemoryStorage().incarnation, new MemoryStorage().incarnation);
  });
});
