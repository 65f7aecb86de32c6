// deploy/prometheus/alerts.yml in a real Prometheus scraping a real 3-node cluster: every rule
// evaluates without error, the recording rules produce series, and when n3 is SIGKILLed
// KvorumNodeDown fires for n3's target alone and KvorumMemberSeenDown for member n3. The rules run
// as shipped except that each `for:` is 0s, so firing takes seconds, not minutes (promtool's unit
// tests in alerts.test.yml cover the durations). Without the prometheus binary this fails under
// CI=true (`.ci/run` installs Debian's prometheus package) and is skipped elsewhere.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alertsPath } from '../kit/observability.js';
import { freePorts } from '../kit/ports.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { unwatchPid, watchPid } from '../kit/watchdog.js';
import { http } from '../kit/http.js';

const prometheusMissing =
  'prometheus not found: this test runs it. `.ci/run` installs it (apt-get install -y prometheus); elsewhere put Prometheus on the PATH.';
const hasPrometheus = spawnSync('prometheus', ['--version'], { encoding: 'utf8', timeout: 10_000 }).status === 0;

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

let cluster: TestCluster | undefined;
let prometheus: ChildProcess | undefined;
let promUrl = '';
let dir = '';
let promLog = '';

async function api<T>(path: string): Promise<T> {
  const res = await http('GET', `${promUrl}/api/v1/${path}`);
  assert.equal(res.status, 200, res.text());
  return (res.json() as { data: T }).data;
}

/** Starts Prometheus on a free loopback port, scraping `targets` every second with the rules at `rulesFile`. */
async function startPrometheus(targets: string[], rulesFile: string): Promise<void> {
  const [port] = await freePorts(1);
  promUrl = `http://127.0.0.1:${port}`;
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, JSON.stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [rulesFile],
    scrape_configs: [{ job_name: 'kvorum', static_configs: [{ targets }] }],
  }));
  prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (prometheus.pid !== undefined) watchPid(prometheus.pid, config);
  prometheus.stderr?.setEncoding('utf8').on('data', (chunk: string) => (promLog = (promLog + chunk).slice(-20_000)));
  await waitFor(async () => (await http('GET', `${promUrl}/-/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: 'Prometheus ready' });
}

const activeAlerts = async () => (await api<{ alerts: PromAlert[] }>('alerts')).alerts;

describe('the alert rules in a real Prometheus over a real cluster', { skip: !hasPrometheus && process.env['CI'] !== 'true' ? prometheusMissing : false }, () => {
  before(async () => {
    assert.ok(hasPrometheus, prometheusMissing);
    dir = mkdtempSync(join(tmpdir(), 'kvorum-prometheus-'));
    // Every `for:` becomes 0s: an alert fires at the first evaluation its condition holds.
    const rules = join(dir, 'alerts.yml');
    writeFileSync(rules, readFileSync(alertsPath, 'utf8').replace(/^(\s+)for: \S+$/gm, '$1for: 0s'));
    cluster = await startCluster({ nodes: 3, extraArgs: ['--probe-interval-ms', '200'] });
    await startPrometheus(cluster.nodes.map((n) => new URL(n.url).host), rules);
  });
  after(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      prometheus.kill('SIGKILL');
      unwatchPid(prometheus.pid);
    }
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => `${cluster?.logs() ?? ''}\n[prometheus]\n${promLog}`, fn));

  test('every rule evaluates without error and the recording rules produce series, with no alert firing', async () => {
    const n1 = cluster!.node('n1');
    for (let i = 0; i < 30; i++) assert.equal((await http('PUT', `${n1.url}/kv/live-${i}`, { body: `v${i}` })).status, 204);
    const up = await waitFor(async () => {
      const result = (await api<{ result: { value: [number, string] }[] }>('query?query=up')).result;
      return result.length === 3 && result.every((r) => r.value[1] === '1') ? result : undefined;
    }, { timeoutMs: 30_000, what: 'Prometheus scrapes the three nodes' });
    assert.equal(up.length, 3);
    type Groups = { groups: { rules: { type: string; name: string; health: string; lastError?: string }[] }[] };
    const all = await waitFor(async () => {
      const list = (await api<Groups>('rules')).groups.flatMap((g) => g.rules);
      return list.every((r) => r.health === 'ok') ? list : undefined;
    }, { timeoutMs: 30_000, what: 'every rule evaluated once, healthy' });
    assert.ok(all.filter((r) => r.type === 'alerting').length >= 10, 'the alerts are loaded');
    const recorded = ['job_route_method_status:kvorum_http_requests:rate5m', 'node:kvorum_data_dir_free_bytes:ratio'];
    for (const name of recorded) {
      await waitFor(async () => ((await api<{ result: unknown[] }>(`query?query=${encodeURIComponent(name)}`)).result.length > 0 ? true : undefined), {
        timeoutMs: 30_000,
        what: `${name} has series`,
      });
    }
    assert.deepEqual((await activeAlerts()).map((a) => a.labels['alertname']), [], 'a healthy cluster pages nobody');
  });

  test('n3 killed: KvorumNodeDown fires for its target alone, KvorumMemberSeenDown for member n3', async () => {
    const n3 = cluster!.node('n3');
    n3.kill('SIGKILL');
    const firing = await waitFor(async () => {
      const alerts = (await activeAlerts()).filter((a) => a.state === 'firing');
      const names = new Set(alerts.map((a) => a.labels['alertname']));
      return names.has('KvorumNodeDown') && names.has('KvorumMemberSeenDown') ? alerts : undefined;
    }, { timeoutMs: 45_000, what: 'both alerts firing' });
    const nodeDown = firing.filter((a) => a.labels['alertname'] === 'KvorumNodeDown');
    assert.deepEqual(nodeDown.map((a) => a.labels['instance']), [new URL(n3.url).host], 'only the dead node is down');
    const seenDown = firing.filter((a) => a.labels['alertname'] === 'KvorumMemberSeenDown');
    assert.deepEqual([...new Set(seenDown.map((a) => a.labels['member']))], ['n3']);
  });
});
