// The metrics the dashboard and the alerts read exist on a real node: a 3-node cluster serves a
// little traffic, then every metric name in deploy/grafana/kvorum.json's and deploy/prometheus/alerts.yml's
// PromQL is in n1's /metrics (a histogram's _bucket/_sum/_count through its family), with samples
// unless it only has some under faults. kvorum_member_up and the data directory gauges tell the truth,
// and every kvorum_* family is documented in docs/api.md. (test/unit/observability-rules.test.ts runs promtool.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http } from '../kit/http.js';
import { dashboardExpressions, familyOf, metricNamesIn, parseExposition, promtoolMissing, rules, type Exposition } from '../kit/observability.js';
import { repoRoot } from '../kit/paths.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';

/** Families with no series until something goes wrong (a hint is only kept for a peer that missed a write). */
const emptyWithoutFaults = new Set(['kvorum_hints_pending']);
/** Made by Prometheus itself, not exported by nodes. */
const prometheusMade = new Set(['up']);

let cluster: TestCluster | undefined;
const test = (name: string, fn: () => Promise<void>) => it(name, () => withLogs(() => cluster?.logs() ?? '', fn));

async function scrape(url: string): Promise<Exposition> {
  const res = await http('GET', `${url}/metrics`);
  assert.equal(res.status, 200);
  return parseExposition(res.text());
}

const sampleValue = (e: Exposition, name: string, labelPart: string): number | undefined =>
  e.samples.get(name)?.find((s) => s.labels.includes(labelPart))?.value;

async function someTraffic(url: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const put = await http('PUT', `${url}/kv/obs-${i}`, { body: `value ${i}`, headers: { 'content-type': 'text/plain' } });
    assert.equal(put.status, 204, put.text());
    assert.equal((await http('GET', `${url}/kv/obs-${i}`)).status, 200);
  }
  assert.equal((await http('GET', `${url}/kv/obs-absent`)).status, 404);
  assert.equal((await http('DELETE', `${url}/kv/obs-0`)).status, 204);
}

describe('metrics read by the dashboard and the alerts (3 nodes)', () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('every metric the dashboard and the rules read is exported by a node that served traffic', async () => {
    const n1 = cluster!.node('n1');
    await someTraffic(n1.url);
    const exposition = await scrape(n1.url);
    const expressions = [...rules().map((r) => ({ where: r.alert ?? r.record!, expr: r.expr })), ...dashboardExpressions()];
    const problems: string[] = [];
    let checked = 0;
    for (const { where, expr } of expressions) {
      for (const name of metricNamesIn(expr).filter((n) => !n.includes(':') && !prometheusMade.has(n))) {
        checked++;
        const family = familyOf(name, exposition);
        if (family === undefined) problems.push(`${where}: ${name} is not in /metrics`);
        else if (!exposition.samples.has(name) && !emptyWithoutFaults.has(family)) problems.push(`${where}: ${name} has no samples`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 40, `only ${checked} metric references checked: the parse found too few`);
  });

  test('kvorum_data_dir_*_bytes give the data directory filesystem, free at most its size', async () => {
    const exposition = await scrape(cluster!.node('n1').url);
    const free = sampleValue(exposition, 'kvorum_data_dir_free_bytes', 'node="n1"');
    const size = sampleValue(exposition, 'kvorum_data_dir_size_bytes', 'node="n1"');
    assert.ok(size !== undefined && size > 0, `size ${size}`);
    assert.ok(free !== undefined && free >= 0 && free <= size, `free ${free} of ${size}`);
  });

  test('kvorum_member_up: 1 for each peer seen up, 0 once a peer is killed', async () => {
    const n1 = cluster!.node('n1');
    await waitFor(
      async () => {
        const e = await scrape(n1.url);
        return sampleValue(e, 'kvorum_member_up', 'member="n2"') === 1 && sampleValue(e, 'kvorum_member_up', 'member="n3"') === 1;
      },
      { what: 'n1 to see n2 and n3 up in /metrics', timeoutMs: 15_000 },
    );
    const self = (await scrape(n1.url)).samples.get('kvorum_member_up')!.filter((s) => s.labels.includes('member="n1"'));
    assert.deepEqual(self, [], 'a node does not report on itself');
    cluster!.node('n3').kill('SIGKILL');
    await waitFor(async () => sampleValue(await scrape(n1.url), 'kvorum_member_up', 'member="n3"') === 0, { what: 'n1 to report n3 down', timeoutMs: 15_000 });
    assert.equal(sampleValue(await scrape(n1.url), 'kvorum_member_up', 'member="n2"'), 1);
  });

  test('every kvorum_* metric family a node exports is documented in docs/api.md', async () => {
    const exposition = await scrape(cluster!.node('n1').url);
    const apiDoc = readFileSync(join(repoRoot, 'docs', 'api.md'), 'utf8');
    const undocumented = [...exposition.families.keys()].filter((name) => name.startsWith('kvorum_') && !apiDoc.includes(`| \`${name}\` |`));
    assert.deepEqual(undocumented, []);
  });

  it('promtool check metrics finds nothing wrong with the kvorum_* metrics (names, units, suffixes)', async (t) => {
    const text = (await http('GET', `${cluster!.node('n1').url}/metrics`)).text();
    const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      if (process.env['CI'] === 'true') assert.fail(promtoolMissing);
      t.skip(promtoolMissing);
      return;
    }
    // prom-client's own nodejs_* gauges end in _total, which promtool flags: only kvorum's are ours.
    const ours = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.includes('kvorum_'));
    assert.deepEqual(ours, []);
  });
});
