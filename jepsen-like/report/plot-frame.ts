// Plot geometry shared by the report's SVG plots: colours and marker shapes, axes, ticks, fault
// bands and their labels.
import type { Pair } from '../checkers/ops.js';
import type { FaultWindow, MembershipEvent, Op } from '../history.js';
import { esc, fmtSec, r1 } from './format.js';

export const FAULT_COLOURS: Record<FaultWindow['kind'], string> = {
  partition: '#8e44ad',
  kill: '#c0392b',
  pause: '#d4a017',
  wipe: '#6d4c41',
  loss: '#1e88e5',
  bandwidth: '#43a047',
  latency: '#3949ab',
  'link-down': '#e65100',
};

/** Membership changes: a dashed line at each commit. */
export const MEMBERSHIP_COLOUR = '#00897b';

export const OUTCOME_COLOURS = { info: '#f39c12', fail: '#d62728' } as const;
export const OK_COLOURS: Record<Op['f'], string> = { read: '#2ca02c', add: '#1f5fbf', write: '#1f5fbf', delete: '#7f3fbf' };
export type Shape = 'circle' | 'square' | 'triangle';
export const SHAPES: Record<Op['f'], Shape> = { read: 'circle', add: 'square', write: 'triangle', delete: 'triangle' };

export const colourOf = (f: Op['f'], type: Pair['type']) => (type === 'ok' ? OK_COLOURS[f] : OUTCOME_COLOURS[type]);

/** Nice tick step for a span, about `target` ticks. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function fmtTick(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

export function fmtLatencyTick(ms: number): string {
  if (ms >= 1000) return `${+(ms / 1000).toPrecision(3)} s`;
  return `${+ms.toPrecision(3)} ms`;
}

export interface Frame {
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
export function faultBands(frame: Frame, faults: readonly FaultWindow[], labelRows: readonly number[]): string {
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
export function layoutLabels(faults: readonly FaultWindow[], x: (sec: number) => number): { rows: number[]; count: number } {
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

export function xAxis(frame: Frame): string {
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

export function yAxisLinear(frame: Frame, maxY: number, y: (v: number) => number, label: string): string {
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

export function yLabel(frame: Frame, label: string): string {
  const cx = 16;
  const cy = frame.top + frame.plotH / 2;
  return `<text x="${cx}" y="${cy}" transform="rotate(-90 ${cx} ${cy})" text-anchor="middle" class="axis-label">${esc(label)}</text>`;
}

export function makeFrame(width: number, plotH: number, labelRows: number, xMaxSec: number, left = 72): Frame {
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
export function markerPath(shape: Shape, x: number, y: number): string {
  const X = r1(x);
  const Y = r1(y);
  if (shape === 'triangle') return `M${X} ${r1(Y - 3.2)}l3 5.2h-6z`;
  return `M${X} ${Y}h0`;
}

export function seriesPath(shape: Shape, colour: string, d: string, opacity: number, scale = 1): string {
  if (shape === 'triangle') return `<path d="${d}" fill="${colour}" fill-opacity="${opacity}" stroke="none"/>`;
  const cap = shape === 'circle' ? 'round' : 'square';
  const width = (shape === 'circle' ? 4 : 3.4) * scale;
  return `<path d="${d}" fill="none" stroke="${colour}" stroke-opacity="${opacity}" stroke-width="${width}" stroke-linecap="${cap}"/>`;
}

export function legendMarker(shape: Shape, colour: string, x: number, y: number): string {
  return seriesPath(shape, colour, markerPath(shape, x, y), 1, 1.75);
}

/** A dashed vertical line at each committed membership change, labelled inside the plot (three staggered rows). */
export function membershipMarks(frame: Frame, events: readonly MembershipEvent[]): string {
  const commits = events.filter((e) => e.action === 'commit' && e.outcome === 'ok');
  return commits
    .map((e, i) => {
      const x = r1(frame.x(e.timeMs / 1000));
      const label = `${e.kind ?? 'change'} ${e.nodes.join(',')}`;
      const y = frame.top + 11 + (i % 3) * 12;
      return `<g class="membership-mark"><title>${esc(`committed at ${fmtSec(e.timeMs)}: ${label}`)}</title>` +
        `<line x1="${x}" x2="${x}" y1="${frame.top}" y2="${frame.top + frame.plotH}" stroke="${MEMBERSHIP_COLOUR}" stroke-width="1.2" stroke-dasharray="4 3"/>` +
        `<text x="${r1(x + 3)}" y="${y}" class="band-label" fill="${MEMBERSHIP_COLOUR}">${esc(label)}</text></g>`;
    })
    .join('\n');
}
