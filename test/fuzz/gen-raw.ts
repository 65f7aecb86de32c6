// The malformed-HTTP family: raw bytes on a socket (bad or repeated Content-Length, bad
// chunking, Content-Length with Transfer-Encoding, raw spaces and non-ASCII in the URL, unknown
// and lower-case methods, bad header names, obsolete line folding, no Host, Expect: teapot,
// CONNECT, headers around the 80 KiB limit, a valid request followed by garbage on the same
// connection). Every one must get a catalogued answer carrying X-Kvorum-Node. Pure.
import type { Prng } from '../../jepsen-like/prng.js';
import { any400, any4xx } from './expect.js';
import { headerBytesMax, headerMarginBytes } from './gen-headers.js';
import { hex, weighted } from './gen-util.js';
import type { GenConfig } from './gen-client.js';
import type { Expect, FuzzCase } from './types.js';

const host = 'Host: 127.0.0.1\r\n';
const b = (s: string) => Buffer.from(s, 'latin1');

const expect = (ok: readonly number[], errors: Expect['errors'], why: string, body: Expect['body'] = 'any'): Expect => ({ ok, errors, body, why: [why] });
const health = (why: string, errors: Expect['errors'] = []): Expect => expect([200, 503], errors, why, 'health');

interface Raw {
  readonly name: string;
  readonly bytes: Buffer;
  readonly expect: readonly Expect[];
}

function put(key: string, headers: string, body: string): string {
  return `PUT /kv/${key}?w=all HTTP/1.1\r\n${host}Content-Type: text/plain\r\n${headers}\r\n${body}`;
}

function generateRaw(prng: Prng): Raw {
  const key = `fz-raw-${hex(prng, 12)}`;
  const one = (name: string, text: string | Buffer, e: Expect): Raw => ({ name, bytes: typeof text === 'string' ? b(text) : text, expect: [e] });
  return weighted<() => Raw>(prng, [
    [5, () => one('dup-content-length', put(key, 'Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'), expect([], any400, 'two different Content-Lengths'))],
    [2, () => one('dup-content-length-same', put(key, 'Content-Length: 4\r\nContent-Length: 4\r\n', 'abcd'), expect([204], [...any400, 'quorum_unavailable'], 'the same Content-Length twice', 'kv-write'))],
    [
      6,
      () => {
        const value = prng.pick(['abc', '-1', '1.5', '0x10', '+4', '4 4', '4,4', '99999999999999999999']);
        return one('bad-content-length', put(key, `Content-Length: ${value}\r\n`, 'abcd'), expect([], [...any400, 'value_too_large'], `Content-Length: ${value}`));
      },
    ],
    [
      6,
      () => {
        const chunks = prng.pick(['zz\r\nabc\r\n0\r\n\r\n', '5\r\nabc\r\n0\r\n\r\n', '-1\r\nabc\r\n0\r\n\r\n', 'ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n', '3\r\nabcXX0\r\n\r\n']);
        return one('bad-chunking', put(key, 'Transfer-Encoding: chunked\r\n', chunks), expect([], any400, `chunked body ${JSON.stringify(chunks)}`));
      },
    ],
    [3, () => one('te-not-chunked', put(key, `Transfer-Encoding: ${prng.pick(['gzip', 'chunked, gzip', 'identity', 'xchunked'])}\r\n`, 'abcd'), expect([], any400, 'Transfer-Encoding that does not end in chunked'))],
    [5, () => one('cl-and-te', put(key, 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), expect([], any400, 'Content-Length and Transfer-Encoding together'))],
    [4, () => one('space-in-url', `GET ${prng.pick([`/kv/${key} x`, '/health x', `/kv/a b`])} HTTP/1.1\r\n${host}\r\n`, expect([], any4xx, 'a raw space in the URL'))],
    [
      4,
      () =>
        one(
          'non-ascii-url',
          Buffer.concat([b(`GET /kv/${key}-`), Buffer.from([0xc3, 0xa9]), b(` HTTP/1.1\r\n${host}\r\n`)]),
          expect([], ['invalid_key', 'bad_request'], 'raw UTF-8 bytes in a key'),
        ),
    ],
    [2, () => one('control-char-url', `GET /kv/${key}\x01 HTTP/1.1\r\n${host}\r\n`, expect([], any4xx, 'a control character in the URL'))],
    [2, () => one('non-ascii-route', Buffer.concat([b('GET /health'), Buffer.from([0xff]), b(` HTTP/1.1\r\n${host}\r\n`)]), expect([], any4xx, 'a raw 0xFF byte in the URL'))],
    [4, () => one('lower-case-method', `${prng.pick(['get', 'put', 'Get'])} /health HTTP/1.1\r\n${host}\r\n`, expect([], any4xx, 'a lower-case method'))],
    [4, () => one('unknown-method', `${prng.pick(['FOO', 'BREW', 'GETS', 'G-ET', 'HTTP/1.1'])} /health HTTP/1.1\r\n${host}\r\n`, expect([], any4xx, 'an unknown method'))],
    [
      4,
      () => {
        const line = prng.pick(['Foo Bar: x', 'Foo : x', 'Fo\x01o: x', ':empty: x', 'NoColon', 'X-A: a\x00b']);
        return one('bad-header', `GET /health HTTP/1.1\r\n${host}${line}\r\n\r\n`, expect([], any400, `header line ${JSON.stringify(line)}`));
      },
    ],
    [3, () => one('obs-fold', `GET /health HTTP/1.1\r\n${host}X-A: a\r\n  folded\r\n\r\n`, health('obsolete line folding', any400))],
    [3, () => one('missing-host', 'GET /health HTTP/1.1\r\n\r\n', health('HTTP/1.1 without Host', any400))],
    [2, () => one('http10-no-host', 'GET /health HTTP/1.0\r\n\r\n', health('HTTP/1.0 without Host'))],
    [2, () => one('two-hosts', `GET /health HTTP/1.1\r\n${host}Host: example.com\r\n\r\n`, health('two Host headers', any400))],
    [2, () => one('bare-lf', 'GET /health HTTP/1.1\nHost: 127.0.0.1\n\n', health('lines ended by LF alone', any400))],
    [2, () => one('odd-version', `GET /health HTTP/${prng.pick(['1.2', '2.0', '0.9', '1.10', '9.9'])}\r\n${host}\r\n`, health('an unusual HTTP version', any4xx))],
    [4, () => one('expect-teapot', put(key, 'Expect: teapot\r\nContent-Length: 1\r\n', 'x'), expect([], ['expectation_failed'], 'Expect: teapot on a PUT'))],
    [2, () => one('expect-teapot-get', `GET /health HTTP/1.1\r\n${host}Expect: teapot\r\n\r\n`, expect([], ['expectation_failed'], 'Expect: teapot on a GET'))],
    [5, () => one('connect', 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n', expect([], ['not_found'], 'CONNECT (no such route)'))],
    [1, () => one('connect-path', `CONNECT /kv/${key} HTTP/1.1\r\n${host}\r\n`, expect([], any4xx, 'CONNECT with a path'))],
    [3, () => one('upgrade', `GET /health HTTP/1.1\r\n${host}Connection: Upgrade\r\nUpgrade: ${prng.pick(['websocket', 'h2c', 'foo'])}\r\n\r\n`, health('an Upgrade request', any4xx))],
    [
      4,
      () => {
        const size = prng.int(17 * 1024, headerBytesMax - headerMarginBytes);
        return one('headers-under-80k', `GET /health HTTP/1.1\r\n${host}X-Pad: ${'p'.repeat(size)}\r\n\r\n`, health(`${size} bytes of headers (under 80 KiB)`));
      },
    ],
    [
      2,
      () => {
        const count = prng.int(1000, 1700);
        const headers = Array.from({ length: count }, (_, i) => `X-H-${i}: ${'v'.repeat(30)}\r\n`).join('');
        return one('many-headers', `GET /health HTTP/1.1\r\n${host}${headers}\r\n`, health(`${count} headers (under 80 KiB)`));
      },
    ],
    [
      4,
      () => {
        const size = prng.int(headerBytesMax + headerMarginBytes, 120 * 1024);
        return one('headers-over-80k', `GET /health HTTP/1.1\r\n${host}X-Pad: ${'p'.repeat(size)}\r\n\r\n`, expect([], ['headers_too_large'], `${size} bytes of headers`));
      },
    ],
    [
      2,
      () => {
        const size = prng.int(headerBytesMax + headerMarginBytes, 100 * 1024);
        return one('url-over-80k', `GET /kv/${'u'.repeat(size)} HTTP/1.1\r\n${host}\r\n`, expect([], ['headers_too_large'], `a ${size}-byte URL`));
      },
    ],
    [2, () => one('url-long-key', `GET /kv/${'u'.repeat(prng.int(20_000, 70_000))} HTTP/1.1\r\n${host}\r\n`, expect([], ['invalid_key'], 'a key of tens of KiB (URL under 80 KiB)'))],
    [
      8,
      () => {
        const garbage = prng.pick(['NOT HTTP AT ALL\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'GET /health HTTP/1.1\r\nBad Header\r\n\r\n', `GET /x HTTP/1.1\r\n${host}Content-Length: zz\r\n\r\n`]);
        return {
          name: 'pipelined-garbage',
          bytes: b(put(key, 'Content-Length: 2\r\n', 'hi') + garbage),
          expect: [expect([204], ['quorum_unavailable'], 'a valid PUT first', 'kv-write'), expect([], any400, `then garbage ${JSON.stringify(garbage)}`)],
        };
      },
    ],
    [
      3,
      () => ({
        name: 'pipelined-bad-key',
        bytes: b(put(key, 'Content-Length: 2\r\n', 'hi') + `GET /kv/${key}%FF HTTP/1.1\r\n${host}\r\n`),
        expect: [expect([204], ['quorum_unavailable'], 'a valid PUT first', 'kv-write'), expect([], ['invalid_key'], 'then a GET of an invalid key')],
      }),
    ],
    [
      2,
      () => ({
        name: 'pipelined-valid',
        bytes: b(`GET /health HTTP/1.1\r\n${host}\r\nGET /cluster HTTP/1.1\r\n${host}\r\n`),
        expect: [health('first of two pipelined GETs'), expect([200], [], 'second of two pipelined GETs', 'cluster')],
      }),
    ],
  ])();
}

export function generateRawCase(prng: Prng, config: GenConfig): FuzzCase {
  const raw = generateRaw(prng);
  return { family: 'raw', name: `raw.${raw.name}`, tags: [], steps: [{ node: prng.int(0, config.nodes - 1), request: raw.bytes, expect: raw.expect }] };
}
