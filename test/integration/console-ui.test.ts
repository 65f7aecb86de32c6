// The web console (/ui) in a real browser: headless Chromium (puppeteer-core, the system's browser:
// CHROMIUM_PATH, default /usr/bin/chromium) on n1 of a 3-node cluster. It lists the three members
// up and draws one ring sector per partition; n3 SIGSTOPped (SIGCONT in finally) is shown down.
// The page loads nothing from another origin and logs no error. The screenshot goes to a temp dir
// (path printed), and to docs/img/console.png (the README's) with KVORUM_UPDATE_SCREENSHOT=1. With --auth-file, the page without a
// token shows the 401, and with an admin token it works.
// Without Chromium the test fails under CI=true and is skipped elsewhere (as docs-ui.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium, screenshot, skipWithoutChromium } from '../kit/browser.js';
import { cliPath } from '../kit/paths.js';
import { runNode } from '../kit/run-node.js';
import { startCluster, withLogs, type TestCluster, type TestNode } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';
import { http } from '../kit/http.js';
import type { OverviewView } from '../../src/api/views.js';

const renderDeadlineMs = 30_000;
/** A paused node is shown down within this: the failure detector's suspicion, plus a poll. */
const downDeadlineMs = 15_000;

interface MemberRow {
  readonly id: string;
  readonly status: string;
}

/** The members table as rendered (run in the page: no DOM types here). */
async function memberRows(page: Page): Promise<MemberRow[]> {
  return (await page.evaluate(`Array.from(document.querySelectorAll('#members tbody tr[data-member]')).map((row) => ({
    id: row.getAttribute('data-member'), status: row.getAttribute('data-status'),
  }))`)) as MemberRow[];
}

/** Writes to `urls` in turn, one at a time, until stop() (which waits for the last one): traffic for the sparklines. */
function writeLoad(urls: readonly string[]): { stop: () => Promise<number> } {
  let stopping = false;
  let written = 0;
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const res = await http('PUT', `${urls[i % urls.length]}/kv/console-${i % 500}`, { body: `value ${i}`, timeoutMs: 3000 }).catch(() => undefined);
      if (res?.status === 204 || res?.status === 200) written++;
    }
  })();
  return { stop: async () => ((stopping = true), await loop, written) };
}

const statusOf = async (page: Page, id: string) => (await memberRows(page)).find((r) => r.id === id)?.status;

/** A page that records page errors, console errors and every request to another origin than `origin`. */
async function watchedPage(browser: Browser, origin: string): Promise<{ page: Page; failures: string[]; foreign: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const failures: string[] = [];
  const foreign: string[] = [];
  page.on('pageerror', (err) => failures.push(`page error: ${(err as Error).message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') failures.push(`console error: ${message.text()}`);
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) foreign.push(url);
  });
  return { page, failures, foreign };
}

describe('/ui in a browser (3 nodes)', () => {
  it('lists the members up, draws every partition, shows a paused n3 down', async (t) => {
    if (skipWithoutChromium(t, '/ui')) return;
    let cluster: TestCluster | undefined;
    let browser: Browser | undefined;
    let paused: number | undefined;
    let load: ReturnType<typeof writeLoad> | undefined;
    try {
      cluster = await startCluster({ nodes: 3 });
      const [n1, , n3] = cluster.nodes as [TestNode, TestNode, TestNode];
      await withLogs(cluster.logs, async () => {
        const opened = await openBrowser(n1.url);
        browser = opened.browser;
        const { page: tab, failures, foreign } = opened;
        const response = await tab.goto(`${n1.url}/ui`, { waitUntil: 'load', timeout: renderDeadlineMs });
        assert.match(String(response?.headers()['content-security-policy']), /default-src 'self'/);
        await waitFor(async () => {
          const rows = await memberRows(tab);
          return rows.length === 3 && rows.every((r) => r.status === 'up') ? rows : undefined;
        }, { timeoutMs: renderDeadlineMs, intervalMs: 100, what: 'the console to list n1, n2, n3 up' });
        const overview = JSON.parse((await http('GET', `${n1.url}/admin/overview`)).body.toString('utf8')) as { partitions: number };
        const sectors = (await tab.evaluate(`document.querySelectorAll('#ring .partition').length`)) as number;
        assert.equal(sectors, overview.partitions, 'one ring sector per partition');
        load = writeLoad([n1.url, cluster!.nodes[1]!.url]);
        paused = n3.pid();
        assert.ok(paused !== undefined);
        process.kill(paused, 'SIGSTOP');
        await waitFor(async () => ((await statusOf(tab, 'n3')) === 'down' ? true : undefined), { timeoutMs: downDeadlineMs, intervalMs: 200, what: 'the console to show n3 down' });
        assert.equal(await statusOf(tab, 'n2'), 'up');
        // A few more polls with the writes (and n3's hints) on the sparklines, for the screenshot.
        await waitFor(async () => ((await tab.evaluate(`document.querySelector('#rate-spark polyline')?.getAttribute('points')?.split(' ').length ?? 0`)) as number) >= 8 || undefined,
          { timeoutMs: renderDeadlineMs, intervalMs: 200, what: 'eight points on the rate sparkline' });
        assert.ok((await load.stop()) > 0, 'writes were acknowledged with n3 paused');
        await screenshot(tab, 'console.png', true);
        await checkOverview(n1.url);
        assert.deepEqual(foreign, [], 'no request to another origin');
        assert.deepEqual(failures, [], 'no page or console error');
      });
    } finally {
      if (paused !== undefined) process.kill(paused, 'SIGCONT');
      await load?.stop();
      await (browser as Browser | undefined)?.close().catch(() => (browser as Browser | undefined)?.process()?.kill('SIGKILL'));
      await cluster?.stop();
    }
  });
});

/** GET /admin/overview and `kvorum status` on n1 with n3 paused and writes made meanwhile. */
async function checkOverview(url: string): Promise<void> {
  const res = await http('GET', `${url}/admin/overview`, { timeoutMs: 10_000 });
  assert.equal(res.status, 200);
  const view = res.json<OverviewView>();
  const byId = new Map(view.members.map((m) => [m.id, m]));
  const [m1, m3] = [byId.get('n1')!, byId.get('n3')!];
  assert.deepEqual([m3.reachable, m3.ringVersion, m3.hintsHeld, m3.antiEntropy, m3.requests], [false, null, null, null, null], 'n3: unreachable, nothing it says');
  assert.ok(m3.hintsFor > 0, 'n1 and n2 hold hints for the paused n3');
  assert.equal(m1.reachable, true);
  assert.equal(m1.ringVersion, view.ringVersion);
  assert.ok(m1.requests!.count > 0 && m1.requests!.buckets.at(-1)!.le === null, 'n1 counts the client writes, last bucket is +Inf');
  assert.ok(m1.antiEntropy !== null && m1.antiEntropy.exchanges > 0 && Number.isInteger(m1.antiEntropy.sinceLastMs), 'n1 completed an anti-entropy exchange (lag in whole ms)');
  assert.equal(view.ring.length, view.partitions);
  const status = await runNode([cliPath, 'status', '--url', url], { deadlineMs: 30_000 });
  assert.equal(status.code, 0, status.stderr);
  const text = status.stdout.toString('utf8');
  assert.match(text, /HINTS_PENDING\s+RING_VERSION\s+HINTS_HELD\s+AE_LAG_S/);
  assert.match(text, /\(n3 did not answer n1/);
}

/** Chromium with a watched page on `url`'s origin. */
async function openBrowser(url: string): Promise<{ browser: Browser; page: Page; failures: string[]; foreign: string[] }> {
  const browser = await launchChromium(renderDeadlineMs);
  return { browser, ...(await watchedPage(browser, new URL(url).origin)) };
}

describe('/ui with --auth-file', () => {
  let dir = '';
  let authFile = '';
  let adminToken = '';
  let readToken = '';
  const create = async (role: string) => {
    const run = await runNode([cliPath, 'token', 'create', '--role', role, '--auth-file', authFile], { deadlineMs: 30_000 });
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.toString('utf8').trim();
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kvorum-console-auth-'));
    authFile = join(dir, 'auth.json');
    adminToken = await create('admin');
    readToken = await create('read');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('without a token the page shows the 401, with a read token the 403; with an admin token it shows the members', async (t) => {
    if (skipWithoutChromium(t, '/ui')) return;
    let cluster: TestCluster | undefined;
    let browser: Browser | undefined;
    try {
      cluster = await startCluster({ nodes: 3, extraArgs: ['--auth-file', authFile] });
      const n1 = cluster.nodes[0]!;
      await withLogs(cluster.logs, async () => {
        const opened = await openBrowser(n1.url);
        browser = opened.browser;
        const { page } = opened;
        await page.goto(`${n1.url}/ui`, { waitUntil: 'load', timeout: renderDeadlineMs });
        const problemShown = (status: string) => waitFor(async () => {
          const text = (await page.evaluate(`document.getElementById('auth').hidden ? '' : document.getElementById('problem').textContent`)) as string;
          return text.includes(status) ? text : undefined;
        }, { timeoutMs: renderDeadlineMs, intervalMs: 100, what: `the page to show the ${status} and ask for a token` });
        assert.match(await problemShown('401'), /401 unauthorized: this node needs an admin token/);
        await page.type('#token', readToken);
        await page.click('#auth button[type=submit]');
        assert.match(await problemShown('403'), /403 forbidden: the token is not an admin token/);
        assert.equal((await memberRows(page)).length, 0, 'nothing shown without an admin token');
        await page.type('#token', adminToken);
        await page.click('#auth button[type=submit]');
        await waitFor(async () => ((await memberRows(page)).filter((r) => r.status === 'up').length === 3 ? true : undefined), {
          timeoutMs: renderDeadlineMs, intervalMs: 100, what: 'the console to list the members once given the token',
        });
        assert.equal(await page.evaluate(`document.getElementById('problem').hidden`), true, 'the 401 message is gone');
        assert.deepEqual(opened.foreign, [], 'no request to another origin');
      });
    } finally {
      await (browser as Browser | undefined)?.close().catch(() => (browser as Browser | undefined)?.process()?.kill('SIGKILL'));
      await cluster?.stop();
    }
  });
});
