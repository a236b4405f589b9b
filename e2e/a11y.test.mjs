//! Accessibility of every surface, checked by axe-core against WCAG 2.1 A and AA.
//!
//! axe-core comes from npm and is handed to the page by the test harness through the
//! DevTools protocol (`page.evaluate` of its source), which the page's
//! Content-Security-Policy does not govern: the policy stays exactly as shipped, with
//! no inline script allowed. Checked: the lesson index, free play with each of the ten
//! details tabs open, each canvas view, each lesson, the scenario editor, the share
//! panel and an import that failed. Any violation fails the test, listed with its rule,
//! its elements and axe's explanation. Screenshots go to e2e/output/a11y-*.png.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO, open, screenshot, servedApp } from './helpers.mjs';

const AXE = readFileSync(join(REPO, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Runs axe on the page as it is now; returns every violation found. */
async function audit(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE);
  }
  const result = await page.evaluate(
    (tags) =>
      window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        // Best practice rather than WCAG, but named in the brief: all content in landmarks.
        rules: { region: { enabled: true } },
        resultTypes: ['violations'],
      }),
    TAGS,
  );
  const found = [];
  for (const violation of result.violations) {
    for (const node of violation.nodes) {
      const target = node.target.join(' ');
      found.push(`${where}: ${violation.id} (${violation.impact}) at ${target}\n    ${node.html.slice(0, 160)}\n    ${node.failureSummary?.split('\n').join(' ')}`);
    }
  }
  return found;
}

async function toEnd(page) {
  await page.keyboard.press('End');
  await page.locator('.run-status', { hasText: /finished|step limit|settled/ }).waitFor({ timeout: 30000 });
}

describe('accessibility (axe-core, WCAG 2.1 AA)', () => {
  const app = servedApp();

  test('the lesson index and every lesson', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/`);
    const found = await audit(page, '#/');
    await screenshot(page, 'a11y-index');
    const lessons = await page.locator('a[href^="#/lessons/"]').evaluateAll((all) => [...new Set(all.map((a) => a.getAttribute('href')))]);
    assert.ok(lessons.length >= 5, `found ${lessons.length} lessons`);
    for (const href of lessons) {
      await page.goto(`${app.server.url}${href}`);
      await page.locator('.lesson-column').waitFor();
      found.push(...(await audit(page, href)));
      // A lesson under way: narration, prediction and meter have content.
      for (let i = 0; i < 12; i += 1) await page.keyboard.press('ArrowRight');
      found.push(...(await audit(page, `${href} after 12 steps`)));
    }
    assert.deepEqual(found, [], found.join('\n'));
    assert.deepEqual(problems, []);
    await close();
  });

  test('free play with each tab and each canvas view', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    const found = await audit(page, '#/play at step 0');
    await toEnd(page);
    const tabs = page.locator('aside.details [role="tab"]');
    const count = await tabs.count();
    assert.equal(count, 10);
    for (let i = 0; i < count; i += 1) {
      const name = (await tabs.nth(i).innerText()).trim();
      await tabs.nth(i).click();
      found.push(...(await audit(page, `#/play, ${name} tab`)));
    }
    for (const view of ['Sequence', 'Side by side', 'Topology']) {
      await page.getByRole('tab', { name: view, exact: true }).click();
      found.push(...(await audit(page, `#/play, ${view} view`)));
      await screenshot(page, `a11y-view-${view.toLowerCase().replace(/ /g, '-')}`);
    }
    // The fault menu and the keyboard help.
    await page.locator('g.service').first().click();
    await page.getByRole('menu').waitFor();
    found.push(...(await audit(page, '#/play, fault menu')));
    await page.keyboard.press('Escape');
    await page.keyboard.press('?');
    await page.getByRole('dialog').waitFor();
    found.push(...(await audit(page, '#/play, keyboard help')));
    await page.keyboard.press('Escape');
    assert.deepEqual(found, [], found.join('\n'));
    assert.deepEqual(problems, []);
    await close();
  });

  test('the editor, the export menu, the share panel and a failed import', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    const found = [];
    await page.getByRole('button', { name: 'Edit scenario' }).click();
    await page.locator('.editor').waitFor();
    found.push(...(await audit(page, 'editor')));
    await screenshot(page, 'a11y-editor');
    await page.getByRole('button', { name: 'Close the editor' }).click();

    await page.getByRole('button', { name: /^Export/ }).click();
    await page.getByRole('menu').waitFor();
    found.push(...(await audit(page, 'export menu')));
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByLabel('Share link').waitFor();
    found.push(...(await audit(page, 'share panel')));
    await page.getByRole('button', { name: 'Close the share panel' }).click();

    await page.locator('input[type=file]').setInputFiles({ name: 'broken.eventscope.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "eventscope-trace", "format_version": 1, "seed": "x"}') });
    await page.locator('.import-problem').waitFor();
    found.push(...(await audit(page, 'failed import')));
    await screenshot(page, 'a11y-import-problem');
    assert.deepEqual(found, [], found.join('\n'));
    assert.deepEqual(problems, []);
    await close();
  });
});
