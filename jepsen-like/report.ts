// The run report: one self-contained report.html (inline CSS and SVG, no scripts, no external
// assets). A header with the verdict; a latency-over-time plot after Jepsen's latency-raw (one point
// per completed operation at its invocation time, log-scale latency, coloured by outcome, one marker
// shape per function, fault windows shaded); a throughput plot; then the checkers' tables and the
// fault schedule. All text is escaped.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Results } from './checkers/index.js';
import { pairOps, type Pair } from './checkers/ops.js';
import type { OpStats, PerfGroup, Percentiles } from './checkers/perf.js';
import type { FaultWindow, Op, RunInfo } from './history.js';

export interface ReportInput {
  info: RunInfo;
  history: readonly Op[];
  faults: readonly FaultWindow[];
  results: Results;
}

/** Above this many points the latency plot is downsampled (deterministically). */
export const MAX_POINTS = 50_000;

export async function writeReport(dir: string, input: ReportInput): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.html'), renderReport(input), 'utf8');
}

// ---------------------------------------------------------------------------------------------------
// Text helpers

export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const fmtInt = (n: number) => n.toLocaleString('en-US');
function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
const fmtSec = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '–' : `${(ms / 1000).toFixed(2)} s`);
const fmtRate = (r: number | null) => (r === null ? '–' : r >= 100 ? r.toFixed(0) : r.toFixed(1));
const r1 = (n: number) => Math.round(n * 10) / 10;

/** A table: header cells and rows of pre-rendered cells (escape before passing). */
function table(headers: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A two-column summary table; a row flagged `bad` is highlighted. */
function kv(rows: readonly { label: string; value: string; bad?: boolean; good?: boolean; note?: string }[]): string {
  const body = rows
    .map((r) => `<tr class="${r.bad ? 'bad' : r.good ? 'good' : ''}"><th>${esc(r.label)}</th><td>${r.value}</td><td class="note">${esc(r.note ?? '')}</td></tr>`)
    .join('\n');
  return `<table class="kv"><tbody>\n${body}\n</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------------
// Plot geometry

const FAULT_COLOURS: Record<FaultWindow['kind'], string> = {
  partition: '#8e44ad',
  kill: '#c0392b',
  pause: '#d4a017',
  wipe: '#6d4c41',
};

const OUTCOME_COLOURS = { info: '#f39c12', fail: '#d62728' } as const;
const OK_COLOURS: Record<Op['f'], string> = { read: '#2ca02c', add: '#1f5fbf', write: '#1f5fbf', delete: '#7f3fbf' };
type Shape = 'circle' | 'square' | 'triangle';
const SHAPES: Record<Op['f'], Shape> = { read: 'circle', add: 'square', write: 'triangle', delete: 'triangle' };

const colourOf = (f: Op['f'], type: Pair['type']) => (type === 'ok' ? OK_COLOURS[f] : OUTCOME_COLOURS[type]);

/** Nice tick step for a span, about `target` ticks. */
function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function fmtTick(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

function fmtLatencyTick(ms: number): string {
  if (ms >= 1000) return `${+(ms / 1000).toPrecision(3)} s`;
  return `${+ms.toPrecision(3)} ms`;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  /** x in seconds to pixels. */
  x: (sec: number) => number;
  xMaxSec: number;
}

/** Fault bands: translucent rectangles over the plot area, labels stacked in rows above it. */
function faultBands(frame: Frame, faults: readonly FaultWindow[], labelRows: readonly number[]): string {
  const parts: string[] = [];
  faults.forEach((w, i) => {
    const x0 = frame.x(w.startMs / 1000);
    const end = w.endMs === undefined ? frame.xMaxSec : Math.min(w.endMs / 1000, frame.xMaxSec);
    const x1 = Math.max(frame.x(end), x0 + 2);
    const colour = FAULT_COLOURS[w.kind] ?? '#888';
    const title = `${w.kind}: ${w.description} (${fmtSec(w.startMs)} – ${w.endMs === undefined ? 'end of run' : fmtSec(w.endMs)})`;
    const row = labelRows[i] ?? 0;
    const ly = frame.top - 6 - row * 14;
    parts.push(
      `<g class="fault-band" data-kind="${esc(w.kind)}"><title>${esc(title)}</title>` +
        `<rect x="${r1(x0)}" y="${frame.top}" width="${r1(x1 - x0)}" height="${frame.plotH}" fill="${colour}" fill-opacity="0.13" stroke="${colour}" stroke-opacity="0.45" stroke-width="0.8"/>` +
        `<line x1="${r1(x0)}" x2="${r1(x0)}" y1="${ly + 3}" y2="${frame.top}" stroke="${colour}" stroke-width="1"/>` +
        `<text x="${r1(x0 + 3)}" y="${ly}" class="band-label" fill="${colour}">${esc(bandLabel(w))}</text></g>`,
    );
  });
  return parts.join('\n');
}

function bandLabel(w: FaultWindow): string {
  const nodes = w.nodes.length > 0 ? ` ${w.nodes.join(',')}` : '';
  const label = `${w.kind}${nodes}`;
  return label.length > 28 ? `${label.slice(0, 27)}…` : label;
}

/** Greedy rows for band labels so they do not overlap: returns each window's row and the row count. */
function layoutLabels(faults: readonly FaultWindow[], x: (sec: number) => number): { rows: number[]; count: number } {
  const rowEnds: number[] = [];
  const rows = faults.map((w) => {
    const start = x(w.startMs / 1000);
    const width = bandLabel(w).length * 6.2 + 10;
    let row = rowEnds.findIndex((end) => end <= start);
    if (row === -1) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = start + width;
    return row;
  });
  return { rows, count: Math.max(1, rowEnds.length) };
}

function xAxis(frame: Frame): string {
  const step = niceStep(frame.xMaxSec, 12);
  const parts: string[] = [];
  const bottom = frame.top + frame.plotH;
  for (let v = 0; v <= frame.xMaxSec + 1e-9; v += step) {
    const px = r1(frame.x(v));
    parts.push(`<line x1="${px}" x2="${px}" y1="${frame.top}" y2="${bottom}" class="grid"/>`);
    parts.push(`<line x1="${px}" x2="${px}" y1="${bottom}" y2="${bottom + 5}" class="axis"/>`);
    parts.push(`<text x="${px}" y="${bottom + 18}" text-anchor="middle" class="tick">${esc(fmtTick(v, step))}</text>`);
  }
  parts.push(`<line x1="${frame.left}" x2="${frame.left + frame.plotW}" y1="${bottom}" y2="${bottom}" class="axis"/>`);
  parts.push(`<text x="${frame.left + frame.plotW / 2}" y="${bottom + 36}" text-anchor="middle" class="axis-label">time since start (s)</text>`);
  return parts.join('\n');
}

function yAxisLinear(frame: Frame, maxY: number, y: (v: number) => number, label: string): string {
  const step = niceStep(maxY, 6);
  const parts: string[] = [];
  for (let v = 0; v <= maxY + 1e-9; v += step) {
    const py = r1(y(v));
    parts.push(`<line x1="${frame.left}" x2="${frame.left + frame.plotW}" y1="${py}" y2="${py}" class="grid"/>`);
    parts.push(`<text x="${frame.left - 8}" y="${py + 4}" text-anchor="end" class="tick">${esc(fmtTick(v, step))}</text>`);
  }
  parts.push(`<line x1="${frame.left}" x2="${frame.left}" y1="${frame.top}" y2="${frame.top + frame.plotH}" class="axis"/>`);
  parts.push(yLabel(frame, label));
  return parts.join('\n');
}

function yLabel(frame: Frame, label: string): string {
  const cx = 16;
  const cy = frame.top + frame.plotH / 2;
  return `<text x="${cx}" y="${cy}" transform="rotate(-90 ${cx} ${cy})" text-anchor="middle" class="axis-label">${esc(label)}</text>`;
}

function makeFrame(width: number, plotH: number, labelRows: number, xMaxSec: number, left = 72): Frame {
  const top = 22 + labelRows * 14;
  const plotW = width - left - 20;
  return {
    width,
    height: top + plotH,
    left,
    top,
    plotW,
    plotH,
    xMaxSec,
    x: (sec) => left + (Math.max(0, Math.min(sec, xMaxSec)) / xMaxSec) * plotW,
  };
}

/** SVG path data for one marker at (x, y). Circles and squares are zero-length strokes with round or
 * square caps (compact and fast for tens of thousands of points); triangles are filled. */
function markerPath(shape: Shape, x: number, y: number): string {
  const X = r1(x);
  const Y = r1(y);
  if (shape === 'triangle') return `M${X} ${r1(Y - 3.2)}l3 5.2h-6z`;
  return `M${X} ${Y}h0`;
}

function seriesPath(shape: Shape, colour: string, d: string, opacity: number, scale = 1): string {
  if (shape === 'triangle') return `<path d="${d}" fill="${colour}" fill-opacity="${opacity}" stroke="none"/>`;
  const cap = shape === 'circle' ? 'round' : 'square';
  const width = (shape === 'circle' ? 4 : 3.4) * scale;
  return `<path d="${d}" fill="none" stroke="${colour}" stroke-opacity="${opacity}" stroke-width="${width}" stroke-linecap="${cap}"/>`;
}

function legendMarker(shape: Shape, colour: string, x: number, y: number): string {
  return seriesPath(shape, colour, markerPath(shape, x, y), 1, 1.75);
}

// ---------------------------------------------------------------------------------------------------
// Latency plot

interface Point {
  readonly f: Op['f'];
  readonly type: Pair['type'];
  readonly sec: number;
  readonly latencyMs: number;
}

/** Picks `k` of `n` indices, evenly spaced and deterministic. */
function evenIndices(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
}

/**
 * At most MAX_POINTS points: every fail and info completion first (they are rare and what one looks
 * for), the rest of the budget an evenly spaced sample of the ok ones.
 */
export function downsample<T extends { type: string }>(points: readonly T[], max = MAX_POINTS): { kept: T[]; sampled: boolean } {
  if (points.length <= max) return { kept: [...points], sampled: false };
  const notOk = points.filter((p) => p.type !== 'ok');
  const ok = points.filter((p) => p.type === 'ok');
  const keptNotOk = evenIndices(notOk.length, Math.min(notOk.length, max)).map((i) => notOk[i]!);
  const keptOk = evenIndices(ok.length, Math.max(0, max - keptNotOk.length)).map((i) => ok[i]!);
  return { kept: [...keptOk, ...keptNotOk], sampled: true };
}

function latencyPlot(pairs: readonly Pair[], faults: readonly FaultWindow[], xMaxSec: number): { svg: string; note: string } {
  const all: Point[] = [];
  for (const p of pairs) {
    if (p.latencyMs === undefined) continue;
    all.push({ f: p.f, type: p.type, sec: p.invokeMs / 1000, latencyMs: p.latencyMs });
  }
  const neverCompleted = pairs.length - all.length;
  const { kept, sampled } = downsample(all);

  const width = 1240;
  const provisional = makeFrame(width, 420, 1, xMaxSec);
  const labels = layoutLabels(faults, provisional.x);
  const frame = makeFrame(width, 420, labels.count, xMaxSec);

  // Log y axis over whole decades covering the data; latencies below 0.1 ms are drawn at 0.1 ms.
  const floor = 0.1;
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const p of all) {
    const v = Math.max(floor, p.latencyMs);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) {
    lo = 1;
    hi = 1000;
  }
  const loExp = Math.floor(Math.log10(lo));
  let hiExp = Math.ceil(Math.log10(hi));
  if (hiExp <= loExp) hiExp = loExp + 1;
  const y = (ms: number) => frame.top + frame.plotH - ((Math.log10(Math.max(floor, ms)) - loExp) / (hiExp - loExp)) * frame.plotH;

  const parts: string[] = [];
  // y grid: decades labelled, 2x and 5x lighter (labelled too when there are few decades).
  const decades = hiExp - loExp;
  for (let e = loExp; e <= hiExp; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (e === hiExp && m > 1) continue;
      const py = r1(y(v));
      parts.push(`<line x1="${frame.left}" x2="${frame.left + frame.plotW}" y1="${py}" y2="${py}" class="${m === 1 ? 'grid' : 'grid minor'}"/>`);
      if (m === 1 || decades <= 3) {
        parts.push(`<text x="${frame.left - 8}" y="${py + 4}" text-anchor="end" class="${m === 1 ? 'tick' : 'tick minor'}">${esc(fmtLatencyTick(v))}</text>`);
      }
    }
  }
  parts.push(`<line x1="${frame.left}" x2="${frame.left}" y1="${frame.top}" y2="${frame.top + frame.plotH}" class="axis"/>`);
  parts.push(yLabel(frame, 'latency (log scale)'));
  parts.push(xAxis(frame));
  parts.push(faultBands(frame, faults, labels.rows));

  // One path per (f, outcome); ok drawn first, then info, then fail on top.
  const fs = [...new Set(all.map((p) => p.f))].sort();
  const legend: { shape: Shape; colour: string; label: string }[] = [];
  for (const type of ['ok', 'info', 'fail'] as const) {
    for (const f of fs) {
      const shape = SHAPES[f];
      const colour = colourOf(f, type);
      const series = kept.filter((p) => p.f === f && p.type === type);
      const total = all.reduce((n, p) => (p.f === f && p.type === type ? n + 1 : n), 0);
      if (total === 0) continue;
      const d = series.map((p) => markerPath(shape, frame.x(p.sec), y(p.latencyMs))).join('');
      if (d !== '') parts.push(`<g class="series" data-f="${esc(f)}" data-type="${type}">${seriesPath(shape, colour, d, type === 'ok' ? 0.55 : 0.8)}</g>`);
      legend.push({ shape, colour, label: `${f} ${type} (${fmtInt(total)})` });
    }
  }

  // Legend under the x axis.
  const legendTop = frame.top + frame.plotH + 52;
  const legendParts: string[] = [];
  let lx = frame.left;
  let ly = legendTop;
  for (const item of legend) {
    const w = item.label.length * 7 + 34;
    if (lx + w > frame.left + frame.plotW) {
      lx = frame.left;
      ly += 20;
    }
    legendParts.push(legendMarker(item.shape, item.colour, lx + 6, ly));
    legendParts.push(`<text x="${lx + 16}" y="${ly + 4}" class="legend">${esc(item.label)}</text>`);
    lx += w;
  }
  const kinds = [...new Set(faults.map((w) => w.kind))];
  for (const kind of kinds) {
    const label = `${kind} window`;
    const w = label.length * 7 + 34;
    if (lx + w > frame.left + frame.plotW) {
      lx = frame.left;
      ly += 20;
    }
    const c = FAULT_COLOURS[kind] ?? '#888';
    legendParts.push(`<rect x="${lx}" y="${ly - 6}" width="12" height="12" fill="${c}" fill-opacity="0.18" stroke="${c}" stroke-opacity="0.6"/>`);
    legendParts.push(`<text x="${lx + 16}" y="${ly + 4}" class="legend">${esc(label)}</text>`);
    lx += w;
  }
  const height = ly + 16;

  const svg =
    `<svg class="plot" id="latency-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="latency over time">\n` +
    `<rect x="${frame.left}" y="${frame.top}" width="${frame.plotW}" height="${frame.plotH}" class="plot-bg"/>\n` +
    parts.join('\n') +
    '\n' +
    legendParts.join('\n') +
    '\n</svg>';

  const notes: string[] = [];
  notes.push(`${fmtInt(all.length)} completed operations, plotted at their invocation time.`);
  if (sampled) {
    notes.push(
      `Downsampled: showing ${fmtInt(kept.length)} of ${fmtInt(all.length)} points (more than ${fmtInt(MAX_POINTS)}): every fail and info, and an evenly spaced sample of the ok completions. The counts in the legend are of all operations.`,
    );
  }
  if (neverCompleted > 0) notes.push(`${fmtInt(neverCompleted)} operation(s) never completed (counted as info, not plotted).`);
  notes.push('Latencies below 0.1 ms are drawn at 0.1 ms. Hover over a fault band for its description.');
  return { svg, note: notes.join(' ') };
}

// ---------------------------------------------------------------------------------------------------
// Throughput plot: completions per second, binned, per outcome (ok per f), fault windows shaded.

function throughputPlot(pairs: readonly Pair[], faults: readonly FaultWindow[], xMaxSec: number): string {
  const width = 1240;
  const provisional = makeFrame(width, 200, 1, xMaxSec);
  const labels = layoutLabels(faults, provisional.x);
  const frame = makeFrame(width, 200, labels.count, xMaxSec);
  const binSec = niceStep(xMaxSec, 120);
  // A last partial bin shorter than half a bin is merged into the one before it (no spikes from tiny bins).
  const bins = Math.max(1, Math.round(xMaxSec / binSec));
  const fs = [...new Set(pairs.map((p) => p.f))].sort();
  const series: { key: string; label: string; colour: string; dash: string; counts: number[] }[] = [
    ...fs.map((f) => ({ key: `${f}-ok`, label: `${f} ok`, colour: OK_COLOURS[f], dash: '', counts: new Array<number>(bins).fill(0) })),
    { key: 'info', label: 'info (all f)', colour: OUTCOME_COLOURS.info, dash: '', counts: new Array<number>(bins).fill(0) },
    { key: 'fail', label: 'fail (all f)', colour: OUTCOME_COLOURS.fail, dash: '', counts: new Array<number>(bins).fill(0) },
  ];
  const byKey = new Map(series.map((s) => [s.key, s]));
  for (const p of pairs) {
    if (!Number.isFinite(p.completeMs)) continue;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(p.completeMs / 1000 / binSec)));
    const s = byKey.get(p.type === 'ok' ? `${p.f}-ok` : p.type);
    if (s) s.counts[bin]! += 1;
  }
  let maxRate = 1;
  // Rates divide by the bin's width; the last bin runs to the end of the run (0.5 to 1.5 bins).
  const binWidth = (i: number) => (i === bins - 1 ? Math.max(1e-3, xMaxSec - i * binSec) : binSec);
  for (const s of series) s.counts.forEach((c, i) => (maxRate = Math.max(maxRate, c / binWidth(i))));
  const yMax = niceStep(maxRate, 5) * Math.ceil(maxRate / niceStep(maxRate, 5));
  const y = (v: number) => frame.top + frame.plotH - (v / yMax) * frame.plotH;

  const parts: string[] = [];
  parts.push(yAxisLinear(frame, yMax, y, 'completions / s'));
  parts.push(xAxis(frame));
  parts.push(faultBands(frame, faults, labels.rows));
  const legendParts: string[] = [];
  let lx = frame.left;
  const ly = frame.top + frame.plotH + 52;
  for (const s of series) {
    if (s.counts.every((c) => c === 0)) continue;
    const pts = s.counts.map((c, i) => `${r1(frame.x(i * binSec + binWidth(i) / 2))},${r1(y(c / binWidth(i)))}`).join(' ');
    parts.push(`<polyline class="rate" data-series="${esc(s.key)}" points="${pts}" fill="none" stroke="${s.colour}" stroke-width="1.6" stroke-linejoin="round"/>`);
    legendParts.push(`<line x1="${lx}" x2="${lx + 16}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2.5"/>`);
    legendParts.push(`<text x="${lx + 22}" y="${ly + 4}" class="legend">${esc(s.label)}</text>`);
    lx += s.label.length * 7 + 44;
  }
  const height = ly + 16;
  return (
    `<svg class="plot" id="rate-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="throughput over time">\n` +
    `<rect x="${frame.left}" y="${frame.top}" width="${frame.plotW}" height="${frame.plotH}" class="plot-bg"/>\n` +
    parts.join('\n') +
    '\n' +
    legendParts.join('\n') +
    `\n<text x="${frame.left + frame.plotW}" y="${ly + 4}" text-anchor="end" class="tick">bins of ${esc(fmtTick(binSec, binSec))} s, by completion time</text>` +
    '\n</svg>'
  );
}

// ---------------------------------------------------------------------------------------------------
// Sections

function header(info: RunInfo, results: Results, history: readonly Op[], pairs: readonly Pair[]): string {
  const verdict = results.valid ? 'VALID' : 'INVALID';
  const meta: [string, string][] = [
    ['seed', String(info.seed)],
    ['nodes', `${info.nodes} (N = ${info.n})`],
    ['workload', info.workload],
    ['nemeses', info.nemeses.length > 0 ? info.nemeses.join(', ') : 'none'],
    ['client', info.client],
    ['time', `${info.timeSec} s`],
    ['started', info.startedAt],
    ['operations', `${fmtInt(pairs.length)} (${fmtInt(history.length)} history events)`],
  ];
  const reasons =
    results.reasons.length > 0
      ? `<ul class="reasons">${results.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`
      : '<p class="reasons-ok">every checker passed</p>';
  return `<header class="${results.valid ? 'valid' : 'invalid'}">
<div class="title"><h1>kvorum · jepsen-like run</h1>
<dl class="meta">${meta.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl></div>
<div class="verdict"><div class="verdict-word" id="verdict">${verdict}</div>${reasons}</div>
</header>`;
}

/** " (first 10 of 123)" when examples were cut, else "". */
function firstOf(shown: number, total: number): string {
  return total > shown ? ` (first ${fmtInt(shown)} of ${fmtInt(total)})` : '';
}

function yesNo(ok: boolean, good = 'yes', bad = 'no'): string {
  return ok ? `<span class="ok">${esc(good)}</span>` : `<span class="err">${esc(bad)}</span>`;
}

function setSection(results: Results): string {
  const s = results.set;
  if (!s) return '';
  const stale = s.staleReads;
  const rows = [
    { label: 'verdict', value: yesNo(s.valid, 'valid', 'INVALID'), bad: !s.valid, good: s.valid },
    { label: 'keys', value: fmtInt(s.keys) },
    { label: 'elements attempted', value: fmtInt(s.attempted) },
    { label: 'acknowledged (ok)', value: fmtInt(s.acknowledged) },
    { label: 'lost', value: fmtInt(s.lost.count), bad: s.lost.count > 0, note: 'acknowledged, absent from the final set: must be 0' },
    { label: 'unexpected', value: fmtInt(s.unexpected.count), bad: s.unexpected.count > 0, note: 'in a final read, never attempted: must be 0' },
    { label: 'failed adds present', value: `${fmtInt(s.failedPresent.count)} of ${fmtInt(s.failed)} failed`, bad: s.failedPresent.count > 0, note: 'a fail promises not written: must be 0' },
    { label: 'indeterminate (info)', value: `${fmtInt(s.indeterminate)}: ${fmtInt(s.indeterminatePresent)} present, ${fmtInt(s.indeterminateAbsent)} absent`, note: 'either is allowed' },
    { label: 'keys never read at the end', value: fmtInt(s.unreadKeys.length), bad: s.unreadKeys.length > 0, note: s.unreadKeys.slice(0, 10).join(', ') },
    { label: 'final reads that failed', value: fmtInt(s.finalReadErrors.length), note: s.finalReadErrors.slice(0, 5).map((e) => `${e.key}@${e.node}: ${e.status}`).join('; ') },
    { label: 'keys whose final reads disagree', value: fmtInt(s.finalReadsDisagree.count), note: 'between nodes; the union is checked' },
    { label: 'stale reads outside faults', value: `${fmtInt(stale.outsideFaults.count)} of ${fmtInt(stale.outsideFaults.reads)} reads`, note: 'missed an add acknowledged before the read; allowed (reads need not meet the write quorum), reported' },
    { label: 'stale reads during faults', value: `${fmtInt(stale.insideFaults.count)} of ${fmtInt(stale.insideFaults.reads)} reads`, note: 'expected under sloppy quorum and partitions' },
  ];
  const lost = table(
    ['key', 'element', 'acknowledged at', 'process', 'node'],
    s.lost.examples.map((l) => [esc(l.key), esc(l.element), esc(fmtSec(l.ackMs)), esc(l.process), esc(l.node)]),
  );
  const unexpected = table(
    ['key', 'element', 'in the final read of'],
    s.unexpected.examples.map((u) => [esc(u.key), esc(u.element), esc(u.nodes.join(', '))]),
  );
  const failedPresent = table(
    ['key', 'element', 'failed at', 'status', 'node'],
    s.failedPresent.examples.map((x) => [esc(x.key), esc(x.element), esc(fmtSec(x.failMs)), esc(x.status ?? ''), esc(x.node)]),
  );
  const staleRows = (examples: typeof stale.outsideFaults.examples) =>
    table(
      ['process', 'key', 'node', 'invoked', 'completed', 'missing', 'e.g. (element @ ack)', 'faults'],
      examples.map((r) => [
        esc(r.process), esc(r.key), esc(r.node), esc(fmtSec(r.invokeMs)), esc(fmtSec(r.completeMs)), esc(r.missingCount),
        esc(r.missing.map((m) => `${m.element} @ ${fmtSec(m.ackMs)}${m.ackedDuringFault ? ' (acked in fault)' : ''}`).join(', ')),
        esc(r.faults.join(', ')),
      ]),
    );
  const disagree = table(
    ['key', 'per node: elements (missing from union)'],
    s.finalReadsDisagree.examples.map((d) => [esc(d.key), esc(d.nodes.map((n) => `${n.node}: ${n.size} (−${n.missing})`).join('  '))]),
  );
  return `<section><h2>Set</h2>
${kv(rows)}
<h3>Lost acknowledged adds${firstOf(s.lost.examples.length, s.lost.count)}</h3>${lost}
${s.unexpected.count > 0 ? `<h3>Unexpected elements${firstOf(s.unexpected.examples.length, s.unexpected.count)}</h3>${unexpected}` : ''}
${s.failedPresent.count > 0 ? `<h3>Failed adds present${firstOf(s.failedPresent.examples.length, s.failedPresent.count)}</h3>${failedPresent}` : ''}
<h3>Stale reads outside faults${firstOf(stale.outsideFaults.examples.length, stale.outsideFaults.count)}</h3>${staleRows(stale.outsideFaults.examples)}
<h3>Stale reads during faults${firstOf(stale.insideFaults.examples.length, stale.insideFaults.count)}</h3>${staleRows(stale.insideFaults.examples)}
${s.finalReadsDisagree.count > 0 ? `<h3>Final reads that disagree${firstOf(s.finalReadsDisagree.examples.length, s.finalReadsDisagree.count)}</h3>${disagree}` : ''}
</section>`;
}

function registerSection(results: Results): string {
  const r = results.register;
  if (!r) return '';
  const rows = [
    { label: 'verdict', value: yesNo(r.valid, 'valid', 'INVALID'), bad: !r.valid, good: r.valid },
    { label: 'keys', value: fmtInt(r.keys) },
    { label: 'writes', value: `${fmtInt(r.writes.ok)} ok, ${fmtInt(r.writes.fail)} fail, ${fmtInt(r.writes.info)} info` },
    { label: 'quorum reads checked', value: fmtInt(r.reads.quorum), note: `${fmtInt(r.reads.other)} other ok reads, ${fmtInt(r.reads.failOrInfo)} not ok` },
    { label: 'monotonic-read violations', value: fmtInt(r.violations.count), bad: r.violations.count > 0, note: 'quorum read below what the process had seen acknowledged, outside faults: must be 0' },
    { label: 'exempt (faults)', value: fmtInt(r.exempt.count), note: 'went backwards, but a fault voids the quorum intersection' },
    { label: 'reads of unwritten values', value: fmtInt(r.unexpected.count), bad: r.unexpected.count > 0, note: 'never written, or every write of it failed: must be 0' },
  ];
  const vrows = (examples: typeof r.violations.examples) =>
    table(
      ['process', 'key', 'node', 'invoked', 'completed', 'read', 'had seen', 'from', 'acked at', 'why exempt'],
      examples.map((v) => [
        esc(v.process), esc(v.key), esc(v.node), esc(fmtSec(v.invokeMs)), esc(fmtSec(v.completeMs)), esc(v.value ?? 'not found'),
        esc(v.bound), esc(v.boundSource), esc(fmtSec(v.boundAckMs)), esc(v.exemptBecause ?? ''),
      ]),
    );
  const unexpected = table(
    ['process', 'key', 'node', 'completed', 'value', 'reason'],
    r.unexpected.examples.map((u) => [esc(u.process), esc(u.key), esc(u.node), esc(fmtSec(u.completeMs)), esc(u.value), esc(u.reason)]),
  );
  return `<section><h2>Register: monotonic reads under quorum</h2>
${kv(rows)}
<h3>Violations${firstOf(r.violations.examples.length, r.violations.count)}</h3>${vrows(r.violations.examples)}
<h3>Exempt during faults${firstOf(r.exempt.examples.length, r.exempt.count)}</h3>${vrows(r.exempt.examples)}
${r.unexpected.count > 0 ? `<h3>Reads of unwritten values${firstOf(r.unexpected.examples.length, r.unexpected.count)}</h3>${unexpected}` : ''}
</section>`;
}

function convergenceSection(results: Results): string {
  const c = results.convergence;
  const rows = [
    { label: 'converged', value: yesNo(c.converged), bad: !c.converged, good: c.converged },
    { label: 'time to converge', value: esc(c.convergenceMs === null ? 'did not converge' : fmtMs(c.convergenceMs)), note: 'after healing' },
    { label: 'keys', value: fmtInt(c.keys) },
    { label: 'keys with differing versions', value: fmtInt(c.keysDiverged.count), bad: c.keysDiverged.count > 0 },
    { label: 'keys with fewer than N copies', value: fmtInt(c.keysUnderReplicated.count), note: 'information only' },
    { label: 'keys with no copy', value: fmtInt(c.keysMissing.length), note: c.keysMissing.slice(0, 10).join(', ') },
  ];
  const diverged = table(
    ['key', 'distinct', 'versions per node'],
    c.keysDiverged.examples.map((d) => [esc(d.key), esc(d.distinct), esc(d.versions.map((v) => `${v.node}: ${v.version === null ? '–' : shorten(v.version)}`).join('  '))]),
  );
  return `<section><h2>Convergence</h2>
${kv(rows)}
${c.keysDiverged.count > 0 ? `<h3>Keys whose replicas differ${firstOf(c.keysDiverged.examples.length, c.keysDiverged.count)}</h3>${diverged}` : ''}
</section>`;
}

function shorten(s: string): string {
  return s.length > 24 ? `${s.slice(0, 23)}…` : s;
}

function pct(p: Percentiles | null, k: keyof Percentiles): string {
  return p === null ? '–' : esc(fmtMs(p[k]));
}

function statCells(s: OpStats): string[] {
  return [
    esc(s.f),
    esc(fmtInt(s.ok)),
    s.fail > 0 ? `<span class="warn">${esc(fmtInt(s.fail))}</span>` : '0',
    s.info > 0 ? `<span class="warn">${esc(fmtInt(s.info))}</span>` : '0',
    esc(fmtRate(s.okPerSec)),
    pct(s.latency, 'p50'),
    pct(s.latency, 'p95'),
    pct(s.latency, 'p99'),
    pct(s.latency, 'max'),
    pct(s.okLatency, 'p99'),
  ];
}

function perfSection(results: Results): string {
  const perf = results.perf;
  const headers = ['period', 'f', 'ok', 'fail', 'info', 'ok/s', 'p50', 'p95', 'p99', 'max', 'ok p99'];
  const groups: PerfGroup[] = [perf.overall, perf.noFault, ...perf.faults];
  const rows: string[] = [];
  for (const g of groups) {
    const stats = g.byF.length > 1 ? [...g.byF, g.all] : g.byF.length === 1 ? g.byF : [g.all];
    const isWindow = g.kind !== 'all' && g.kind !== 'no fault';
    const span = isWindow ? `${fmtSec(g.startMs)} – ${fmtSec(g.endMs)}` : fmtSec(g.durationMs);
    const swatch = isWindow ? `<span class="swatch" style="background:${FAULT_COLOURS[g.kind as FaultWindow['kind']] ?? '#888'}"></span>` : '';
    const cell = `<td rowspan="${stats.length}" class="period">${swatch}<b>${esc(g.label)}</b><br><span class="sub">${esc(span)}${isWindow ? ` · ${esc(g.description)}` : ''}</span></td>`;
    stats.forEach((s, i) => {
      const cls = [i === 0 ? 'group-start' : '', s.f === 'all' ? 'total' : ''].join(' ').trim();
      rows.push(`<tr class="${cls}">${i === 0 ? cell : ''}${statCells(s).map((c, j) => (j === 0 ? `<td class="f">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`);
    });
  }
  return `<section><h2>Performance</h2>
<p class="note">Operations are attributed to the period their invocation falls in. Latency percentiles are over every completion (ok, fail and info; nearest rank); "ok p99" over ok completions only. Rates are per second of the period.</p>
<table class="perf"><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
</section>`;
}

function faultSection(faults: readonly FaultWindow[]): string {
  const rows = [...faults]
    .sort((a, b) => a.startMs - b.startMs)
    .map((w, i) => [
      esc(i + 1),
      `<span class="swatch" style="background:${FAULT_COLOURS[w.kind] ?? '#888'}"></span>${esc(w.kind)}`,
      esc(w.nodes.join(', ')),
      esc(w.description),
      esc(fmtSec(w.startMs)),
      esc(w.endMs === undefined ? 'still active at the end' : fmtSec(w.endMs)),
      esc(w.endMs === undefined ? '–' : fmtSec(w.endMs - w.startMs)),
    ]);
  return `<section><h2>Fault schedule</h2>${table(['#', 'kind', 'nodes', 'description', 'start', 'end', 'duration'], rows, 'faults')}</section>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2330;background:#f4f5f7}
main{max-width:1300px;margin:0 auto;padding:0 24px 48px}
header{display:flex;justify-content:space-between;align-items:stretch;gap:24px;padding:20px 28px;margin:0 0 20px;border-bottom:6px solid}
header.valid{background:#e8f6ec;border-color:#1e8e3e}
header.invalid{background:#fdecea;border-color:#c5221f}
h1{margin:0 0 10px;font-size:22px}
h2{margin:28px 0 10px;font-size:18px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
h3{margin:18px 0 6px;font-size:14px;color:#444}
.meta{display:grid;grid-template-columns:repeat(4,minmax(140px,auto));gap:6px 22px;margin:0}
.meta div{display:flex;flex-direction:column}
.meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:#667}
.meta dd{margin:0;font-weight:600}
.verdict{text-align:right;min-width:260px}
.verdict-word{font-size:64px;font-weight:800;letter-spacing:.04em;line-height:1}
header.valid .verdict-word{color:#1e8e3e}
header.invalid .verdict-word{color:#c5221f}
.reasons{margin:8px 0 0;padding:0;list-style:none;color:#a50e0e;font-weight:600}
.reasons-ok{margin:8px 0 0;color:#1e6e34}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:4px 20px 16px;margin:16px 0}
.plot{display:block;max-width:100%;height:auto;background:#fff}
.plot-bg{fill:#fbfbfc;stroke:#c9ced6}
.grid{stroke:#e2e5ea;stroke-width:1}
.grid.minor{stroke:#eff1f4}
.axis{stroke:#555;stroke-width:1}
.tick{font-size:11px;fill:#444}
.tick.minor{fill:#999}
.axis-label{font-size:12px;fill:#333;font-weight:600}
.band-label{font-size:11px;font-weight:600}
.legend{font-size:12px;fill:#333}
.note{color:#555;font-size:12.5px;margin:6px 0}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid #eceef2;text-align:left;vertical-align:top}
thead th{background:#f0f2f5;font-weight:600;border-bottom:1px solid #cfd4dc}
tbody tr:nth-child(even){background:#fafbfc}
table.kv th{font-weight:500;color:#333;min-width:230px}
table.kv td:nth-child(2){font-weight:600;min-width:150px}
table.kv td.note{color:#666;font-weight:400}
table.kv tr.bad{background:#fdecea}
table.kv tr.bad td:nth-child(2){color:#c5221f}
table.kv tr.good td:nth-child(2){color:#1e8e3e}
table.perf td{text-align:right;font-variant-numeric:tabular-nums}
table.perf th:nth-child(n+3){text-align:right}
table.perf td.period,table.perf td.f{text-align:left}
table.perf tr.group-start td{border-top:2px solid #cfd4dc}
table.perf tbody tr{background:#fff}
table.perf tr.total td{font-weight:600;background:#f7f8fa}
table.perf td.period{background:#fff;min-width:230px;font-weight:400}
.sub{color:#666;font-size:12px}
.ok{color:#1e8e3e}
.err{color:#c5221f}
.warn{color:#b35c00}
.none{color:#777;font-style:italic;margin:4px 0}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;opacity:.7}
footer{color:#777;font-size:12px;margin-top:24px}
`;

export function renderReport(input: ReportInput): string {
  const { info, history, faults, results } = input;
  const pairs = pairOps(history);
  const xMaxSec = Math.max(0.001, results.perf.durationMs / 1000, ...faults.map((w) => (w.endMs ?? w.startMs) / 1000));
  const latency = latencyPlot(pairs, faults, xMaxSec);
  const rate = throughputPlot(pairs, faults, xMaxSec);
  const title = `kvorum ${info.workload} seed ${info.seed}: ${results.valid ? 'valid' : 'INVALID'}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
${header(info, results, history, pairs)}
<main>
<section><h2>Latency over time</h2>
<p class="note">${esc(latency.note)}</p>
${latency.svg}
</section>
<section><h2>Throughput</h2>
${rate}
</section>
${setSection(results)}
${registerSection(results)}
${convergenceSection(results)}
${perfSection(results)}
${faultSection(faults)}
<footer>Generated by jepsen-like/report.ts. Times are since the start of the run.</footer>
</main>
</body></html>
`;
}
