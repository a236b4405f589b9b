// The page as a stranger's input meets it: Trusted Types enforced on the page and in
// the worker, and hostile text in every free-text field shown as text, never run.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { open, screenshot, servedApp } from './helpers.mjs';

const TABS = ['Inspector', 'Invariants', 'Faults', 'Delivery', 'Sagas', 'Store', 'Read models', 'DLQ', 'Metrics', 'Anti-patterns'];

describe('trusted types', () => {
  const app = servedApp();

  test('the page refuses string markup and foreign worker URLs, and the app needs neither', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    // Exercise what renders: steps, every tab, every canvas view, the worker.
    for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
    for (const name of TABS) await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
    for (const name of ['Sequence', 'Side by side', 'Topology']) {
      await page.getByRole('tab', { name, exact: true }).click();
    }
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByLabel('Share link').waitFor();
    await page.waitForFunction(() => /#(\/play\?)?s=/.test(document.querySelector('input[aria-label="Share link"]')?.value ?? ''));
    await screenshot(page, 'security-share-under-trusted-types');
    assert.deepEqual(problems, [], 'nothing the app does is refused by Trusted Types');

    // Script the harness runs in the page goes through the page's sinks like the app's.
    const markup = await page.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>x</b>';
        return 'allowed';
      } catch (error) {
        return error.constructor.name;
      }
    });
    assert.equal(markup, 'TypeError', 'innerHTML from a string is refused');
    const worker = await page.evaluate(() => {
      try {
        new Worker('https://example.invalid/evil.js');
        return 'allowed';
      } catch (error) {
        return error.constructor.name;
      }
    });
    assert.equal(worker, 'TypeError', 'a worker from another origin is refused by the policy');
    // Both refusals are reported, and nothing else went wrong.
    assert.ok(problems.every((p) => /Trusted(HTML|ScriptURL)|CSP violation: require-trusted-types-for/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /TrustedHTML/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /TrustedScriptURL/.test(p)), problems.join('\n'));
    await close();
  });

  test('the worker scripts are served with a policy that enforces Trusted Types', async () => {
    for (const file of ['eventscope-worker_loader.js', 'eventscope-worker.js']) {
      const response = await fetch(new URL(file, app.server.url));
      assert.equal(response.status, 200, file);
      const policy = response.headers.get('content-security-policy') ?? '';
      assert.match(policy, /require-trusted-types-for 'script'/, file);
      assert.match(policy, /trusted-types eventscope-worker/, file);
      assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/, file);
    }
    const page = await fetch(app.server.url);
    assert.equal(page.headers.get('content-security-policy'), null, 'the page carries its policy in its meta tag');
  });
});

