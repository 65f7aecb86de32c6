// Printable, replayable descriptions of what was sent: the exact bytes as a JS expression (long
// runs of one character written as .repeat(n), large binary bodies summarised with a digest).
import { createHash } from 'node:crypto';

/** A repeated unit (1..12 characters) is written as .repeat(n) when it covers at least this many characters. */
const runMin = 24;
const unitMax = 12;
const bodyShownMax = 240;

/** The longest repetition of a unit starting at `i`: [unit length, count], or undefined. */
function repetitionAt(text: string, i: number): [number, number] | undefined {
  let best: [number, number] | undefined;
  for (let p = 1; p <= unitMax && i + p <= text.length; p++) {
    const unit = text.slice(i, i + p);
    let k = 1;
    while (text.startsWith(unit, i + k * p)) k++;
    if (k >= 3 && k * p >= runMin && (!best || k * p > best[0] * best[1])) best = [p, k];
  }
  return best;
}

/** `bytes` as a JS string expression whose latin1 encoding is exactly those bytes (about `budget` characters shown). */
export function bytesExpression(bytes: Buffer, budget = 1200): string {
  const text = bytes.toString('latin1');
  const parts: string[] = [];
  let literal = '';
  let shown = 0;
  const flush = () => {
    if (literal) parts.push(JSON.stringify(literal));
    literal = '';
  };
  for (let i = 0; i < text.length; ) {
    if (shown > budget) {
      flush();
      parts.push(`/* …${text.length - i} more bytes */ ""`);
      break;
    }
    const rep = repetitionAt(text, i);
    if (rep) {
      flush();
      parts.push(`${JSON.stringify(text.slice(i, i + rep[0]))}.repeat(${rep[1]})`);
      shown += 20 + rep[0];
      i += rep[0] * rep[1];
    } else {
      literal += text[i];
      shown++;
      i++;
    }
  }
  flush();
  return parts.length === 0 ? '""' : parts.join(' + ');
}

/** A request as a replayable expression: the head in full, a large body as length + digest. */
export function describeRequest(bytes: Buffer): string {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0 || bytes.length - headEnd - 4 <= bodyShownMax) return bytesExpression(bytes);
  const head = bytes.subarray(0, headEnd + 4);
  const body = bytes.subarray(headEnd + 4);
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return `${bytesExpression(head)} + /* body: ${body.length} bytes, sha256 ${digest}…, starts ${JSON.stringify(body.subarray(0, 32).toString('hex'))} (hex) */`;
}
