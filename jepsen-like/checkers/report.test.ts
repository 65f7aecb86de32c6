import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRun } from './index.js';
import { downsample, esc, MAX_POINTS, renderReport, writeReport } from '../report.js';
import { call, fault, history, runInfo, syntheticSetRun } from './test-helpers.js';
import type { MembershipEvent, MembershipSummary } from '../history.js';

describe('report', () => {
  it('writes report.html with the latency plot, the fault bands and the verdict', async () => {
    const run = syntheticSetRun({ timeSec: 20, opsPerSec: 100 });
    const results = checkRun(run);
    assert.equal(results.valid, true, results.reasons.join('; '));
    const dir = await mkdtemp(join(tmpdir(), 'kvorum-report-'));
    try {
      await writeReport(dir, { info: run.info, history: run.history, faults: run.faults, results });
      const html = await readFile(join(dir, 'report.html'), 'utf8');
      assert.match(html, /^<!DOCTYPE html>/);
      assert.match(html, /<svg[^>]*id="latency-plot"/);
      assert.match(html, /<svg[^>]*id="rate-plot"/);
      for (const kind of ['partition', 'kill', 'pause']) {
        // one band per window in each of the two plots
        assert.equal(html.split(`<g class="fault-band" data-kind="${kind}">`).length - 1, 2, kind);
      }
      assert.match(html, /<div class="verdict-word" id="verdict">VALID<\/div>/);
      assert.match(html, /<header class="valid">/);
      assert.match(html, /<g class="series" data-f="add" data-type="ok">/);
      assert.match(html, /<g class="series" data-f="read" data-type="fail">/);
      assert.match(html, /<h2>Set<\/h2>/);
      assert.match(html, /<h2>Fault schedule<\/h2>/);
      assert.doesNotMatch(html, /Downsampled/);
      assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no scripts, no external assets');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows an invalid verdict and its reasons, and escapes text', () => {
    const h = history(call(0, 'add', 'k<q>', 1, 0, 10, 'ok'), call(0, 'add', 'k<q>', 2, 20, 30, 'ok'));
    const info = runInfo('set', { nemeses: ['<script>alert(1)</script>'] });
    const faults = [{ ...fault('partition', 5, 25), description: 'a & b <u>"quoted"</u>' }];
    const results = checkRun({
      info, history: h, faults,
      finalReads: [{ key: 'k<q>', node: 'n1', status: 200, value: [1] }],
      replicaVersions: [{ key: 'k<q>', node: 'n1', version: 'v' }],
      convergenceMs: null,
    });
    assert.equal(results.valid, false);
    const html = renderReport({ info, history: h, faults, results });
    assert.match(html, /id="verdict">INVALID</);
    assert.match(html, /<header class="invalid">/);
    assert.match(html, /1 acknowledged add\(s\) lost/);
    assert.match(html, /did not converge/);
    assert.doesNotMatch(html, /<script>|<q>|<u>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /a &amp; b &lt;u&gt;&quot;quoted&quot;&lt;\/u&gt;/);
    assert.match(html, /k&lt;q&gt;/);
  });

  it('renders a register run and a run with no operations', () => {
    const h = history(call(0, 'write', 'r', 1, 0, 10, 'ok'), call(1, 'read', 'r', 1, 20, 25, 'ok', { quorum: true }));
    const info = runInfo('register', { nemeses: [] });
    const results = checkRun({ info, history: h, faults: [], finalReads: [], replicaVersions: [], convergenceMs: 5 });
    assert.match(renderReport({ info, history: h, faults: [], results }), /Register: monotonic reads under quorum/);
    const empty = checkRun({ info, history: [], faults: [fault('kill', 0, undefined)], finalReads: [], replicaVersions: [], convergenceMs: null });
    const html = renderReport({ info, history: [], faults: [fault('kill', 0, undefined)], results: empty });
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /NaN|Infinity/);
  });

  it('downsamples deterministically above the limit, keeping every fail and info', () => {
    const points = Array.from({ length: 120_000 }, (_, i) => ({ i, type: i % 1000 === 0 ? 'info' : 'ok' }));
    const a = downsample(points);
    const b = downsample(points);
    assert.equal(a.sampled, true);
    assert.equal(a.kept.length, MAX_POINTS);
    assert.deepEqual(a.kept, b.kept);
    assert.equal(a.kept.filter((p) => p.type === 'info').length, 120);
    assert.deepEqual(downsample(points.slice(0, 10)), { kept: points.slice(0, 10), sampled: false });
  });

  it('says so in the page when it downsampled', () => {
    const run = syntheticSetRun({ timeSec: 60, opsPerSec: 3000, processes: 30, readFraction: 0.02 });
    assert.ok(run.history.length / 2 > MAX_POINTS, `${run.history.length / 2} ops`);
    const results = checkRun(run);
    const html = renderReport({ info: run.info, history: run.history, faults: run.faults, results });
    assert.match(html, /Downsampled: showing 50,000 of [\d,]+ points/);
  });

  it('shows the membership changes: the summary, one line per event, a dashed line per commit; a ring that did not settle is invalid', () => {
    const run = syntheticSetRun({ timeSec: 20, opsPerSec: 50 });
    const summary: MembershipSummary = {
      committed: { join: 1, leave: 1, replace: 0, remove: 0 }, gaveUp: 0, refusals: 1, ringVersionStart: 0, ringVersionEnd: null,
      settled: false, settleMs: 180_000, settleProblem: '3 partitions still moving (as n2 sees it)', finalMembers: ['n1:valid', 'n6:valid'], lossAllowed: 'none',
    };
    const events: MembershipEvent[] = [
      { timeMs: 2000, change: 1, action: 'start', nodes: ['n6'], outcome: 'ok', via: 'n1', detail: 'started with --join' },
      { timeMs: 2500, change: 1, action: 'commit', kind: 'join', nodes: ['n6'], outcome: 'refused', via: 'n2', status: 503, detail: 'the claimant n1 <cannot> be reached' },
      { timeMs: 4000, change: 1, action: 'commit', kind: 'join', nodes: ['n6'], outcome: 'ok', via: 'n3', detail: 'ring version 2' },
      { timeMs: 9000, change: 2, action: 'commit', kind: 'leave', nodes: ['n5'], outcome: 'ok', via: 'n3', detail: 'ring version 40' },
    ];
    const results = checkRun({ ...run, membership: summary });
    assert.equal(results.valid, false);
    assert.match(results.reasons.join('; '), /membership: the ring did not settle after healing \(3 partitions still moving/);
    const html = renderReport({ info: run.info, history: run.history, faults: run.faults, results, membershipEvents: events });
    assert.match(html, /<h2>Membership changes<\/h2>/);
    assert.match(html, /1 join, 1 leave, 0 replace, 0 remove/);
    assert.match(html, /Events \(4\)/);
    assert.equal(html.split('<table class="membership">')[1]!.split('</table>')[0]!.split('<tr>').length - 2, 4, 'one row per event');
    assert.match(html, /the claimant n1 &lt;cannot&gt; be reached/);
    assert.equal(html.split('<g class="membership-mark">').length - 1, 4, 'two commits, in each of the two plots');
  });

  it('escapes the five HTML metacharacters', () => {
    assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
