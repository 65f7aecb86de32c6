// What the observability tests share: the rules (deploy/prometheus/alerts.yml), their unit tests, the
// Grafana dashboard (deploy/grafana/kvorum.json), the PromQL each holds, the metric names that PromQL
// reads, and a parse of a node's Prometheus text exposition.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './paths.js';

export const alertsPath = join(repoRoot, 'deploy', 'prometheus', 'alerts.yml');
export const alertsTestPath = join(repoRoot, 'deploy', 'prometheus', 'alerts.test.yml');
export const dashboardPath = join(repoRoot, 'deploy', 'grafana', 'kvorum.json');

export interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export const readYaml = (path: string): any => parse(readFileSync(path, 'utf8'));

export function rules(): Rule[] {
  return (readYaml(alertsPath).groups as { rules: Rule[] }[]).flatMap((g) => g.rules);
}

export const dashboard = (): any => JSON.parse(readFileSync(dashboardPath, 'utf8'));

/** Every PromQL expression of the dashboard: panel targets and query variables, where. */
export function dashboardExpressions(): { where: string; expr: string }[] {
  const d = dashboard();
  const targets = (d.panels as any[]).flatMap((p) => ((p.targets ?? []) as any[]).map((t) => ({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: String(t.expr) })));
  const variables = (d.templating.list as any[]).filter((v) => v.type === 'query').map((v) => ({ where: `variable ${v.name}`, expr: String(v.query?.query ?? v.query) }));
  return [...targets, ...variables];
}

/** The dashboard's expressions made plain PromQL: Grafana's variables replaced by values promtool accepts. */
export function asPlainPromql(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replace(/\$\{?(\w+)\}?/g, '.*');
}

/**
 * Metric names an expression reads: identifiers that are kvorum_*, process_*, nodejs_*, `up`, or a
 * recording rule's name (it has a colon). Strings, label matchers, ranges and by/on clauses are
 * dropped first, so label names and values are not taken for metrics.
 */
export function metricNamesIn(expr: string): string[] {
  const plain = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = plain.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((n) => n.includes(':') || /^(kvorum|process|nodejs)_/.test(n) || n === 'up'))];
}

/** One node's /metrics: metric families by name (their TYPE) and the sample names seen. */
export interface Exposition {
  readonly families: ReadonlyMap<string, string>;
  readonly samples: ReadonlyMap<string, { labels: string; value: number }[]>;
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, string>();
  const samples = new Map<string, { labels: string; value: number }[]>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, type[2]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!sample) continue;
    const list = samples.get(sample[1]!) ?? [];
    list.push({ labels: sample[2] ?? '', value: Number(sample[3]) });
    samples.set(sample[1]!, list);
  }
  return { families, samples };
}

/** The family a sample name belongs to: itself, or a histogram's/summary's for _bucket/_sum/_count. */
export function familyOf(name: string, exposition: Exposition): string | undefined {
  if (exposition.families.has(name)) return name;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!base) return undefined;
  const type = exposition.families.get(base[1]!);
  if (type === 'histogram' || (type === 'summary' && base[2] !== 'bucket')) return base[1];
  return undefined;
}

/** promtool's answer to `args`, or undefined when promtool is not installed. Bounded by `timeoutMs`. */
export function promtool(args: readonly string[], timeoutMs = 60_000): { status: number | null; output: string } | undefined {
  const run = spawnSync('promtool', args, { cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

export const promtoolMissing =
  'promtool not found: the rule checks need it. `.ci/run` installs it (apt-get install -y prometheus); elsewhere install Prometheus (promtool) on the PATH.';
