// In-memory Storage for tests and the simulator. Objects are kept encoded so no caller can hold
// a reference into stored state, and so the codec is exercised exactly as on disk.
import { randomBytes } from 'node:crypto';
import type { Storage } from '../core/runtime.js';
import type { PartitionId, VersionedObject } from '../core/types.js';
import { decodeObject, encodeObject } from './object-codec.js';

export class MemoryStorage implements Storage {
  readonly incarnation: string;
  private readonly objects = new Map<string, Uint8Array>();
  private closed = false;

  constructor(opts: { incarnation?: string } = {}) {
    this.incarnation = opts.incarnation ?? randomBytes(8).toString('hex');
  }

  get(key: string): Promise<VersionedObject | undefined> {
    try {
      return Promise.resolve(this.read(key));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Resolves with the object now stored under `key` (undefined if none). */
  update(
    key: string,
    _partition: PartitionId,
    change: (current: VersionedObject | undefined) => VersionedObject | undefined,
  ): Promise<VersionedObject | undefined> {
    try {
      // Read, change and store in one synchronous step: nothing can interleave.
      const current = this.read(key);
      const next = change(current);
      if (next === undefined) return Promise.resolve(current);
      // Copy: pack() returns a view into a shared 8 KiB slab we should not pin per key.
      this.objects.set(key, new Uint8Array(encodeObject(next)));
      return Promise.resolve(next);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private read(key: string): VersionedObject | undefined {
    if (this.closed) throw new Error('storage: closed');
    const bytes = this.objects.get(key);
    return bytes === undefined ? undefined : decodeObject(bytes);
  }
}
