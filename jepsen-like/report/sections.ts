// The report's HTML sections: the header with the verdict, then one per checker and the fault schedule.
import type { Results } from '../checkers/index.js';
import type { Pair } from '../checkers/ops.js';
import type { OpStats, Percentiles, PerfGroup } from '../checkers/perf.js';
import type { FaultWindow, MembershipEvent, Op, RunInfo } from '../history.js';
import { esc, fmtInt, fmtMs, fmtRate, fmtSec, kv, table } from './format.js';
import { FAULT_COLOURS, MEMBERSHIP_COLOUR } from './plot-frame.js';

export function header(info: RunInfo, results: Results, history: readonly Op[], pairs: readonly Pair[]): string {
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
    ...(info.network === undefined ? [] : [['network', info.network] as [string, string]]),
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

export function setSection(results: Results): string {
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

export function registerSection(results: Results): string {
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

export function convergenceSection(results: Results): string {
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

export function churnSection(results: Results): string {
  const s = results.supersession;
  if (!s) return '';
  const rows = [
    { label: 'acknowledged overwrites and deletes', value: fmtInt(s.acknowledged), note: 'each supersedes what its context covered' },
    { label: 'replica copies checked', value: fmtInt(s.copies), note: 'every node, every churn key, after convergence' },
    { label: 'tombstones reaped during the run', value: fmtInt(s.tombstonesReaped), note: 'at least (a restarted node counts from 0)' },
    { label: 'superseded versions still present', value: fmtInt(s.resurrected.count), bad: s.resurrected.count > 0, good: s.resurrected.count === 0 },
  ];
  const examples = table(
    ['key', 'node', 'sibling', 'superseded by'],
    s.resurrected.examples.map((r) => [esc(r.key), esc(r.node), esc(`${r.dot}${r.deleted ? ' (tombstone)' : ''}`), esc(`${r.by.f} by process ${r.by.process}, acked at ${fmtMs(r.by.ackMs)}`)]),
  );
  return `<section><h2>Churn keys: overwrites and deletes stay</h2>
${kv(rows)}
${s.resurrected.count > 0 ? `<h3>Superseded versions found${firstOf(s.resurrected.examples.length, s.resurrected.count)}</h3>${examples}` : ''}
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

export function perfSection(results: Results): string {
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

export function faultSection(faults: readonly FaultWindow[]): string {
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

const OUTCOME_CLASS: Record<MembershipEvent['outcome'], string> = { ok: 'ok', refused: 'warn', failed: 'err', 'gave-up': 'err' };

/** The membership nemesis: a summary, then one line per event (every attempt, refused ones included). */
export function membershipSection(results: Results, events: readonly MembershipEvent[]): string {
  const m = results.membership;
  if (!m) return '';
  const committed = Object.entries(m.committed).map(([kind, count]) => `${count} ${kind}`).join(', ');
  const rows = [
    { label: 'changes committed', value: esc(committed), note: 'one at a time, each staged and committed through the admin routes' },
    { label: 'changes given up', value: fmtInt(m.gaveUp), note: 'a spare that would not start, or a call refused every time (bounded retries)' },
    { label: 'admin calls refused and retried', value: fmtInt(m.refusals), note: '409 while a plan still moves, 503 claimant unreachable, or no answer' },
    { label: 'ring version', value: esc(`${m.ringVersionStart} → ${m.ringVersionEnd ?? 'no agreement'}`) },
    { label: 'ring settled after healing', value: yesNo(m.settled), bad: !m.settled, good: m.settled, note: m.settleProblem ?? 'every running node on one ring version, nothing moving' },
    { label: 'time to settle', value: esc(fmtMs(m.settleMs)), note: 'from the end of healing' },
    { label: 'members at the end', value: esc(m.finalMembers.join(' ')) },
    { label: 'acknowledged writes that may be lost', value: esc(m.lossAllowed) },
  ];
  const lines = events.map((e, i) => [
    esc(i + 1),
    esc(fmtSec(e.timeMs)),
    esc(e.change === 0 ? 'end' : `#${e.change}`),
    `<span class="swatch" style="background:${MEMBERSHIP_COLOUR}"></span>${esc(e.kind ? `${e.action} (${e.kind})` : e.action)}`,
    esc(e.nodes.join(', ')),
    `<span class="${OUTCOME_CLASS[e.outcome]}">${esc(e.outcome)}</span>`,
    esc(e.via ?? ''),
    esc(e.status ?? ''),
    esc(e.detail),
  ]);
  return `<section><h2>Membership changes</h2>
${kv(rows)}
<h3>Events (${fmtInt(events.length)})</h3>${table(['#', 'time', 'change', 'action', 'nodes', 'outcome', 'via', 'status', 'detail'], lines, 'membership')}
</section>`;
}
