// On-disk encoding of a VersionedObject: msgpack of a compact array form, smaller than the
// object form because field names are not repeated per sibling. Decoding checks the result
// against the same schema as internal RPC: a row read back from disk is untrusted too. Encoding
// checks it as well, so storage never holds what it could not decode.
import { Packr } from 'msgpackr';
import { describeIssues, versionedObjectSchema } from '../core/schemas.js';
import type { VersionedObject } from '../core/types.js';

// copyBuffers: decoded `data` must not be a view into the input, or a caller mutating it would
// mutate the stored bytes (MemoryStorage) or pin a whole read buffer.
const packr = new Packr({ useRecords: false, moreTypes: false, copyBuffers: true });

/** Bumped whenever the array form below changes; decode refuses what it does not know. */
const formatVersion = 2;

// Form: [2, vv: [actor, n][], cloud: [actor, n][], siblings: ([actor, n, data, contentType, expiresAtMs?] | [actor, n, deletedAtMs])[]]
// A sibling with 4 elements is a value, with 5 a value with an expiry (a PUT's ttl), with 3 a
// tombstone. Values without an expiry keep the 4-element form, so rows written before TTLs existed
// decode unchanged (and encode to the same bytes); the schema checks the expiry like any field.
type WireSibling = [string, number, Uint8Array, string] | [string, number, Uint8Array, string, number] | [string, number, number];

/** The bytes to store; throws (a bug upstream) rather than write what decodeObject would refuse. */
export function encodeObject(o: VersionedObject): Uint8Array {
  const checked = versionedObjectSchema.safeParse(o);
  if (!checked.success) throw new Error(`storage: refusing to store a malformed object: ${describeIssues(checked.error)}`);
  const siblings = o.siblings.map(({ dot, value }): WireSibling => {
    if (value.kind === 'tombstone') return [dot[0], dot[1], value.deletedAtMs];
    if (value.expiresAtMs === undefined) return [dot[0], dot[1], value.data, value.contentType];
    return [dot[0], dot[1], value.data, value.contentType, value.expiresAtMs];
  });
  return packr.pack([formatVersion, o.context.vv, o.context.cloud, siblings]);
}

/** The stored object, or an Error saying why the bytes are not one (they must then not be used). */
export function decodeObject(b: Uint8Array): VersionedObject {
  const checked = versionedObjectSchema.safeParse(unpackObject(b));
  if (!checked.success) throw new Error(`storage: malformed object: ${describeIssues(checked.error)}`);
  return checked.data;
}

/**
 * Bytes this process's encodeObject made and kept in its own memory (the memory engine): no disk
 * or peer came between, so there is nothing untrusted to check; the decoding itself is the same.
 */
export function decodeOwnObject(b: Uint8Array): VersionedObject {
  return unpackObject(b) as VersionedObject;
}

/** The object form of the bytes, unchecked. */
function unpackObject(b: Uint8Array): unknown {
  const wire: unknown = packr.unpack(b);
  if (!Array.isArray(wire) || wire[0] !== formatVersion || wire.length !== 4 || !Array.isArray(wire[3])) {
    throw new Error('storage: unknown object encoding');
  }
  const [, vv, cloud, siblings] = wire as [number, unknown, unknown, unknown[]];
  return { context: { vv, cloud }, siblings: siblings.map(toSibling) };
}

/** The object form of one wire sibling, unchecked: the schema judges it. */
function toSibling(s: unknown): unknown {
  if (!Array.isArray(s)) return s;
  const value =
    s.length === 3
      ? { kind: 'tombstone', deletedAtMs: s[2] }
      : s.length === 4
        ? { kind: 'value', data: s[2], contentType: s[3] }
        : s.length === 5
          ? { kind: 'value', data: s[2], contentType: s[3], expiresAtMs: s[4] }
          : undefined;
  return { dot: [s[0], s[1]], value };
}
