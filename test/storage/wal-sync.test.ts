// WalSync (--sync full): a committed batch is acknowledged only once an fsync begun after its
// commit has completed; one fsync at a time covers every batch committed before it; a failed
// fsync fails its batches and every later one. The fsync here is a stand-in the test completes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyBatch, type Batch } from '../../src/storage/sqlite-batch.js';
import { WalSync } from '../../src/storage/wal-sync.js';

/** A WalSync whose fsyncs wait for the test: `calls` are the fsyncs started, `finish` completes the oldest. */
function controlledSync() {
  const pending: Array<(err: Error | null) => void> = [];
  const sync = new WalSync(-1, (_fd, done) => void pending.push(done));
  return {
    sync,
    started: () => pending.length,
    finish: async (err: Error | null = null) => {
      pending.shift()!(err);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function batchWriting(key: string): Batch & { outcome: () => string } {
  const batch = emptyBatch();
  batch.objects.set(key, { partition: 0, bytes: new Uint8Array(1), leaf: 0, vhash: 1n });
  let outcome = 'pending';
  batch.committed.then(() => (outcome = 'acked'), (err: Error) => (outcome = `failed: ${err.message}`));
  return Object.assign(batch, { outcome: () => outcome });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WalSync', () => {
  it('acknowledges a batch only when its fsync completes; batches committed meanwhile wait for the next one', async () => {
    const { sync, started, finish } = controlledSync();
    const a = batchWriting('a');
    sync.add(a);
    assert.equal(started(), 1);
    const b = batchWriting('b');
    const c = batchWriting('c');
    sync.add(b);
    sync.add(c);
    assert.equal(started(), 1, 'one fsync at a time');
    await turn();
    assert.deepEqual([a.outcome(), b.outcome(), c.outcome()], ['pending', 'pending', 'pending']);
    assert.equal(sync.pendingWith('a'), a);
    assert.equal(sync.pendingWith('c'), c);
    await finish();
    assert.deepEqual([a.outcome(), b.outcome(), c.outcome()], ['acked', 'pending', 'pending'], 'b and c were committed after the first fsync began');
    assert.equal(sync.pendingWith('a'), undefined);
    assert.equal(started(), 1, 'the second fsync covers b and c together');
    await finish();
    assert.deepEqual([b.outcome(), c.outcome()], ['acked', 'acked']);
    assert.equal(sync.pendingWith('b'), undefined);
  });

  it('a failed fsync fails the batches it covered, those waiting, and every later one', async () => {
    const { sync, finish } = controlledSync();
    const a = batchWriting('a');
    sync.add(a);
    const b = batchWriting('b');
    sync.add(b);
    await finish(new Error('EIO'));
    assert.match(a.outcome(), /^failed: storage: fsync of the WAL failed \(EIO\)/);
    assert.match(b.outcome(), /^failed: /);
    assert.ok(sync.failure);
    const later = batchWriting('later');
    sync.add(later);
    await turn();
    assert.match(later.outcome(), /^failed: /, 'a later fsync proves nothing about pages an earlier one failed to write');
  });

  it('close waits for the fsync in flight', async () => {
    const { sync, finish } = controlledSync();
    const a = batchWriting('a');
    sync.add(a);
    let closed = false;
    const closing = sync.close().then(() => (closed = true));
    await turn();
    assert.equal(closed, false);
    await finish();
    await closing;
    assert.equal(a.outcome(), 'acked');
  });
});
