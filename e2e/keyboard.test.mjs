//! End-to-end test of the app without a mouse: every fault reachable from the keyboard.
//!
//! Tab reaches a service, a message token and a log row; Enter opens its menu of
//! faults; the arrow keys move inside the menu and Enter picks an item; Escape closes
//! every menu (the fault menu, the Export menu, the keyboard help) and gives the focus
//! back to what opened it. Nothing here clicks. Screenshots go to e2e/output/keys-*.png.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { counter, open, pickScenario, screenshot, servedApp } from './helpers.mjs';

/** Presses Tab until the focused element matches `selector` (and `accept`, if given). */
async function tabTo(page, selector, accept = () => true, limit = 120) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate((s) => {
      const e = document.activeElement;
      return e && e.matches(s) ? { text: e.textContent, service: e.dataset.service, message: e.dataset.message, place: e.dataset.place } : null;
    }, selector);
    if (hit && accept(hit)) return hit;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Whether the focused element matches `selector`. */
function focusedIs(page, selector) {
  return page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);
}

/** The label of the focused menu item. */
function focusedItem(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    return e?.getAttribute('role') === 'menuitem' ? e.querySelector('.menu-label')?.textContent ?? e.textContent : null;
  });
}

/** With a menu open, moves down with the arrow key until the item `label` has the focus. */
async function arrowTo(page, label) {
  const seen = [];
  for (let i = 0; i < 12; i += 1) {
    const item = await focusedItem(page);
    if (item?.startsWith(label)) return;
    seen.push(item);
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`no menu item ${label}: saw ${seen.join(', ')}`);
}

describe('keyboard only', () => {
  const app = servedApp();

  test('Tab, Enter and the arrows inject faults on a service, a token and a log row', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await page.evaluate(() => document.activeElement?.blur());

    // A service: Tab to it; Space opens its menu and does not play the run.
    const service = await tabTo(page, 'g.service');
    await page.keyboard.press(' ');
    const serviceMenu = page.getByRole('menu', { name: `Service ${service.service}` });
    await serviceMenu.waitFor();
    assert.ok(await page.getByRole('button', { name: 'Play', exact: true }).isEnabled(), 'Space did not start playing');
    // The menu has the focus on its first item; the arrows move through it and wrap.
    assert.match(await focusedItem(page), /^Crash/);
    await page.keyboard.press('ArrowDown');
    assert.match(await focusedItem(page), /^Slow down/);
    await page.keyboard.press('End');
    assert.match(await focusedItem(page), /^Partition/);
    await page.keyboard.press('ArrowDown');
    assert.match(await focusedItem(page), /^Crash/);
    assert.equal(await counter(page), 'step 0 of 0', 'keys inside a menu do not move the run');
    // Escape closes it, back on the service.
    await page.keyboard.press('Escape');
    await serviceMenu.waitFor({ state: 'detached' });
    assert.ok(await focusedIs(page, `g.service[data-service="${service.service}"]`), 'focus back on the service');
    // Enter opens it again; crash it with the arrows and Enter.
    await page.keyboard.press('Enter');
    await serviceMenu.waitFor();
    await page.keyboard.press('ArrowUp');
    await arrowTo(page, 'Crash');
    await page.keyboard.press('Enter');
    await serviceMenu.waitFor({ state: 'detached' });
    const crashed = page.locator(`g.service.down[data-service="${service.service}"]`);
    await crashed.waitFor();
    assert.match(await crashed.getAttribute('aria-label'), /crashed/);
    assert.ok(await focusedIs(page, `g.service[data-service="${service.service}"]`), 'focus back on the crashed service');
    await screenshot(page, 'keys-service-crashed');

    // A token: step with the arrow keys until a copy waits in a queue, then Tab to it.
    await page.evaluate(() => document.activeElement?.blur());
    for (let i = 0; i < 20 && (await page.locator('g.token[data-place="queued"]').count()) === 0; i += 1) {
      await page.keyboard.press('ArrowRight');
    }
    const token = await tabTo(page, 'g.token', (t) => t.place === 'queued');
    await page.keyboard.press('Enter');
    const tokenMenu = page.getByRole('menu', { name: new RegExp(`^Message ${token.message}`) });
    await tokenMenu.waitFor();
    await arrowTo(page, 'Drop');
    await page.keyboard.press('Enter');
    await tokenMenu.waitFor({ state: 'detached' });
    // The injection is a step of the run, logged with the message it hit.
    const logged = (verb, message) => page.locator(`.log-row.verb-${verb}`, { hasText: message }).waitFor();
    await logged('drop', token.message);

    // A log row: Tab into the log, then up the rows to a message still queued.
    for (let i = 0; i < 20 && (await page.locator('g.token[data-place="queued"]').count()) === 0; i += 1) {
      await page.keyboard.press('ArrowRight');
    }
    const queued = await page.locator('g.token[data-place="queued"]').first().getAttribute('data-message');
    await tabTo(page, '.log-row');
    // The Tab stop is the selected message's row; walk down to the newest, then up.
    const rowEvent = () => page.evaluate(() => document.activeElement.querySelector('.c-event')?.textContent);
    for (const key of ['ArrowDown', 'ArrowUp']) {
      for (let i = 0; i < 60 && (await rowEvent()) !== queued; i += 1) await page.keyboard.press(key);
    }
    assert.equal(await page.evaluate(() => document.activeElement.querySelector('.c-event')?.textContent), queued);
    await page.keyboard.press('Enter');
    const rowMenu = page.getByRole('menu', { name: new RegExp(`^Message ${queued}`) });
    await rowMenu.waitFor();
    await screenshot(page, 'keys-log-row-menu');
    await arrowTo(page, 'Duplicate');
    await page.keyboard.press('Enter');
    await rowMenu.waitFor({ state: 'detached' });
    await logged('duplicate', queued);
    assert.ok(await focusedIs(page, '.log-row'), `focus back in the log, not on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200))}`);
    assert.deepEqual(problems, []);
    await close();
  });

  test('Escape closes the Export menu and the keyboard help, back on what opened them', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await page.evaluate(() => document.activeElement?.blur());
    await tabTo(page, 'button', (b) => b.text.startsWith('Export'));
    await page.keyboard.press('Enter');
    const exportMenu = page.getByRole('menu', { name: /^Export the run/ });
    await exportMenu.waitFor();
    assert.match(await focusedItem(page), /^Trace file/);
    await page.keyboard.press('ArrowDown');
    assert.match(await focusedItem(page), /^CloudEvents batch/);
    await page.keyboard.press('Escape');
    await exportMenu.waitFor({ state: 'detached' });
    assert.ok(await focusedIs(page, 'button[aria-haspopup="menu"]'), 'focus back on the Export button');

    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    const keys = await help.locator('kbd').allInnerTexts();
    for (const key of ['Space', 'Enter', '↑', '↓', 'Esc']) {
      assert.ok(keys.includes(key), `help lists ${key}: ${keys}`);
    }
    assert.match(await help.innerText(), /On a focused service, message token or log row/);
    await screenshot(page, 'keys-help');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    assert.ok(await focusedIs(page, 'button[aria-haspopup="menu"]'), 'focus back where it was before the help');
    assert.deepEqual(problems, []);
    await close();
  });
});
