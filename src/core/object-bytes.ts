// Payload estimates for counters and rate limits (not wire bytes: no msgpack/HTTP framing).
import type { VersionedObject } from './types.js';

/** A dot or clock entry as its actor plus 8, a value by its bytes and content type (and 8 for an expiry), a tombstone as 8. */
export const objectBytes = (o: VersionedObject | undefined): number =>
  o === undefined
    ? 0
    : [...o.context.vv, ...o.context.cloud].reduce((n, [actor]) => n + actor.length + 8, 0) +
      o.siblings.reduce((n, s) => n + s.dot[0].length + 8 + (s.value.kind === 'value' ? s.value.data.byteLength + s.value.contentType.length + (s.value.expiresAtMs === undefined ? 0 : 8) : 8), 0);
