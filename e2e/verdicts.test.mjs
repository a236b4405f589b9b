// Honest verdicts in the app: a run whose work sits in dead-letter queues is amber
// (pending), never green, and a saga whose next command is dead-lettered says it is
// stuck and why, instead of "running".

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';

import { open, screenshot, servedApp } from './helpers.mjs';

/** A share link to a built-in whose payment handler fails every time. */
function paymentAlwaysFails(scenario) {
  const payload = {
    v: 1,
    scenario,
    seed: 3,
    faults: { scripted: [{ at: { step: 0 }, fault: { fail_handlers: { service: 'payment', per_mille: 1000 } } }] },
    step: 0,
  };
  return `#/play?s=${deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url')}`;
}

async function runToTheEnd(page) {
  await page.getByRole('button', { name: 'End', exact: true }).click();
  await page.locator('.run-status', { hasText: /finished|settled|stopped/ }).waitFor({ timeout: 30000 });
}

describe('verdicts', () => {
  const app = servedApp();

  test('every order dead-lettered: the invariants are pending (amber), not held (green)', async () => {
    const { page, problems, close } = await open(app.browser, app.server.url + paymentAlwaysFails('checkout-orchestration'));
    await page.locator('.notice', { hasText: 'Opened a shared run' }).waitFor();
    await runToTheEnd(page);
    // The timeline does not call a run with parked work finished.
    assert.match(await page.locator('.run-status').innerText(), /^settled at \d+ ms with work parked: \d+ in the DLQ of /);
    const tab = page.getByRole('tab', { name: /^Invariants/ });
    const badge = tab.locator('.tab-badge');
    assert.match(await badge.innerText(), /pending/);
    assert.ok(await badge.evaluate((b) => b.classList.contains('pending') && !b.classList.contains('good')));
    await tab.click();
    const pending = page.locator('.invariant[data-state="pending"]');
    assert.ok((await pending.count()) >= 1, 'at least one invariant waits on the parked orders');
    const reasons = await pending.first().locator('.pending-reasons li').allInnerTexts();
    assert.ok(reasons.some((r) => /in the DLQ of|stuck/.test(r)), reasons.join('\n'));
    // Amber, not green: the row's colour is not the held one.
    const [pendingBg, heldBg] = await page.evaluate(() => {
      const row = document.querySelector('.invariant[data-state="pending"]');
      const held = document.createElement('li');
      held.className = 'invariant ok';
      row.parentElement.append(held);
      const colours = [getComputedStyle(row).backgroundColor, getComputedStyle(held).backgroundColor];
      held.remove();
      return colours;
    });
    assert.notEqual(pendingBg, heldBg);
    await screenshot(page, 'verdicts-pending');

    // The sagas waiting on a dead-lettered payment command are stuck, and say why.
    await page.getByRole('tab', { name: /^Sagas/ }).click();
    const stuck = page.locator('.saga-card [data-health="stuck"]').first();
    await stuck.waitFor();
    assert.match(await stuck.innerText(), /Stuck at step .*: .* is in the DLQ of /);
    assert.equal(await page.locator('.saga-card .saga-status.stuck').first().innerText(), 'stuck');
    await screenshot(page, 'verdicts-sagas-stuck');
    assert.deepEqual(problems, []);
    await close();
  });

  test('a run that settles with nothing parked is green', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await runToTheEnd(page);
    assert.match(await page.locator('.run-status').innerText(), /^finished at \d+ ms: nothing left to do/);
    const badge = page.getByRole('tab', { name: /^Invariants/ }).locator('.tab-badge');
    assert.ok(await badge.evaluate((b) => b.classList.contains('good')), await badge.innerText());
    await page.getByRole('tab', { name: /^Invariants/ }).click();
    assert.equal(await page.locator('.invariant[data-state="pending"], .invariant[data-state="broken"]').count(), 0);
    assert.deepEqual(problems, []);
    await close();
  });
});
