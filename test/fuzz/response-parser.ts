// Parses HTTP/1.1 responses out of the bytes a connection received so far: Content-Length,
// chunked or close-delimited bodies, no body for HEAD, 1xx, 204 and 304. Pure.

export interface WireResponse {
  readonly status: number;
  /** Lower-cased names; a repeated header keeps its values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type ParseStep =
  | { readonly kind: 'response'; readonly response: WireResponse; readonly rest: Buffer }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'garbage'; readonly why: string };

const headEnd = Buffer.from('\r\n\r\n');

/**
 * The first response in `data`. `closed`: the server has closed the connection (so a body with
 * no framing ends here). `head`: the response answers a HEAD request.
 */
export function parseResponse(data: Buffer, closed: boolean, head: boolean): ParseStep {
  const end = data.indexOf(headEnd);
  if (end < 0) return closed && data.length > 0 ? { kind: 'garbage', why: `incomplete response head ${preview(data)}` } : { kind: 'incomplete' };
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] ([0-9]{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return { kind: 'garbage', why: `not an HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 120))}` };
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'garbage', why: `bad response header line ${JSON.stringify(line.slice(0, 120))}` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const bodyStart = end + headEnd.length;
  const done = (body: Buffer, next: number): ParseStep => ({ kind: 'response', response: { status, headers, body }, rest: data.subarray(next) });
  if (head || (status >= 100 && status < 200) || status === 204 || status === 304) return done(Buffer.alloc(0), bodyStart);
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return dechunk(data, bodyStart, closed, done);
  const length = headers['content-length'];
  if (length !== undefined) {
    if (!/^[0-9]{1,10}$/.test(length)) return { kind: 'garbage', why: `bad Content-Length in response: ${JSON.stringify(length)}` };
    const n = Number(length);
    if (data.length < bodyStart + n) return closed ? { kind: 'garbage', why: `body cut short: ${data.length - bodyStart} of ${n} bytes` } : { kind: 'incomplete' };
    return done(Buffer.from(data.subarray(bodyStart, bodyStart + n)), bodyStart + n);
  }
  if (!closed) return { kind: 'incomplete' };
  return done(Buffer.from(data.subarray(bodyStart)), data.length);
}

function dechunk(data: Buffer, start: number, closed: boolean, done: (body: Buffer, next: number) => ParseStep): ParseStep {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return closed ? { kind: 'garbage', why: 'chunked body cut short' } : { kind: 'incomplete' };
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isSafeInteger(size) || size < 0) return { kind: 'garbage', why: 'bad chunk size in response' };
    at = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n', at);
      if (trailerEnd < 0) return closed ? { kind: 'garbage', why: 'chunked body cut short' } : { kind: 'incomplete' };
      return done(Buffer.concat(parts), trailerEnd + 2);
    }
    if (data.length < at + size + 2) return closed ? { kind: 'garbage', why: 'chunked body cut short' } : { kind: 'incomplete' };
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

function preview(data: Buffer): string {
  return JSON.stringify(data.subarray(0, 120).toString('latin1'));
}
