//! End-to-end tests of the details panels as typed components: a button inside a panel
//! keeps the keyboard focus while the run steps under it (the panel is patched, not
//! replaced), and text from a scenario (names, event types, data values), whether
//! applied in the editor or opened from a share link, is shown as text, never parsed as
//! markup, in the panels that display it.
//!
//! "Still focused" is checked on the element itself: the test marks the focused button
//! with a property that only that DOM node carries, so a panel that rebuilt its markup
//! and moved the focus to a look-alike button would fail, not pass.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { counter, open, pickScenario, screenshot, servedApp, waitForCounter } from './helpers.mjs';

const HOSTILE = '<img src=x onerror="window.__canary=1"></script>';

async function tab(page, name) {
  await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
}

async function press(page, key, times = 1) {
  for (let i = 0; i < times; i += 1) await page.keyboard.press(key);
}

/** Focuses `locator` and marks that very DOM node. */
async function focusAndMark(locator) {
  await locator.focus();
  await locator.evaluate((element) => {
    element.__focusMark = true;
  });
}

/** Whether the focused element is the node marked by `focusAndMark`. */
function focusKept(page) {
  return page.evaluate(() => document.activeElement?.__focusMark === true);
}

describe('the panels', () => {
  const app = servedApp();

  test('a stream button of the store keeps the focus while the run steps', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'bank-account');
    await tab(page, 'Store');
    await press(page, 'ArrowRight', 12);
    await waitForCounter(page, 'step 12 of 12');
    const panel = page.getByRole('tabpanel');
    const stream = panel.locator('.stream-list button.stream').first();
    await stream.waitFor();
    await focusAndMark(stream);
    const before = await panel.locator('.store-summary').innerText();
    // The arrow key is the app's Step binding; the focus stays on the button meanwhile.
    await press(page, 'ArrowRight', 20);
    await waitForCounter(page, 'step 32 of 32');
    assert.notEqual(await panel.locator('.store-summary').innerText(), before, 'the panel re-rendered');
    assert.ok(await focusKept(page), 'the focused stream button is still the focused element');

    // Pressing it (Enter) picks it, and the focus stays there too.
    await page.keyboard.press('Enter');
    assert.ok(await focusKept(page), 'focus kept after picking the stream');
    assert.match(await stream.getAttribute('class'), /active/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('a causal link of the inspector keeps the focus while the run steps', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await press(page, 'ArrowRight', 6);
    await waitForCounter(page, 'step 6 of 6');
    // The latest publication: it is still on its way, so the next steps change it.
    await page.locator('.log-row.verb-publish').last().click();
    const panel = page.getByRole('tabpanel');
    await panel.locator('.inspector').waitFor();
    const status = await panel.locator('.inspector > .panel-note').first().innerText();
    const attempts = panel.locator('.inspector h3', { hasText: 'Delivery attempts' });
    const attemptsBefore = await attempts.innerText();
    // "Filter log by its correlation id" is always there while the message has one.
    const button = panel.getByRole('button', { name: 'Filter log by its correlation id' });
    await focusAndMark(button);
    await press(page, 'ArrowRight', 15);
    await waitForCounter(page, 'step 21 of 21');
    const changed =
      (await panel.locator('.inspector > .panel-note').first().innerText()) !== status ||
      (await attempts.innerText()) !== attemptsBefore;
    assert.ok(changed, 'the inspector re-rendered with the message’s new state');
    assert.ok(await focusKept(page), 'the focused inspector button is still the focused element');
    assert.deepEqual(problems, []);
    await close();
  });

  test('a hostile scenario is shown as text in the panels and runs no script', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'pubsub');
    await page.getByRole('button', { name: 'Edit scenario' }).click();
    const editor = page.getByLabel('Scenario JSON');
    const scenario = JSON.parse(await editor.inputValue());
    const type = `io.example.${HOSTILE}`;
    scenario.name = 'hostile';
    scenario.title = `Hostile ${HOSTILE}`;
    for (const service of scenario.services) {
      for (const handler of service.handlers ?? []) handler.on = type;
    }
    for (const item of scenario.workload) {
      item.type = type;
      item.data.sku = HOSTILE;
      item.data.customer = `</script><script>window.__canary=1</script>`;
    }
    await editor.fill(JSON.stringify(scenario, null, 2));
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await waitForCounter(page, 'step 0 of 0');
    await page.getByRole('button', { name: 'Close the editor' }).click();
    await press(page, 'ArrowRight', 14);
    await waitForCounter(page, 'step 14 of 14');

    // The inspector: the type in its title, the data in the envelope.
    await page.locator('.log-row.verb-publish').first().click();
    const panel = page.getByRole('tabpanel');
    await panel.locator('.inspector').waitFor();
    assert.ok((await panel.locator('.panel-title').innerText()).includes(HOSTILE), 'the type as text');
    const json = JSON.parse(await panel.getByLabel('The envelope as CloudEvents JSON').innerText());
    assert.equal(json.type, type);
    assert.equal(json.data.sku, HOSTILE);
    assert.equal(json.data.customer, '</script><script>window.__canary=1</script>');
    assert.ok((await panel.locator('.causal').innerText()).length > 0);

    // The sagas tab offers the warehouse's counter, whose key holds the hostile sku.
    await tab(page, 'Sagas');
    const options = await page.getByLabel('State counter to set').locator('option').allInnerTexts();
    assert.ok(options.some((o) => o.includes(`picks.${HOSTILE}`)), options.join(' | '));

    // The sequence diagram labels each arrow with the type.
    await page.getByRole('tab', { name: 'Sequence' }).click();
    const labels = await page.locator('.sequence-svg .seq-label').allTextContents();
    assert.ok(labels.some((l) => l.includes(HOSTILE)), labels.join(' | '));
    await screenshot(page, 'panels-hostile');

    // Nothing was parsed as markup, nothing ran.
    assert.equal(await page.locator('#app img[src="x"]').count(), 0, 'no image element was made');
    assert.equal(await page.locator('#app script').count(), 0, 'no script element was made');
    assert.equal(await page.evaluate(() => window.__canary), undefined);
    assert.equal(await counter(page), 'step 14 of 14');

    // The same scenario through a share link, in a fresh page.
    await page.getByRole('button', { name: 'Share' }).click();
    const link = await page.getByLabel('Share link').inputValue();
    const shared = await open(app.browser, link);
    await waitForCounter(shared.page, 'step 14 of 14');
    await shared.page.locator('.log-row.verb-publish').first().click();
    const sharedPanel = shared.page.getByRole('tabpanel');
    await sharedPanel.locator('.inspector').waitFor();
    assert.ok((await sharedPanel.locator('.panel-title').innerText()).includes(HOSTILE), 'the type as text');
    assert.equal(await shared.page.locator('#app img[src="x"]').count(), 0);
    assert.equal(await shared.page.evaluate(() => window.__canary), undefined);
    assert.deepEqual(shared.problems, []);
    await shared.close();
    assert.deepEqual(problems, []);
    await close();
  });
});
