// /docs in a real browser: one node, headless Chromium (puppeteer-core, the system's browser: set
// CHROMIUM_PATH, default /usr/bin/chromium), Swagger UI renders the document and lists the client
// routes. The screenshot goes to a temp dir (path printed), and to docs/img/docs-ui.png (the README's) with
// KVORUM_UPDATE_SCREENSHOT=1.
// Without Chromium the test fails under CI=true (`.ci/run` installs it) and is skipped elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium, screenshot, skipWithoutChromium } from '../kit/browser.js';
import { startCluster, withLogs, type TestCluster } from '../kit/test-cluster.js';
import { waitFor } from '../kit/wait.js';

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

describe('/docs in a browser (1 node)', () => {
  it('Swagger UI renders the document and lists GET, PUT and DELETE /kv/{key}, the listing and batches', async (t) => {
    if (skipWithoutChromium(t, '/docs')) return;
    let cluster: TestCluster | undefined;
    let browser: Browser | undefined;
    try {
      cluster = await startCluster({ nodes: 1 });
      const node = cluster.nodes[0]!;
      await withLogs(cluster.logs, async () => {
        browser = await launchChromium(renderDeadlineMs);
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
        await screenshot(page, 'docs-ui.png', false);
        assert.deepEqual(failures, [], 'no page error, no failed request');
      });
    } finally {
      await (browser as Browser | undefined)?.close().catch(() => (browser as Browser | undefined)?.process()?.kill('SIGKILL'));
      await cluster?.stop();
    }
  });
});
