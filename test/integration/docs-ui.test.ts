// /docs in a real browser: one node, headless Chromium (puppeteer-core, the system's browser: set
// CHROMIUM_PATH, default /usr/bin/chromium), Swagger UI renders the document and lists the client
// routes. The screenshot goes to a temp dir (path printed), and to docs/img/docs-ui.png (the README's) with
// KVORUM_UPDATE_SCREENSHOT=1.
// Without Chromium the test fails under CI=true (`.ci/run` installs it) and is skipped elsewhere.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { repoRoot } from '../kit/paths.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';

const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const inCi = process.env['CI'] === 'true';
const missing =
  `Chromium not found at ${chromiumPath}: the /docs browser test needs it. ` +
  '`.ci/run` installs it (apt-get install -y chromium); elsewhere install it or set CHROMIUM_PATH.';
const renderDeadlineMs = 30_000;

interface Operation {
  readonly method: string;
  readonly path: string;
}

/** The operations Swagger UI shows, as rendered: method and path of each `.opblock` (run in the page: no DOM types here). */
async function renderedOperations(page: Page): Promise<Operation[]> {
  return (await page.evaluate(`Array.from(document.querySelectorAll('.opblock')).map((block) => ({
    method: block.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '',
    path: block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '',
  }))`)) as Operation[];
}

async function screenshot(page: Page): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kvorum-docs-ui-'));
  const path = join(dir, 'docs-ui.png');
  await page.screenshot({ path, fullPage: false });
  console.log(`docs-ui screenshot: ${path}`);
  // The README's copy is refreshed only when asked, so a test run leaves the tree clean.
  if (process.env['KVORUM_UPDATE_SCREENSHOT'] !== '1') return path;
  await mkdir(join(repoRoot, 'docs', 'img'), { recursive: true });
  await copyFile(path, join(repoRoot, 'docs', 'img', 'docs-ui.png'));
  console.log('docs-ui screenshot copied to docs/img/docs-ui.png');
  return path;
}

describe('/docs in a browser (1 node)', () => {
  it('Swagger UI renders the document and lists GET, PUT and DELETE /kv/{key}, the listing and batches', async (t) => {
    if (!existsSync(chromiumPath)) {
      if (inCi) assert.fail(missing);
      t.skip(missing);
      return;
    }
    let cluster: TestCluster | undefined;
    let browser: Browser | undefined;
    try {
      cluster = await startCluster({ nodes: 1 });
      const node = cluster.nodes[0]!;
      await withLogs(cluster.logs, async () => {
        browser = await puppeteer.launch({
          executablePath: chromiumPath,
          headless: true,
          // Root in a container: no user namespace for Chromium's sandbox.
          args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
          timeout: renderDeadlineMs,
        });
        const page = await browser.newPage();
        await page.setViewport({ width: 1280, height: 1100 });
        const failures: string[] = [];
        page.on('pageerror', (err) => failures.push(`page error: ${(err as Error).message}`));
        page.on('response', (res) => {
          if (res.status() >= 400) failures.push(`${res.status()} ${res.url()}`);
        });
        await page.goto(`${node.url}/docs`, { waitUntil: 'load', timeout: renderDeadlineMs });
        const operations = await waitFor(
          async () => {
            const found = await renderedOperations(page);
            return found.some((o) => o.path === '/kv/{key}') ? found : undefined;
          },
          { timeoutMs: renderDeadlineMs, intervalMs: 100, what: 'Swagger UI to render the operations of /kv/{key}' },
        );
        const kv = operations.filter((o) => o.path === '/kv/{key}').map((o) => o.method).sort();
        assert.deepEqual(kv, ['DELETE', 'GET', 'PUT']);
        for (const path of ['/kv', '/batch', '/health', '/cluster', '/admin/plan']) assert.ok(operations.some((o) => o.path === path), `${path} listed`);
        assert.ok(!operations.some((o) => o.path.startsWith('/internal')), 'no internal RPC route');
        await screenshot(page);
        assert.deepEqual(failures, [], 'no page error, no failed request');
      });
    } finally {
      await (browser as Browser | undefined)?.close().catch(() => (browser as Browser | undefined)?.process()?.kill('SIGKILL'));
      await cluster?.stop();
    }
  });
});
