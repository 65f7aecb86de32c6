// deploy/prometheus and deploy/grafana: promtool checks the rules, runs their unit tests and parses
// every dashboard query; every alert has a firing and a quiet test case; every recording rule a query
// reads is defined; the dashboard is importable (datasource and node variables, unique panel ids,
// every panel with a datasource and targets). Without promtool the promtool checks fail under CI=true
// (`.ci/run` installs it) and are skipped elsewhere. (test/integration/observability.test.ts checks
// the metric names against a real node.)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { repoRoot } from '../kit/paths.js';
import {
  alertsPath,
  alertsTestPath,
  asPlainPromql,
  dashboard,
  dashboardExpressions,
  metricNamesIn,
  promtool,
  promtoolMissing,
  readYaml,
  rules,
} from '../kit/observability.js';

const inCi = process.env['CI'] === 'true';

/** promtool `args` must succeed; a missing promtool skips (fails under CI). */
function expectPromtool(t: TestContext, args: readonly string[]): void {
  const run = promtool(args);
  if (run === undefined) {
    if (inCi) assert.fail(promtoolMissing);
    t.skip(promtoolMissing);
    return;
  }
  assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${run.output}`);
}

interface AlertCase {
  readonly alertname: string;
  readonly exp_alerts?: unknown[];
}

describe('Prometheus rules (deploy/prometheus)', () => {
  it('promtool check rules accepts alerts.yml', (t) => expectPromtool(t, ['check', 'rules', alertsPath]));

  it('promtool test rules passes alerts.test.yml', (t) => expectPromtool(t, ['test', 'rules', alertsTestPath]));

  it('promtool check config accepts the example prometheus.yml (and the rules it loads)', (t) =>
    expectPromtool(t, ['check', 'config', join(repoRoot, 'deploy', 'prometheus', 'prometheus.yml')]));

  it('every dashboard query is PromQL that promtool parses (variables replaced)', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kvorum-dashboard-rules-'));
    try {
      const panelRules = dashboardExpressions()
        .filter((e) => e.where.startsWith('panel'))
        .map((e, i) => ({ record: `dashboard:query:${i}`, expr: asPlainPromql(e.expr) }));
      const path = join(dir, 'dashboard-rules.yml');
      writeFileSync(path, stringify({ groups: [{ name: 'dashboard', rules: panelRules }] }));
      expectPromtool(t, ['check', 'rules', path]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every alert has a severity, a summary and a description, and a firing and a quiet test case', () => {
    const alerts = rules().filter((r) => r.alert !== undefined);
    assert.ok(alerts.length >= 9, `only ${alerts.length} alerts`);
    const cases = (readYaml(alertsTestPath).tests as { alert_rule_test?: AlertCase[] }[]).flatMap((test) => test.alert_rule_test ?? []);
    for (const alert of alerts) {
      assert.match(alert.labels?.['severity'] ?? '', /^(critical|warning|info)$/, `${alert.alert}: severity`);
      assert.ok(alert.annotations?.['summary'], `${alert.alert}: summary`);
      assert.ok((alert.annotations?.['description'] ?? '').length > 80, `${alert.alert}: a description saying what to do`);
      const mine = cases.filter((c) => c.alertname === alert.alert);
      assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert.alert}: no test case where it fires`);
      assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert.alert}: no test case where it stays quiet`);
    }
    const names = new Set(alerts.map((a) => a.alert));
    for (const c of cases) assert.ok(names.has(c.alertname), `alerts.test.yml tests an unknown alert ${c.alertname}`);
  });

  it('every recording rule a rule or the dashboard reads is defined in alerts.yml', () => {
    const recorded = new Set(rules().flatMap((r) => (r.record === undefined ? [] : [r.record])));
    const expressions = [...rules().map((r) => ({ where: r.alert ?? r.record!, expr: r.expr })), ...dashboardExpressions()];
    for (const { where, expr } of expressions) {
      for (const name of metricNamesIn(expr).filter((n) => n.includes(':'))) assert.ok(recorded.has(name), `${where} reads ${name}, which no rule records`);
    }
  });

  it('docs/operations-monitoring.md lists every alert with its severity, and every recording rule', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'operations-monitoring.md'), 'utf8');
    for (const rule of rules()) {
      const row = rule.alert === undefined ? `| \`${rule.record}\` |` : `| \`${rule.alert}\` | ${rule.labels?.['severity']} |`;
      assert.ok(doc.includes(row), `docs/operations-monitoring.md lacks the row ${row}`);
    }
  });

  it('the Kubernetes scrape example keeps the job name the rules expect and loads alerts.yml', () => {
    const config = readYaml(join(repoRoot, 'deploy', 'prometheus', 'prometheus-kubernetes.yml'));
    assert.deepEqual(config.rule_files, ['alerts.yml']);
    const job = (config.scrape_configs as any[]).find((s) => s.job_name === 'kvorum');
    assert.ok(job?.kubernetes_sd_configs?.length, 'a kvorum job with kubernetes_sd_configs');
  });
});

describe('Grafana dashboard (deploy/grafana/kvorum.json)', () => {
  it('parses, and has a Prometheus datasource variable, a node variable and schemaVersion 39', () => {
    const d = dashboard();
    assert.equal(d.schemaVersion, 39);
    const variables = d.templating.list as any[];
    const datasource = variables.find((v) => v.name === 'datasource');
    assert.equal(datasource?.type, 'datasource');
    assert.equal(datasource?.query, 'prometheus');
    const node = variables.find((v) => v.name === 'node');
    assert.equal(node?.type, 'query');
    assert.equal(node?.datasource?.uid, '${datasource}');
  });

  it('every panel has a unique id; every non-row panel the datasource variable, targets with a query, and a place', () => {
    const panels = dashboard().panels as any[];
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate panel ids: ${ids.join(',')}`);
    for (const p of panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, '${datasource}', `panel ${p.id} "${p.title}": datasource`);
      assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `panel ${p.id} "${p.title}": targets`);
      for (const t of p.targets) assert.ok(t.expr && t.refId, `panel ${p.id} "${p.title}": a target without expr/refId`);
      assert.equal(new Set(p.targets.map((t: any) => t.refId)).size, p.targets.length, `panel ${p.id}: duplicate refIds`);
      assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0, `panel ${p.id}: gridPos`);
    }
  });

  it('shows what operators need: requests, latency, quorum, hints, repairs, anti-entropy, transfers, siblings, event loop, RSS, disk', () => {
    const read = new Set(dashboardExpressions().flatMap((e) => metricNamesIn(e.expr)));
    const needed = [
      'kvorum_http_requests_total',
      'kvorum_http_request_duration_seconds_bucket',
      'kvorum_quorum_outcomes_total',
      'kvorum_hints_pending',
      'kvorum_read_repairs_total',
      'kvorum_ae_keys_repaired_total',
      'kvorum_transfer_keys_total',
      'kvorum_read_siblings_bucket',
      'kvorum_event_loop_delay_seconds',
      'process_resident_memory_bytes',
      'kvorum_data_dir_free_bytes',
    ];
    for (const name of needed) assert.ok(read.has(name), `no panel reads ${name}`);
  });
});
