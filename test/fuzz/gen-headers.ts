// Request headers other than the context: Content-Type (docs/api.md: stored as sent, at most 1024
// bytes, sent once), Expect, and extra headers up to and past the 80 KiB header limit. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { certain, exclusive, inParser, maybe, type Problem } from './expect.js';
import { printable, weighted } from './gen-util.js';
import type { HeaderValue } from './types.js';

export type Headers = (readonly [string, HeaderValue])[];

export const contentTypeBytesMax = 1024;
/** Request line plus headers: accepted up to 80 KiB, refused beyond (431). */
export const headerBytesMax = 80 * 1024;
/** Below this the headers are surely accepted, above `headerBytesMax + margin` surely refused. */
export const headerMarginBytes = 2048;

export interface ContentTypeChoice {
  readonly headers: Headers;
  /** As it applies to a PUT (it stores the type); other methods ignore the header: uncertain there. */
  readonly problem?: Problem;
  /** Content-Types a successful PUT may have stored; undefined: not checked. */
  readonly stored?: readonly string[];
  readonly tag: string;
}

const octetStream = 'application/octet-stream';

const plainTypes = [
  'text/plain',
  'foo',
  'text/plain, text/html',
  'application/json',
  'application/json; charset=utf-8',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'TEXT/PLAIN',
  'x/y; a="b c"; d=e',
  'application/msgpack',
  '*/*',
  ';;;',
  'a'.repeat(contentTypeBytesMax),
];

export function generateContentType(prng: Prng): ContentTypeChoice {
  const one = (value: string, tag: string): ContentTypeChoice => ({ headers: [['Content-Type', value]], stored: [value], tag });
  return weighted<() => ContentTypeChoice>(prng, [
    [25, () => ({ headers: [], stored: [octetStream], tag: 'absent' })],
    [40, () => one(prng.pick(plainTypes), 'plain')],
    [8, () => one(printable(prng, prng.int(1, contentTypeBytesMax)).trim() || 'x', 'random')],
    [4, () => ({ headers: [['Content-Type', '']], stored: ['', octetStream], tag: 'empty' })],
    [
      6,
      () => {
        const value = 'x/' + 'y'.repeat(prng.int(contentTypeBytesMax - 1, 4 * contentTypeBytesMax));
        return { headers: [['Content-Type', value]], problem: certain('ct:too-long', 'invalid_content_type'), tag: 'too-long' };
      },
    ],
    [
      8,
      () => {
        const first = prng.pick(plainTypes.slice(0, 8));
        const second = prng.chance(0.5) ? first : prng.pick(plainTypes.slice(0, 8));
        return { headers: [['Content-Type', first], ['Content-Type', second]], problem: certain('ct:sent-twice', 'invalid_content_type'), tag: 'sent-twice' };
      },
    ],
    [
      3,
      () => ({
        headers: [['Content-Type', Buffer.from([0x74, 0x65, 0x78, 0x74, 0x2f, 0xe9, 0xff])]],
        problem: inParser(maybe('ct:non-ascii', 'invalid_content_type', 'bad_request')),
        tag: 'non-ascii',
      }),
    ],
  ])();
}

export interface ExpectChoice {
  readonly headers: Headers;
  readonly problem?: Problem;
}

/** Only `Expect: 100-continue` is supported; anything else is 417 expectation_failed. */
export function generateExpect(prng: Prng): ExpectChoice {
  return weighted<() => ExpectChoice>(prng, [
    [88, () => ({ headers: [] })],
    [6, () => ({ headers: [['Expect', '100-continue']] })],
    [6, () => ({ headers: [['Expect', prng.pick(['teapot', '200-ok', 'foo=bar'])]], problem: certain('expect:unsupported', 'expectation_failed') })],
    // Contains the token 100-continue: Node's own check takes it for one; either answer will do.
    [1, () => ({ headers: [['Expect', '100-continue-please']], problem: maybe('expect:100-continue-suffixed', 'expectation_failed') })],
  ])();
}

/** Harmless extra headers: odd but valid names, obs-text values, common client headers. */
export function generateExtraHeaders(prng: Prng): Headers {
  const out: Headers = [];
  while (prng.chance(0.3)) {
    out.push(
      weighted<() => readonly [string, HeaderValue]>(prng, [
        [3, () => ['X-Fuzz', printable(prng, prng.int(0, 200))]],
        [1, () => ["x-~!#$%&'*+-.^_`|", 'odd-but-valid-name']],
        [1, () => ['X-Latin1', Buffer.from([0x63, 0x61, 0x66, 0xe9])]],
        [1, () => ['Accept', prng.pick(['*/*', 'application/json', 'text/html;q=0.9, */*;q=0.1'])]],
        [1, () => ['Accept-Encoding', 'gzip, deflate, br']],
        [1, () => ['Connection', prng.pick(['keep-alive', 'close'])]],
        [1, () => ['Authorization', prng.pick(['Bearer nope', 'Basic Zm9vOmJhcg=='])]],
        [1, () => ['X-Kvorum-Node', 'n9']],
        [1, () => ['Cookie', `a=${printable(prng, 20)}`]],
      ])(),
    );
  }
  return out;
}

export interface PaddingChoice {
  readonly headers: Headers;
  /** Target size of request line plus headers, or undefined for no padding. */
  readonly targetBytes?: number;
}

/** Sometimes pad the headers to a size well under, or well over, the 80 KiB limit. */
export function generatePadding(prng: Prng): PaddingChoice {
  return weighted<() => PaddingChoice>(prng, [
    [90, () => ({ headers: [] })],
    [6, () => ({ headers: [], targetBytes: prng.int(17 * 1024, headerBytesMax - headerMarginBytes) })],
    [4, () => ({ headers: [], targetBytes: prng.int(headerBytesMax + headerMarginBytes, 120 * 1024) })],
  ])();
}

/** Headers (one big one, or several) that bring a head of `currentBytes` to `targetBytes`. */
export function padTo(prng: Prng, currentBytes: number, targetBytes: number): Headers {
  const out: Headers = [];
  let missing = targetBytes - currentBytes;
  const perHeader = prng.chance(0.5) ? missing : prng.int(4096, 16 * 1024);
  for (let i = 0; missing > 16; i++) {
    const name = `X-Pad-${i}`;
    const size = Math.min(perHeader, missing) - name.length - 4; // ": " and CRLF
    if (size <= 0) break;
    out.push([name, 'p'.repeat(size)]);
    missing -= size + name.length + 4;
  }
  return out;
}

/** The problem a head of `bytes` bytes has (431 beyond the limit, unclear near it). */
export function headSizeProblem(bytes: number): Problem | undefined {
  if (bytes > headerBytesMax + headerMarginBytes) return exclusive('headers:over-80k', 'headers_too_large');
  if (bytes > headerBytesMax - headerMarginBytes) return maybe('headers:near-80k', 'headers_too_large');
  return undefined;
}
