//! End-to-end tests of two lessons the panels spell out: a dead letter says why its
//! handler gave up (the last error of its last failed attempt), and the Store tab
//! shows an upcast before and after (the stored v1 payload beside the v2 payload the
//! readers get).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { open, pickScenario, screenshot, servedApp } from './helpers.mjs';

async function tab(page, name) {
  await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
}

describe('dead letters and upcasts', () => {
  const app = servedApp();

  test('a dead letter of the poison-message run shows the handler’s last error', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'poison-message');
    await page.keyboard.press('End');
    await page.locator('.run-status', { hasText: /finished|settled/ }).waitFor({ timeout: 30000 });
    await tab(page, 'DLQ');
    const panel = page.getByRole('tabpanel');
    const letter = panel.locator('.dead-letter').first();
    await letter.waitFor();
    const error = letter.locator('.dead-error');
    // The built-in poison lacks `amount`: the handler's words, as the log has them.
    assert.equal((await error.innerText()).trim(), 'last error: malformed (data.amount)');
    await letter.scrollIntoViewIfNeeded();
    await screenshot(page, 'dlq-last-error');
    assert.deepEqual(problems, []);
    await close();
  });

  test('the store shows a v1 event as stored and as read after the upcast', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'schema-versioning');
    await tab(page, 'Store');
    const panel = page.getByRole('tabpanel');
    // Step until a stream holds an event stored as schema v1.
    const pair = panel.locator('.upcast-pair').first();
    for (let i = 0; i < 40 && !(await pair.isVisible()); i += 1) {
      await page.keyboard.press('ArrowRight');
    }
    await pair.waitFor({ timeout: 5000 });
    const sides = pair.locator('.upcast-side');
    assert.equal(await sides.count(), 2);
    const stored = sides.nth(0);
    const read = sides.nth(1);
    assert.equal((await stored.locator('figcaption').innerText()).trim(), 'stored (v1)');
    assert.equal((await read.locator('figcaption').innerText()).trim(), 'read as (v2)');
    // The renamed field is marked on both sides: gone from v1, new in v2.
    assert.match(await stored.locator('.upcast-gone').first().innerText(), /"amt": \d+/);
    assert.match(await read.locator('.upcast-new', { hasText: '"amount"' }).innerText(), /"amount": \d+/);
    assert.equal(await read.locator('.upcast-field', { hasText: '"amt"' }).count(), 0, 'no amt after the upcast');
    await pair.scrollIntoViewIfNeeded();
    await screenshot(page, 'store-upcast');
    assert.deepEqual(problems, []);
    await close();
  });
});
