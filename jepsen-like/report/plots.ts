// The report's two SVG plots: latency over time (one point per completed operation, downsampled
// deterministically above MAX_POINTS) and throughput (completions per second).
import type { Pair } from '../checkers/ops.js';
import type { FaultWindow, MembershipEvent, Op } from '../history.js';
import { esc, fmtInt, r1 } from './format.js';
import {
  colourOf, FAULT_COLOURS, faultBands, fmtLatencyTick, membershipMarks, fmtTick, layoutLabels, legendMarker, makeFrame, markerPath, niceStep,
  OK_COLOURS, OUTCOME_COLOURS, seriesPath, type Shape, SHAPES, xAxis, yAxisLinear, yLabel,
} from './plot-frame.js';

/** Above this many points the latency plot is downsampled (deterministically). */
export const MAX_POINTS = 50_000;

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

export function latencyPlot(pairs: readonly Pair[], faults: readonly FaultWindow[], xMaxSec: number, membership: readonly MembershipEvent[] = []): { svg: string; note: string } {
  const all: Point[] = [];
  for (const p of pairs) {
    if (p.latencyMs === undefined) continue;
    all.push({ f: p.f, type: p.type, sec: p.invokeMs / 1000, latencyMs: p.latencyMs });
  }
  const { kept, sampled } = downsample(all);

  const width = 1240;
  const provisional = makeFrame(width, 420, 1, xMaxSec);
  const labels = layoutLabels(faults, provisional.x);
  const frame = makeFrame(width, 420, labels.count, xMaxSec);
  const scale = latencyScale(all, frame);

  const parts = latencyGrid(frame, scale);
  parts.push(`<line x1="${frame.left}" x2="${frame.left}" y1="${frame.top}" y2="${frame.top + frame.plotH}" class="axis"/>`);
  parts.push(yLabel(frame, 'latency (log scale)'));
  parts.push(xAxis(frame));
  parts.push(faultBands(frame, faults, labels.rows));
  parts.push(membershipMarks(frame, membership));
  const legend = latencySeries(all, kept, frame, scale.y, parts);
  const { legendParts, height } = latencyLegend(legend, faults, frame);

  const svg =
    `<svg class="plot" id="latency-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="latency over time">\n` +
    `<rect x="${frame.left}" y="${frame.top}" width="${frame.plotW}" height="${frame.plotH}" class="plot-bg"/>\n` +
    parts.join('\n') +
    '\n' +
    legendParts.join('\n') +
    '\n</svg>';
  return { svg, note: latencyNote(all.length, kept.length, sampled, pairs.length - all.length) };
}

type Frame = ReturnType<typeof makeFrame>;
interface LatencyScale {
  readonly loExp: number;
  readonly hiExp: number;
  readonly y: (ms: number) => number;
}
interface LegendItem {
  readonly shape: Shape;
  readonly colour: string;
  readonly label: string;
}

/** Log y axis over whole decades covering the data; latencies below 0.1 ms are drawn at 0.1 ms. */
function latencyScale(all: readonly Point[], frame: Frame): LatencyScale {
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
  return { loExp, hiExp, y };
}

/** y grid: decades labelled, 2x and 5x lighter (labelled too when there are few decades). */
function latencyGrid(frame: Frame, { loExp, hiExp, y }: LatencyScale): string[] {
  const parts: string[] = [];
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
  return parts;
}

/** One path per (f, outcome) appended to `parts`; ok drawn first, then info, then fail on top. Returns the legend. */
function latencySeries(all: readonly Point[], kept: readonly Point[], frame: Frame, y: (ms: number) => number, parts: string[]): LegendItem[] {
  const fs = [...new Set(all.map((p) => p.f))].sort();
  const legend: LegendItem[] = [];
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
  return legend;
}

/** The legend under the x axis, wrapped to the plot's width: series, then fault kinds. */
function latencyLegend(legend: readonly LegendItem[], faults: readonly FaultWindow[], frame: Frame): { legendParts: string[]; height: number } {
  const legendParts: string[] = [];
  let lx = frame.left;
  let ly = frame.top + frame.plotH + 52;
  const place = (label: string) => {
    const w = label.length * 7 + 34;
    if (lx + w > frame.left + frame.plotW) {
      lx = frame.left;
      ly += 20;
    }
    const at = { x: lx, y: ly };
    lx += w;
    return at;
  };
  for (const item of legend) {
    const at = place(item.label);
    legendParts.push(legendMarker(item.shape, item.colour, at.x + 6, at.y));
    legendParts.push(`<text x="${at.x + 16}" y="${at.y + 4}" class="legend">${esc(item.label)}</text>`);
  }
  for (const kind of new Set(faults.map((w) => w.kind))) {
    const label = `${kind} window`;
    const at = place(label);
    const c = FAULT_COLOURS[kind] ?? '#888';
    legendParts.push(`<rect x="${at.x}" y="${at.y - 6}" width="12" height="12" fill="${c}" fill-opacity="0.18" stroke="${c}" stroke-opacity="0.6"/>`);
    legendParts.push(`<text x="${at.x + 16}" y="${at.y + 4}" class="legend">${esc(label)}</text>`);
  }
  return { legendParts, height: ly + 16 };
}

function latencyNote(completed: number, plotted: number, sampled: boolean, neverCompleted: number): string {
  const notes: string[] = [];
  notes.push(`${fmtInt(completed)} completed operations, plotted at their invocation time.`);
  if (sampled) {
    notes.push(
      `Downsampled: showing ${fmtInt(plotted)} of ${fmtInt(completed)} points (more than ${fmtInt(MAX_POINTS)}): every fail and info, and an evenly spaced sample of the ok completions. The counts in the legend are of all operations.`,
    );
  }
  if (neverCompleted > 0) notes.push(`${fmtInt(neverCompleted)} operation(s) never completed (counted as info, not plotted).`);
  notes.push('Latencies below 0.1 ms are drawn at 0.1 ms. Hover over a fault band for its description.');
  return notes.join(' ');
}

// Throughput plot: completions per second, binned, per outcome (ok per f), fault windows shaded.

export function throughputPlot(pairs: readonly Pair[], faults: readonly FaultWindow[], xMaxSec: number, membership: readonly MembershipEvent[] = []): string {
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
  parts.push(membershipMarks(frame, membership));
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
