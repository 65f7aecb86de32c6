// The printed summary of a run: seed, counts per family, answers seen, and each distinct finding
// with one example as replayable bytes and the command that sends that case again.
import { families } from './types.js';
import type { Finding } from './findings.js';
import type { FuzzReport } from './runner.js';

const findingsShownMax = 40;
const relatedShownMax = 6;
const seenInShownMax = 10;

export const replayCommand = (seed: number, worker: number, index: number) => `npm run fuzz -- --seed ${seed} --replay ${worker}.${index}`;

function counts(map: ReadonlyMap<string, number>): string {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} x${n}`)
    .join(', ');
}

const indent = (text: string, prefix: string) =>
  text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');

export function formatFinding(seed: number, f: Finding, n: number): string {
  const e = f.example;
  const lines = [`[${n}] ${f.check} x${f.count}  ${f.summary}`, `    ${f.message}`];
  if (f.seenIn.size > 1) lines.push(`    seen in: ${[...f.seenIn].slice(0, seenInShownMax).join(', ')}${f.seenIn.size > seenInShownMax ? `, … (${f.seenIn.size} kinds)` : ''}`);
  if (e.why && e.why.length > 0) lines.push(`    allowed because: ${e.why.join('; ')}`);
  if (e.tags && e.tags.length > 0) lines.push(`    case tags: ${e.tags.join(' ')}`);
  if (e.caseId) lines.push(`    example: case ${e.caseId.worker}.${e.caseId.index} step ${e.step} sent to ${e.node}`);
  if (e.request) lines.push(`    request bytes: ${e.request}`);
  if (e.response) lines.push(indent(e.response, '    answer: '));
  if (e.related && e.related.length > 0) {
    lines.push(`    last requests to ${e.node} (cut off first, then answered, newest first):`);
    for (const r of e.related.slice(0, relatedShownMax)) lines.push(`      ${r}`);
  }
  if (e.logTail) lines.push('    node output:', indent(e.logTail, '      '));
  if (e.caseId) lines.push(`    replay: ${replayCommand(seed, e.caseId.worker, e.caseId.index)}`);
  return lines.join('\n');
}

/** The summary, a one-line index of every finding, then the details of the first `detailed`. */
export function formatReport(r: FuzzReport, detailed = findingsShownMax): string {
  const lines = [
    `kvorum fuzz: seed ${r.seed}, ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.workers} worker(s), ${r.stats.totalCases()} cases, ${r.stats.totalRequests()} requests` +
      `, ${r.stats.skippedSteps} steps skipped, ${r.restarts} node restart(s) after crashes${r.stoppedEarly ? ', STOPPED EARLY (restarts used up)' : ''}`,
  ];
  for (const family of families) {
    const statuses = r.stats.statuses.get(family);
    lines.push(`  ${family}: ${r.stats.cases.get(family) ?? 0} cases, ${r.stats.requests.get(family) ?? 0} requests; answers: ${statuses ? counts(statuses) : '-'}`);
  }
  lines.push(`  case kinds: ${counts(r.stats.caseNames)}`);
  if (r.findings.length === 0) {
    lines.push('  findings: none');
    return lines.join('\n');
  }
  lines.push(`  findings: ${r.findings.length} distinct, ${r.findingsTotal} in all (seed ${r.seed})`);
  r.findings.forEach((f, i) => lines.push(`    [${i + 1}] ${f.check} x${f.count}  ${f.summary}`));
  lines.push('');
  r.findings.slice(0, detailed).forEach((f, i) => lines.push(formatFinding(r.seed, f, i + 1), ''));
  if (r.findings.length > detailed) lines.push(`  … the details of ${r.findings.length - detailed} more findings are not shown`);
  lines.push(`replay the whole run: KVORUM_FUZZ_SEED=${r.seed} node --import tsx --test test/fuzz/fuzz.test.ts, or npm run fuzz -- --seed ${r.seed}`);
  return lines.join('\n');
}
