// Keys come from the raw request URL, not the router: we need the exact bytes to check that the
// key is one path segment of valid UTF-8 (docs/api.md section 2), and `+` stays a literal plus.
import { KvError } from '../core/errors.js';
import { keyBytesMax } from '../core/limits.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const kvPrefix = '/kv/';

/**
 * The bytes of a percent-encoded URL part; undefined for a bad escape or a raw non-ASCII character.
 * `plusIsSpace`: a query value as forms encode it (`+` is a space); in a path `+` is a plus.
 */
export function percentDecode(segment: string, plusIsSpace = false): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = segment.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(plusIsSpace && c === 0x2b /* + */ ? 0x20 : c);
    } else {
      return undefined; // raw non-ASCII in a URL is not a percent-encoded key
    }
  }
  return Uint8Array.from(bytes);
}

/** The decoded key of `/kv/{key}`, or an `invalid_key` error. */
export function keyFromUrl(rawUrl: string): string {
  const path = rawUrl.split('?', 1)[0]!;
  const segment = path.startsWith(kvPrefix) ? path.slice(kvPrefix.length) : '';
  const invalid = (why: string) => new KvError('invalid_key', `Invalid key: ${why}.`);
  if (segment.length === 0) throw invalid('empty');
  if (segment.includes('/')) throw invalid('a key is one path segment; encode "/" as %2F');
  const bytes = percentDecode(segment);
  if (!bytes) throw invalid('bad percent-encoding');
  if (bytes.length > keyBytesMax) throw invalid(`${bytes.length} bytes, at most ${keyBytesMax}`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalid('not valid UTF-8');
  }
}
