//! Shared setup for the end-to-end tests: serve a build, drive Chromium, collect problems.
//!
//! The build is served by scripts/serve.mjs, the same server `make serve` runs, on a
//! free port of 127.0.0.1. Chromium is Debian's (/usr/bin/chromium) driven by
//! playwright-core, so nothing is downloaded. Every page records console errors,
//! uncaught exceptions, Content-Security-Policy violations and requests that leave
//! the test server, so each test can assert that none happened.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = join(REPO, 'e2e', 'output');
export const VIEWPORT = { width: 1280, height: 800 };
/** The release build the tests drive (`make test` builds it). */
export const DIST = process.env.DIST_DIR ?? join(REPO, 'dist');

/**
 * For one `describe`: serve the build and launch a browser before its tests, stop
 * both after them. Returns an object whose `server` and `browser` are set once the
 * `before` hook has run, so tests read them as `app.server.url` and `app.browser`.
 */
export function servedApp(root = DIST) {
  const app = { server: undefined, browser: undefined };
  before(async () => {
    app.server = await serve(root);
    app.browser = await launch();
  });
  after(async () => {
    await app.browser?.close();
    await app.server?.stop();
  });
  return app;
}

/** Start scripts/serve.mjs on a free port; resolves to { url, stop }. */
export function serve(root, { base = '/' } = {}) {
  const child = spawn(process.execPath, [join(REPO, 'scripts', 'serve.mjs'), root, '0'], {
    env: { ...process.env, BASE: base, HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/serving .* at (http:\/\/\S+)/);
      if (match) {
        resolve({
          url: match[1],
          stop: () =>
            new Promise((done) => {
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${output}`)));
  });
}

/** Launch Debian's Chromium headless, without any network chatter of its own. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Open `url` in a fresh page (1280x800 unless `viewport` says otherwise) and wait
 * until the app has rendered. Returns the page and a `problems` list that keeps
 * filling while the page lives.
 */
export async function open(browser, url, { viewport = VIEWPORT } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(url).origin;
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('request', (request) => {
    const target = request.url();
    if (!target.startsWith(origin) && !target.startsWith('data:')) {
      problems.push(`request outside the app: ${target}`);
    }
  });
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  // Not subject to the page's CSP: runs before any of the page's own scripts.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  await page.goto(url);
  try {
    await page.locator('h1', { hasText: 'Eventscope' }).waitFor({ timeout: 15000 });
  } catch (error) {
    // Say why the app did not start (a CSP block, a 404, a panic), not just "timeout".
    throw new Error(`the app did not render at ${url}:\n${problems.join('\n') || error.message}`);
  }
  return { page, problems, close: () => context.close() };
}

/** Save a screenshot as e2e/output/NAME.png (for people to look at). */
export async function screenshot(page, name) {
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, `${name}.png`) });
}

/** The text of the step counter, e.g. "step 3 of 10" (without a "· rewound" mark). */
export async function counter(page) {
  return (await page.locator('.step-counter').innerText()).replace(/\s+·.*$/, '').trim();
}

/** Waits until the step counter reads `text`. */
export async function waitForCounter(page, text) {
  await page.locator('.step-counter', { hasText: new RegExp(`^${text}(\\s|$)`) }).waitFor({ timeout: 15000 });
}

/** Picks a built-in scenario in the header and waits for its fresh run. */
export async function pickScenario(page, name) {
  await page.getByLabel('Scenario', { exact: true }).selectOption(name);
  await waitForCounter(page, 'step 0 of 0');
}
