// Headless Chromium for the browser tests (/docs, /ui): the system's browser through puppeteer-core
// (CHROMIUM_PATH, default /usr/bin/chromium; puppeteer-core downloads none). Without it a test fails
// under CI=true (`.ci/run` installs it) and is skipped elsewhere.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { repoRoot } from './paths.js';

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const missing = (what: string) =>
  `Chromium not found at ${chromiumPath}: the ${what} browser test needs it. ` +
  '`.ci/run` installs it (apt-get install -y chromium); elsewhere install it or set CHROMIUM_PATH.';

/** True (and the test skipped) when Chromium is missing outside CI; under CI=true a missing Chromium fails the test. */
export function skipWithoutChromium(t: { skip: (message: string) => void }, what: string): boolean {
  if (existsSync(chromiumPath)) return false;
  if (process.env['CI'] === 'true') assert.fail(missing(what));
  t.skip(missing(what));
  return true;
}

export function launchChromium(timeoutMs: number): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    // Root in a container: no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: timeoutMs,
  });
}

/**
 * Saves a screenshot of `page` as `name` in a new temp dir (the path is printed and returned), and
 * also as docs/img/`name` (the README's copy) when KVORUM_UPDATE_SCREENSHOT=1, so a test run leaves
 * the tree clean.
 */
export async function screenshot(page: Page, name: string, fullPage: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `kvorum-${name.replace(/\.png$/, '')}-`));
  const path = join(dir, name);
  await page.screenshot({ path, fullPage });
  console.log(`screenshot: ${path}`);
  if (process.env['KVORUM_UPDATE_SCREENSHOT'] !== '1') return path;
  await mkdir(join(repoRoot, 'docs', 'img'), { recursive: true });
  await copyFile(path, join(repoRoot, 'docs', 'img', name));
  console.log(`screenshot copied to docs/img/${name}`);
  return path;
}
