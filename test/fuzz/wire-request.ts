// Renders a structured request to the bytes sent on the wire. Pure.
import type { HeaderValue, HttpShape } from './types.js';

/** Every structured request names the host like this (a valid Host; the port does not matter to the server). */
export const hostHeader = '127.0.0.1';

const methodsWithBody = new Set(['PUT', 'POST', 'PATCH']);

const bytesOf = (v: HeaderValue): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** The request line and headers (with their final blank line), without the body. */
export function renderHead(shape: HttpShape, extraHeaders: readonly (readonly [string, string])[] = []): Buffer {
  const lines: Buffer[] = [Buffer.concat([Buffer.from(`${shape.method} `), bytesOf(shape.target), Buffer.from(' HTTP/1.1\r\n')])];
  const header = (name: string, value: HeaderValue) => lines.push(Buffer.concat([Buffer.from(`${name}: `), bytesOf(value), Buffer.from('\r\n')]));
  header('Host', hostHeader);
  for (const [name, value] of shape.headers) header(name, value);
  for (const [name, value] of extraHeaders) header(name, value);
  if (shape.framing.kind === 'chunked') header('Transfer-Encoding', 'chunked');
  else if (shape.body.length > 0 || methodsWithBody.has(shape.method)) header('Content-Length', String(shape.body.length));
  lines.push(Buffer.from('\r\n'));
  return Buffer.concat(lines);
}

export function renderBody(shape: HttpShape): Buffer {
  if (shape.framing.kind !== 'chunked') return shape.body;
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of shape.framing.chunks) {
    if (at >= shape.body.length) break;
    const piece = shape.body.subarray(at, Math.min(shape.body.length, at + Math.max(1, size)));
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    at += piece.length;
  }
  if (at < shape.body.length) {
    const piece = shape.body.subarray(at);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

export function renderRequest(shape: HttpShape, extraHeaders: readonly (readonly [string, string])[] = []): Buffer {
  return Buffer.concat([renderHead(shape, extraHeaders), renderBody(shape)]);
}
