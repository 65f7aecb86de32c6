// Keys as they appear in a URL path segment: valid ones in every documented form (docs/api.md,
// "Keys") and hostile ones, each with what the contract says about it. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { certain, inParser, type Problem } from './expect.js';
import { hex, weighted } from './gen-util.js';

export interface KeyChoice {
  /** The bytes after `/kv/` (or `/replica/kv/`), as sent. */
  readonly segment: string | Buffer;
  /** A printable form of the segment (the raw bytes latin1-decoded). */
  readonly shown: string;
  /** Set when the key is valid and no other case can produce it: a write may be read back. */
  readonly unique: boolean;
  readonly problem?: Problem;
  readonly tag: string;
}

const keyBytesMax = 512;
const euro = '%E2%82%AC'; // 3 bytes of UTF-8

const valid = (segment: string, tag: string, unique = true): KeyChoice => ({ segment, shown: segment, unique, tag });
const invalid = (segment: string | Buffer, tag: string, problem: Problem): KeyChoice => ({
  segment,
  shown: typeof segment === 'string' ? segment : segment.toString('latin1'),
  unique: false,
  problem,
  tag,
});

/** A key of exactly `bytes` bytes once decoded, unique thanks to `id`. */
function sized(id: string, bytes: number): string {
  const head = `fz-${id}-`;
  const euros = Math.max(0, Math.floor((bytes - head.length) / 3) - 1);
  return head + euro.repeat(euros) + 'k'.repeat(bytes - head.length - euros * 3);
}

export function generateKey(prng: Prng): KeyChoice {
  const id = hex(prng, 12);
  const badKey = (segment: string | Buffer, tag: string) => invalid(segment, tag, certain(`key:${tag}`, 'invalid_key'));
  return weighted<() => KeyChoice>(prng, [
    [40, () => valid(`fz-${id}`, 'plain')],
    [4, () => valid(`fz+${id}+x`, 'plus')],
    [4, () => valid(`fz%2F${id}%2f`, 'encoded-slash')],
    [4, () => valid(`caf%C3%A9-${id}`, 'utf8')],
    [3, () => valid(`fz%20${id}%20`, 'space')],
    [3, () => valid(`%25zz-${id}`, 'encoded-percent')],
    [3, () => valid(`fz%00${id}`, 'nul')],
    [3, () => valid(`fz-${id}-~!$&'()*,;=:@`, 'sub-delims')],
    [2, () => valid(`%F0%9F%98%80${id}`, 'astral')],
    [2, () => valid(sized(id, keyBytesMax), 'max-length')],
    [2, () => valid(prng.pick(['..', '.', '%2E%2E', '-', '_']), 'dots', false)],
    [3, () => badKey('', 'empty')],
    [3, () => badKey(sized(id, keyBytesMax + 1), 'too-long')],
    [1, () => badKey(`fz-${id}-${'q'.repeat(prng.int(600, 20_000))}`, 'much-too-long')],
    [3, () => badKey(`fz-${id}%zz`, 'bad-percent')],
    [2, () => badKey(`fz-${id}%`, 'lone-percent')],
    [2, () => badKey(`fz-${id}%F`, 'short-percent')],
    [3, () => badKey(`fz-${id}%FF`, 'invalid-utf8')],
    [2, () => badKey(`fz-${id}%E2%82`, 'truncated-utf8')],
    [1, () => badKey(`%C0%AF${id}`, 'overlong-utf8')],
    [1, () => badKey(`%ED%A0%80${id}`, 'surrogate-utf8')],
    [3, () => badKey(`fz/${id}`, 'raw-slash')],
    [2, () => badKey(`fz-${id}/`, 'trailing-slash')],
    [2, () => invalid(Buffer.from(`fz-${id}-café`, 'utf8'), 'raw-non-ascii', inParser(certain('key:raw-non-ascii', 'invalid_key', 'bad_request')))],
    [1, () => invalid(Buffer.concat([Buffer.from(`fz-${id}-`), Buffer.from([0xff, 0xfe])]), 'raw-bytes', inParser(certain('key:raw-bytes', 'invalid_key', 'bad_request')))],
  ])();
}
