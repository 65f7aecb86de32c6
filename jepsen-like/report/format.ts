// Text for the report: HTML escaping, number formats, tables.

export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const fmtInt = (n: number) => n.toLocaleString('en-US');
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
export const fmtSec = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '–' : `${(ms / 1000).toFixed(2)} s`);
export const fmtRate = (r: number | null) => (r === null ? '–' : r >= 100 ? r.toFixed(0) : r.toFixed(1));
export const r1 = (n: number) => Math.round(n * 10) / 10;

/** A table: header cells and rows of pre-rendered cells (escape before passing). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A two-column summary table; a row flagged `bad` is highlighted. */
export function kv(rows: readonly { label: string; value: string; bad?: boolean; good?: boolean; note?: string }[]): string {
  const body = rows
    .map((r) => `<tr class="${r.bad ? 'bad' : r.good ? 'good' : ''}"><th>${esc(r.label)}</th><td>${r.value}</td><td class="note">${esc(r.note ?? '')}</td></tr>`)
    .join('\n');
  return `<table class="kv"><tbody>\n${body}\n</tbody></table>`;
}
