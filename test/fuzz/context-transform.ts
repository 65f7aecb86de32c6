// What a case does to a context the server issued before sending it back: nothing, cut it in
// half, send it twice, or set every counter to 2^53-1 (only possible while the token is the
// documented-opaque `c1.<base64url JSON>`; otherwise it is sent with a byte appended). Pure.
import type { ContextFrom } from './types.js';

const counterMax = Number.MAX_SAFE_INTEGER;

function bump(token: string): string {
  const m = /^c1\.([A-Za-z0-9_-]+)$/.exec(token);
  if (m) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8'));
      if (Array.isArray(parsed)) {
        const bumped = parsed.map((list: unknown) => (Array.isArray(list) ? list.map((e: unknown) => (Array.isArray(e) ? [e[0], counterMax] : e)) : list));
        return `c1.${Buffer.from(JSON.stringify(bumped), 'utf8').toString('base64url')}`;
      }
    } catch {
      // not the format we know: fall through
    }
  }
  return `${token}A`;
}

/** The X-Kvorum-Context header value(s) to send. */
export function transformContext(issued: string, transform: ContextFrom['transform']): string[] {
  switch (transform) {
    case 'none':
      return [issued];
    case 'truncate':
      return [issued.slice(0, Math.max(1, Math.floor(issued.length / 2)))];
    case 'twice':
      return [issued, issued];
    case 'bump':
      return [bump(issued)];
  }
}
