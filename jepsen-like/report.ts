// The run report: one self-contained report.html (inline CSS and SVG, no scripts, no external
// assets). A header with the verdict; a latency-over-time plot after Jepsen's latency-raw (one point
// per completed operation at its invocation time, log-scale latency, coloured by outcome, one marker
// shape per function, fault windows shaded, committed membership changes as dashed lines); a
// throughput plot; then the checkers' tables, the fault schedule and the membership events. All
// text is escaped.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Results } from './checkers/index.js';
import { pairOps } from './checkers/ops.js';
import type { FaultWindow, MembershipEvent, Op, RunInfo } from './history.js';
import { esc } from './report/format.js';
import { latencyPlot, throughputPlot } from './report/plots.js';
import { churnSection, convergenceSection, faultSection, header, membershipSection, perfSection, registerSection, setSection } from './report/sections.js';

export { downsample, MAX_POINTS } from './report/plots.js';
export { esc } from './report/format.js';

export interface ReportInput {
  info: RunInfo;
  history: readonly Op[];
  faults: readonly FaultWindow[];
  results: Results;
  /** The membership nemesis's events, in order (runs with it only). */
  membershipEvents?: readonly MembershipEvent[];
}

export async function writeReport(dir: string, input: ReportInput): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.html'), renderReport(input), 'utf8');
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
  const membership = input.membershipEvents ?? [];
  const pairs = pairOps(history);
  const xMaxSec = Math.max(0.001, results.perf.durationMs / 1000, ...faults.map((w) => (w.endMs ?? w.startMs) / 1000));
  const latency = latencyPlot(pairs, faults, xMaxSec, membership);
  const rate = throughputPlot(pairs, faults, xMaxSec, membership);
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
${churnSection(results)}
${perfSection(results)}
${faultSection(faults)}
${membershipSection(results, membership)}
<footer>Generated by jepsen-like/report.ts. Times are since the start of the run.</footer>
</main>
</body></html>
`;
}
