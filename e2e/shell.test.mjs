//! End-to-end tests of the app shell, against the release build in dist/.
//!
//! They check what a person sees at 1280x800 (the classroom projector case): the
//! header, the toolbar, explained empty states before the first step, the keyboard help,
//! and that loading the page produces no console error, no CSP violation and no
//! request outside the app. Screenshots go to e2e/output/.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { open, screenshot, servedApp } from './helpers.mjs';


describe('app shell', () => {
  const app = servedApp();

  test('shows header, toolbar and an explained empty state in every region', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await screenshot(page, 'shell');

    const picker = page.getByLabel('Scenario', { exact: true });
    assert.ok(await picker.isVisible(), 'scenario picker visible');
    assert.ok((await picker.locator('option').count()) >= 1, 'scenarios listed');
    assert.notEqual((await page.locator('.scenario-summary').innerText()).trim(), '');

    for (const label of ['Start', 'Step back', 'Play', 'Pause', 'Step', 'End', 'Reset']) {
      const button = page.getByRole('button', { name: label, exact: true });
      assert.ok(await button.isVisible(), `${label} button visible`);
      assert.match((await button.getAttribute('title')) ?? '', /\(.+\)$/, `${label} tooltip names its key`);
    }
    assert.ok(await page.getByLabel('Seed', { exact: true }).isVisible());
    assert.ok(await page.getByLabel('Speed in steps per second').isVisible());
    assert.equal((await page.locator('.step-counter').innerText()).trim(), 'step 0 of 0');

    for (const region of ['Topology', 'Event log', 'Timeline']) {
      const heading = page.getByRole('heading', { name: region, exact: true });
      assert.ok(await heading.isVisible(), `${region} heading visible`);
    }
    for (const tab of ['Inspector', 'Invariants', 'Faults', 'Delivery']) {
      assert.ok(await page.getByRole('tab', { name: tab }).isVisible(), `${tab} tab visible`);
    }
    // Before the first step the log and the inspector say what will appear there; the
    // topology already shows the scenario, with a hint on how to start.
    assert.ok(await page.locator('.canvas-hint').isVisible());
    const emptyStates = page.locator('.empty-state');
    assert.equal(await emptyStates.count(), 2);
    for (let i = 0; i < 2; i += 1) {
      assert.ok(await emptyStates.nth(i).isVisible(), `empty state ${i} visible`);
      assert.ok(await emptyStates.nth(i).locator('.empty-concept').isVisible(), `concept ${i} visible`);
    }

    assert.deepEqual(problems, []);
    await close();
  });

  test('fits a 1280x800 screen without scrolling', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    const size = await page.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      height: document.documentElement.scrollHeight,
    }));
    assert.ok(size.width <= 1280 && size.height <= 800, `page is ${size.width}x${size.height}`);
    // The toolbar holds its controls on one row at this width.
    const toolbar = await page.locator('.toolbar').boundingBox();
    assert.ok(toolbar.height < 70, `toolbar is ${toolbar.height}px tall`);
    assert.deepEqual(problems, []);
    await close();
  });

  test('the ? key opens the keyboard help and Escape closes it', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    const keys = await dialog.locator('kbd').allInnerTexts();
    for (const key of ['Space', '→', '←', 'Home', 'End', 'R', '?']) {
      assert.ok(keys.includes(key), `help lists ${key}: ${keys}`);
    }
    await screenshot(page, 'help');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The header button opens it too, and the Close button closes it.
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(problems, []);
    await close();
  });

  test('picking a scenario shows its summary; a bad seed is explained', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    const picker = page.getByLabel('Scenario', { exact: true });
    const options = await picker.locator('option').evaluateAll((all) =>
      all.map((o) => ({ value: o.value, title: o.textContent })),
    );
    const last = options[options.length - 1];
    const before = await page.locator('.scenario-summary').innerText();
    await picker.selectOption(last.value);
    await page.locator('.canvas .region-note', { hasText: last.title }).waitFor();
    if (options.length > 1) {
      assert.notEqual(await page.locator('.scenario-summary').innerText(), before);
    }

    const seed = page.getByLabel('Seed', { exact: true });
    await seed.fill('not a number');
    await seed.press('Enter');
    const error = page.getByRole('alert');
    await error.waitFor();
    assert.match(await error.innerText(), /whole number/);
    assert.equal(await seed.getAttribute('aria-invalid'), 'true');
    assert.equal(await seed.inputValue(), 'not a number', 'the typed text stays to be fixed');
    await screenshot(page, 'seed-error');
    await seed.fill('7');
    await seed.press('Enter');
    await error.waitFor({ state: 'detached' });
    assert.equal(await seed.getAttribute('aria-invalid'), 'false');
    assert.deepEqual(problems, []);
    await close();
  });

  test('the Content-Security-Policy is strict and lists the loader by hash', async () => {
    const response = await fetch(app.server.url);
    const html = await response.text();
    const csp = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]*)"/)?.[1];
    assert.ok(csp, 'a CSP meta tag');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/);
  });
});
