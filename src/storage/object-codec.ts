// On-disk encoding of a VersionedObject: msgpack of a compact array form, smaller than the
// object form because field names are not repeated per sibling.
import { Packr } from 'msgpackr';
import type { ActorId, Dot, Sibling, VersionedObject } from '../core/types.js';

// copyBuffers: decoded `data` must not be a view into the input, or a caller mutating it would
// mutate the stored bytes (MemoryStorage) or pin a whole read buffer.
const packr = new Packr({ useRecords: false, moreTypes: false, copyBuffers: true });

/** Bumped whenever the array form below changes; decode refuses what it does not know. */
const formatVersion = 2;

// Form: [2, vv: [actor, n][], cloud: [actor, n][], siblings: ([actor, n, data, contentType] | [actor, n, deletedAtMs])[]]
// A sibling with 4 elements is a value, with 3 a tombstone.
type WireDot = [string, number];
type WireSibling = [string, number, Uint8Array, string] | [string, number, number];

export function encodeObject(o: VersionedObject): Uint8Array {
  const siblings = o.siblings.map(({ dot, value }): WireSibling =>
    value.kind === 'value' ? [dot[0], dot[1], value.data, value.contentType] : [dot[0], dot[1], value.deletedAtMs],
  );
  return packr.pack([formatVersion, o.context.vv, o.context.cloud, siblings]);
}

export function decodeObject(b: Uint8Array): VersionedObject {
  const wire: unknown = packr.unpack(b);
  if (!Array.isArray(wire) || wire[0] !== formatVersion || wire.length !== 4) {
    throw new Error('storage: unknown object encoding');
  }
  const [, vv, cloud, siblings] = wire as [number, WireDot[], WireDot[], WireSibling[]];
  return {
    context: { vv: vv.map(toDot), cloud: cloud.map(toDot) },
    siblings: siblings.map(toSibling),
  };
}

function toDot(d: WireDot): Dot {
  if (!Array.isArray(d) || typeof d[0] !== 'string' || typeof d[1] !== 'number') {
    throw new Error('storage: malformed dot');
  }
  return [d[0] as ActorId, d[1]];
}

function toSibling(s: WireSibling): Sibling {
  if (!Array.isArray(s)) throw new Error('storage: malformed sibling');
  const dot = toDot([s[0], s[1]]);
  if (s.length === 3) {
    if (typeof s[2] !== 'number') throw new Error('storage: malformed tombstone');
    return { dot, value: { kind: 'tombstone', deletedAtMs: s[2] } };
  }
  if (s.length !== 4 || !(s[2] instanceof Uint8Array) || typeof s[3] !== 'string') {
    throw new Error('storage: malformed sibling');
  }
  return { dot, value: { kind: 'value', data: s[2], contentType: s[3] } };
}
