// A scenario that grows without bound, from a stranger: through the editor and through a
// share link it ends with an error that names the place, and the page stays usable.
// The growth fixture is refused before it runs (its template grows on its own loop);
// the growth cycle passes validation and is stopped at run time by the string limit.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';

import { REPO, counter, open, screenshot, servedApp, waitForCounter } from './helpers.mjs';

const fixture = (name) => readFileSync(join(REPO, 'tests', 'fixtures', `${name}.json`), 'utf8');

function shareFragment(scenario) {
  const payload = { v: 1, scenario: JSON.parse(scenario), seed: 1, step: 0 };
  return `#/play?s=${deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url')}`;
}

/** The run stops at its limit: the alert names the limit, the handler, the field and the step. */
async function expectHalt(page) {
  await page.getByRole('button', { name: 'End', exact: true }).click();
  const alert = page.locator('.notice.halted[role="alert"]');
  await alert.waitFor({ timeout: 30000 });
  const text = await alert.innerText();
  assert.match(text, /The run stopped at a limit/);
  assert.match(text, /step \d+/);
  assert.match(text, /services\[0\]\.handlers\[\d\]\.emit\[0\]\.data\.p/);
  assert.match(text, /echo/);
  assert.match(await page.locator('.run-status').innerText(), /stopped at step \d+ by a limit/);
  return text;
}

/** The page answers: stepping back and forth still works. */
async function stillUsable(page) {
  await page.keyboard.press('Home');
  await waitForCounter(page, 'step 0 of \\d+');
  await page.keyboard.press('ArrowRight');
  assert.match(await counter(page), /^step 1 of \d+$/);
}

describe('runs that grow without bound', () => {
  const app = servedApp();

  test('through the editor: refused at its path, or stopped at its limit', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await page.getByRole('button', { name: 'Edit scenario' }).click();
    const editor = page.getByLabel('Scenario JSON');

    await editor.fill(fixture('growth'));
    await editor.press('Control+Enter');
    const error = page.locator('.editor-errors li').first();
    await error.waitFor();
    assert.match(await error.locator('.problem-path').innerText(), /^services\[0\]\.handlers\[0\]\.emit\[0\]\.data\.p$/);
    assert.equal(await counter(page), 'step 0 of 0', 'the run on screen stays');

    await editor.fill(fixture('growth-cycle'));
    await editor.press('Control+Enter');
    await page.locator('.notice', { hasText: 'applied' }).waitFor();
    await page.getByRole('button', { name: 'Close the editor' }).click();
    await expectHalt(page);
    await screenshot(page, 'limits-halted');
    await stillUsable(page);
    assert.deepEqual(problems, []);
    await close();
  });

  test('through a share link: refused with its path, or stopped at its limit', async () => {
    let { page, problems, close } = await open(app.browser, app.server.url + shareFragment(fixture('growth')));
    const refused = page.locator('.notice', { hasText: 'This share link could not be opened' });
    await refused.waitFor();
    assert.match(await refused.innerText(), /services\[0\]\.handlers\[0\]\.emit\[0\]\.data\.p/);
    await stillUsable(page);
    assert.deepEqual(problems, []);
    await close();

    ({ page, problems, close } = await open(app.browser, app.server.url + shareFragment(fixture('growth-cycle'))));
    await page.locator('.notice', { hasText: 'Opened a shared run' }).waitFor();
    await expectHalt(page);
    await stillUsable(page);
    assert.deepEqual(problems, []);
    await close();
  });
});
