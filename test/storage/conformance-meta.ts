// Meta record conformance: named byte records beside the data, stored and returned byte for byte.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { metaBytesMax, metaNameCharsMax } from '../../src/core/limits.js';
import { asPartitionId } from '../../src/core/types.js';
import { encoder, textObject, type WithStore } from './fixtures.js';

const p = asPartitionId(6);

/** Plain bytes of what getMeta returned (engines may hand back a Buffer, which deepStrictEqual tells apart). */
const plain = (bytes: Uint8Array | undefined): number[] | undefined => {
  if (bytes === undefined) return undefined;
  assert.ok(bytes instanceof Uint8Array, 'a meta record is a Uint8Array');
  return Array.from(bytes);
};

export function metaConformance(withStore: WithStore): void {
  it('getMeta of an absent name is undefined; put then get returns the same bytes', () =>
    withStore(async ({ storage }) => {
      assert.equal(await storage.getMeta('ring'), undefined);
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const backing = Uint8Array.from([9, 9, 0, 255, 128, 9]);
      const records = { ring: all, empty: new Uint8Array(0), view: backing.subarray(2, 5), 'ünï-çødé 😀': encoder.encode('x') };
      for (const [name, bytes] of Object.entries(records)) assert.equal(await storage.putMeta(name, bytes), undefined);
      for (const [name, bytes] of Object.entries(records)) assert.deepStrictEqual(plain(await storage.getMeta(name)), Array.from(bytes), name);
      assert.equal(await storage.getMeta('rin'), undefined, 'names are matched whole');
      assert.equal(await storage.get('ring'), undefined, 'a meta record is not an object');
    }));

  it('putMeta overwrites, and with undefined deletes, one record only', () =>
    withStore(async ({ storage }) => {
      await storage.putMeta('a', encoder.encode('a1'));
      await storage.putMeta('b', encoder.encode('b1'));
      await storage.putMeta('a', encoder.encode('a2-longer'));
      assert.deepStrictEqual(plain(await storage.getMeta('a')), Array.from(encoder.encode('a2-longer')));
      await storage.putMeta('a', undefined);
      assert.equal(await storage.getMeta('a'), undefined);
      assert.deepStrictEqual(plain(await storage.getMeta('b')), Array.from(encoder.encode('b1')));
      await storage.putMeta('missing', undefined); // deleting an absent record is a no-op
      assert.equal(await storage.getMeta('missing'), undefined);
      await storage.putMeta('a', encoder.encode('a3'));
      assert.deepStrictEqual(plain(await storage.getMeta('a')), Array.from(encoder.encode('a3')), 'written again after a delete');
    }));

  it('puts, deletes and reads of one name in one turn apply in order', () =>
    withStore(async ({ storage }) => {
      const [, , , read] = await Promise.all([
        storage.putMeta('m', encoder.encode('1')),
        storage.putMeta('m', undefined),
        storage.putMeta('m', encoder.encode('3')),
        storage.getMeta('m'), // called after the puts: sees the last of them
      ]);
      assert.deepStrictEqual(plain(read), Array.from(encoder.encode('3')));
      assert.deepStrictEqual(plain(await storage.getMeta('m')), Array.from(encoder.encode('3')));
    }));

  it('a stored record cannot be changed through the buffers handed in or out', () =>
    withStore(async ({ storage }) => {
      const bytes = Uint8Array.from([1, 2, 3]);
      const pending = storage.putMeta('m', bytes);
      bytes[0] = 99; // the caller reuses its buffer while the write is in flight
      await pending;
      const got = await storage.getMeta('m');
      assert.deepStrictEqual(plain(got), [1, 2, 3]);
      got![1] = 99; // a reader decodes in place
      assert.deepStrictEqual(plain(await storage.getMeta('m')), [1, 2, 3]);
    }));

  it('a name longer than metaNameCharsMax or bytes beyond metaBytesMax are refused with a RangeError', () =>
    withStore(async ({ storage }) => {
      const longest = 'n'.repeat(metaNameCharsMax);
      const largest = new Uint8Array(metaBytesMax).fill(7);
      await storage.putMeta(longest, largest);
      const got = await storage.getMeta(longest);
      assert.equal(got?.byteLength, metaBytesMax);
      assert.ok(got.every((b) => b === 7));

      const tooLong = 'n'.repeat(metaNameCharsMax + 1);
      await assert.rejects(storage.putMeta(tooLong, encoder.encode('x')), RangeError);
      await assert.rejects(storage.getMeta(tooLong), RangeError);
      await assert.rejects(storage.putMeta('big', new Uint8Array(metaBytesMax + 1)), RangeError);
      await assert.rejects(storage.putMeta(longest, new Uint8Array(metaBytesMax + 1)), RangeError);
      assert.equal(await storage.getMeta('big'), undefined, 'a refused put stores nothing');
      assert.equal((await storage.getMeta(longest))?.byteLength, metaBytesMax, 'nor changes what was there');
    }));

  it('meta records survive close and reopen, a put in flight at close too', (t) =>
    withStore(async ({ storage, reopen }) => {
      if (!reopen) return t.skip('engine is not persistent');
      await storage.putMeta('ring', encoder.encode('ring v1'));
      await storage.putMeta('cursor', encoder.encode('c'));
      await storage.putMeta('cursor', undefined);
      await storage.putMeta('ring', encoder.encode('ring v2'));
      const inFlight = storage.putMeta('late', encoder.encode('late')); // accepted before close: close must keep it
      await storage.close();
      await inFlight;
      const again = await reopen();
      try {
        assert.equal(again.incarnation, storage.incarnation, 'meta records do not touch the incarnation');
        assert.deepStrictEqual(plain(await again.getMeta('ring')), Array.from(encoder.encode('ring v2')));
        assert.equal(await again.getMeta('cursor'), undefined, 'a delete is durable too');
        assert.deepStrictEqual(plain(await again.getMeta('late')), Array.from(encoder.encode('late')));
      } finally {
        await again.close();
      }
    }));

  it('meta records resolved before a crash survive it', (t) =>
    withStore(async ({ storage, crash }) => {
      if (!crash) return t.skip('engine cannot simulate a crash');
      await storage.putMeta('ring', encoder.encode('ring v1'));
      await storage.putMeta('gone', encoder.encode('gone'));
      await Promise.all([storage.putMeta('ring', encoder.encode('ring v2')), storage.putMeta('gone', undefined)]);
      void storage.putMeta('staged', encoder.encode('staged')); // unresolved at the crash: may be lost
      const again = await crash();
      assert.deepStrictEqual(plain(await again.getMeta('ring')), Array.from(encoder.encode('ring v2')));
      assert.equal(await again.getMeta('gone'), undefined);
    }));

  it('a meta record and an object written in one turn both land', () =>
    withStore(async ({ storage }) => {
      await Promise.all([storage.update('k', p, () => textObject('k')), storage.putMeta('k', encoder.encode('meta'))]);
      assert.deepStrictEqual(plain(await storage.getMeta('k')), Array.from(encoder.encode('meta')));
      assert.deepStrictEqual((await storage.scanPartition(p, undefined, 10)).map((e) => e.key), ['k']);
    }));
}
