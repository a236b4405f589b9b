//! End-to-end tests of the linked views, acting like a person at a 1280x800 screen:
//! the saga view (a failed pivot compensated in reverse order; a compensation that
//! fails, sticks, and recovers after a fix and a redrive), the DLQ panel, the event
//! store browser, the read models (a rebuild catching up), the metrics charts, the
//! sequence diagram, the anti-pattern meters and the side-by-side comparison.
//! Assertions are on what the page shows. Screenshots go to e2e/output/views-*.png.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { counter, open, pickScenario, screenshot, waitForCounter, servedApp } from './helpers.mjs';


async function toEnd(page) {
  await page.keyboard.press('End');
  await page.locator('.run-status', { hasText: /finished|step limit|settled/ }).waitFor({ timeout: 30000 });
}

async function tab(page, name) {
  await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
}

/** Set a service's state counter from the saga tab's "Make something fail" box. */
async function setState(page, label, value) {
  await page.getByLabel('State counter to set').selectOption({ label });
  const input = page.getByLabel('New value');
  await input.fill(String(value));
  await input.press('Enter');
  await input.evaluate((element) => element.blur());
  await page.getByRole('button', { name: 'Set', exact: true }).click();
}

async function failService(page, service, fail) {
  await page.getByLabel('Service whose handlers fail').selectOption({ label: service });
  await page.getByRole('button', { name: fail ? 'Fail every handling' : 'Heal (0% failures)' }).click();
}

describe('the views', () => {
  const app = servedApp();

  test('saga view: no trucks, so the pivot fails and the compensations run in reverse order', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout-orchestration');
    await tab(page, 'Sagas');
    assert.match(await page.getByRole('tabpanel').innerText(), /No saga has started yet/);
    await setState(page, 'shipping: trucks (now 10)', 0);
    await waitForCounter(page, 'step 1 of 1');
    // Step until an order is being undone: its card says so and names the step.
    for (let i = 0; i < 200; i += 1) {
      if ((await page.locator('.saga-card[data-status="compensating"]').count()) > 0) break;
      await page.keyboard.press('ArrowRight');
    }
    const card = page.locator('.saga-card[data-status="compensating"]').first();
    assert.match(await card.innerText(), /Compensating: undoing/);
    assert.equal(await card.locator('[data-step="ship"]').getAttribute('data-state'), 'failed');
    await page.locator('.saga-step.pivot', { hasText: 'ship' }).first().waitFor();
    await screenshot(page, 'views-saga-compensating');

    await toEnd(page);
    const panel = page.getByRole('tabpanel');
    assert.match(await panel.locator('.saga-summary').innerText(), /0 running[\s\S]*0 compensating[\s\S]*0 completed[\s\S]*5 aborted/);
    const first = page.locator('.saga-card[data-instance="order-1"]');
    assert.equal(await first.locator('[data-step="pay"]').getAttribute('data-state'), 'compensated');
    assert.equal(await first.locator('[data-step="reserve"]').getAttribute('data-state'), 'compensated');
    assert.equal(await first.locator('[data-step="ship"]').getAttribute('data-state'), 'failed');

    // The sequence diagram of one order shows the undo path in reverse order.
    await page.getByRole('tab', { name: 'Sequence' }).click();
    const flows = page.getByLabel('Flow shown in the sequence diagram');
    const firstFlow = await flows.locator('option').nth(1).getAttribute('value');
    await flows.selectOption(firstFlow);
    const undo = await page.locator('.seq-compensation .seq-label').allTextContents();
    const release = undo.findIndex((t) => t.includes('inventory.release'));
    const refund = undo.findIndex((t) => t.includes('payment.refund'));
    assert.ok(release >= 0 && refund > release, `release before refund: ${undo.join(' | ')}`);
    // The topology draws compensations in their own colour; its legend says so.
    await page.getByRole('tab', { name: 'Topology' }).click();
    assert.match(await page.getByLabel('Legend').innerText(), /compensation/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('a failing compensation leaves the saga stuck until payment is fixed and the refund redriven', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout-orchestration');
    // One order, so one saga.
    await tab(page, 'Delivery');
    const orders = page.getByLabel(/order.placed from storefront/);
    await orders.fill('1');
    await orders.press('Enter');
    await orders.evaluate((element) => element.blur());
    await tab(page, 'Sagas');
    await setState(page, 'shipping: trucks (now 10)', 0);
    // Step until the customer has been charged, then break payment.
    for (let i = 0; i < 100; i += 1) {
      if ((await page.locator('[data-instance="order-1"] [data-step="pay"][data-state="done"]').count()) > 0) break;
      await page.keyboard.press('ArrowRight');
    }
    await failService(page, 'payment', true);
    await toEnd(page);
    const card = page.locator('.saga-card[data-instance="order-1"]');
    assert.equal(await card.getAttribute('data-status'), 'compensating');
    assert.match(await card.locator('.saga-stuck').innerText(), /Stuck compensating: undoing “pay” failed \d+ time\(s\) and its payment.refund is parked in the DLQ of payment-commands/);
    assert.match(await page.getByRole('tab', { name: /^Sagas/ }).innerText(), /1/);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'views-saga-stuck');

    // The operator heals payment and redrives the refund from the DLQ panel.
    await failService(page, 'payment', false);
    await card.getByRole('button', { name: 'Open the DLQ' }).click();
    const queue = page.locator('.dlq-queue[data-sub="payment-commands"]');
    assert.match(await queue.innerText(), /payment.refund[\s\S]*delivery_limit[\s\S]*x-death/);
    await queue.getByRole('button', { name: /^Redrive all/ }).click();
    await toEnd(page);
    assert.match(await page.getByRole('tabpanel').innerText(), /Redriven so far[\s\S]*payment.refund back to payment-commands/);
    await tab(page, 'Sagas');
    assert.equal(await card.getAttribute('data-status'), 'aborted');
    assert.equal(await card.locator('[data-step="pay"]').getAttribute('data-state'), 'compensated');
    await tab(page, 'Invariants');
    assert.equal(await page.locator('.invariant.broken').count(), 0);
    assert.deepEqual(problems, []);
    await close();
  });

  test('DLQ panel: redrive one message and follow it in the log', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await tab(page, 'DLQ');
    assert.match(await page.getByRole('tabpanel').innerText(), /No dead letters at this step/);
    await tab(page, 'Sagas');
    await failService(page, 'payment', true);
    await toEnd(page);
    await failService(page, 'payment', false);
    await tab(page, 'DLQ');
    const queue = page.locator('.dlq-queue[data-sub="payment-orders"]');
    assert.equal(await queue.locator('.dead-letter').count(), 5);
    const letter = queue.locator('.dead-letter').first();
    const id = await letter.getAttribute('data-event');
    assert.match(await letter.innerText(), /order.placed[\s\S]*delivery_limit[\s\S]*3 attempt/);
    await screenshot(page, 'views-dlq');
    await letter.getByRole('button', { name: 'Redrive', exact: true }).click();
    await toEnd(page);
    assert.equal(await queue.locator('.dead-letter').count(), 4, 'the redriven one left the DLQ');
    assert.equal(await page.locator('[data-dlq="payment-orders"]').textContent(), '4');
    // It is traceable: the log, filtered to its flow, shows the redrive and then its handling.
    await page.locator(`.redrives li[data-event="${id}"]`).getByRole('button', { name: 'Show in log' }).click();
    const log = await page.locator('.log-body').innerText();
    assert.match(log, new RegExp(`redrive\\s+${id}[\\s\\S]*handle\\s+${id}`));
    assert.deepEqual(problems, []);
    await close();
  });

  test('event store: streams with versions, state as of a version, snapshots and conflicts', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'bank-account');
    await tab(page, 'Store');
    await toEnd(page);
    const panel = page.getByRole('tabpanel');
    assert.match(await panel.locator('.store-summary').innerText(), /accounts: \d+ stream\(s\), \d+ event\(s\)/);
    const stream = panel.locator('.stream').first();
    const version = Number((await stream.locator('.stream-version').innerText()).slice(1));
    assert.ok(version > 1);
    await stream.click();
    const slider = page.getByLabel('State as of stream version');
    await slider.fill('1');
    assert.match(await panel.locator('.version-slider').innerText(), /State as of version 1/);
    assert.equal(await panel.locator('.event-table tr.after').count(), Math.min(version, 80) - 1, 'later events are greyed');
    const conflicts = await panel.locator('.stream-badge.conflict').count();
    const snapshots = await panel.locator('.stream-badge.snapshot').count();
    assert.ok(conflicts + snapshots > 0, 'conflicts or snapshots are marked');
    await screenshot(page, 'views-store');
    assert.deepEqual(problems, []);
    await close();
  });

  test('read models: stale reads next to the write side, and a rebuild that catches up', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'order-read-model');
    await tab(page, 'Read models');
    const query = page.getByLabel('Query the read models');
    await query.fill('placed');
    // Arrow keys step the run only when no text field has the focus.
    await query.evaluate((element) => element.blur());
    // Some step has the slow read model behind the write side: a stale read.
    for (let i = 0; i < 200; i += 1) {
      if ((await page.locator('.query-result tr.stale').count()) > 0) break;
      await page.keyboard.press('ArrowRight');
    }
    assert.match(await page.locator('.query-result tr.stale').first().innerText(), /placed\s+\d+\s+\d+\s+stale read/);
    await screenshot(page, 'views-read-models-stale');
    await toEnd(page);
    const projection = page.locator('.projection[data-projection="orders-by-status"]');
    assert.equal(await projection.locator('.lag').getAttribute('data-lag'), '0');
    await projection.getByRole('button', { name: 'Rebuild from zero' }).click();
    await page.keyboard.press('ArrowRight');
    assert.ok(Number(await projection.locator('.lag').getAttribute('data-lag')) > 0, 'rebuilding starts far behind');
    await toEnd(page);
    assert.equal(await projection.locator('.lag').getAttribute('data-lag'), '0', 'caught up again');
    assert.match(await projection.innerText(), /rebuilt 1 time/);
    assert.equal(await page.locator('.query-result tr.stale').count(), 0);
    assert.deepEqual(problems, []);
    await close();
  });

  test('metrics: charts over simulated time, and a click jumps to that moment', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await tab(page, 'Metrics');
    assert.match(await page.getByRole('tabpanel').innerText(), /Charts of lag/);
    await toEnd(page);
    const panel = page.getByRole('tabpanel');
    for (const title of ['Consumer lag', 'DLQ depth', 'Processing latency', 'End-to-end latency per correlation id']) {
      await panel.getByRole('figure', { name: new RegExp(`^${title}`) }).waitFor();
    }
    assert.equal(await panel.locator('.flow-bar').count(), 5, 'one bar per order');
    const before = await counter(page);
    await panel.locator('.chart-plot').first().click({ position: { x: 20, y: 40 } });
    assert.notEqual(await counter(page), before, 'the click moved the run');
    assert.match(await counter(page), /rewound|step \d+ of/);
    await screenshot(page, 'views-metrics');
    assert.deepEqual(problems, []);
    await close();
  });

  test('anti-patterns: without idempotency the meter shows the duplicate effect', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'delivery-guarantees');
    await tab(page, 'Anti-patterns');
    const card = page.locator('.anti-pattern[data-anti-pattern="no_idempotency"]');
    await toEnd(page);
    assert.match(await card.locator('.meter').innerText(), /applied twice[^\n]*\n?[^\n]*0\s*\n?[^\n]*0 ✓/);
    await card.getByLabel('Anti-pattern no idempotency').check();
    await waitForCounter(page, 'step 0 of 0');
    await toEnd(page);
    const row = card.locator('.meter tr.bad');
    assert.match(await row.first().innerText(), /effects applied twice \(duplicate charges\)\s+0\s+[1-9]\d* ✗/);
    assert.match(await card.getAttribute('class'), /damaged/);
    await screenshot(page, 'views-anti-patterns');
    assert.deepEqual(problems, []);
    await close();
  });

  test('side by side: the same failure as choreography and orchestration, same outcome', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await page.getByRole('tab', { name: 'Side by side' }).click();
    await page.getByRole('button', { name: 'No trucks left' }).click();
    for (let i = 0; i < 40; i += 1) await page.getByRole('button', { name: 'Step both' }).click();
    const clock = await page.locator('.compare-clock').innerText();
    assert.match(clock, /both at \d+ ms/);
    await screenshot(page, 'views-side-by-side');
    await page.getByRole('button', { name: 'Run both to the end' }).click();
    const table = page.getByRole('table', { name: 'Choreography and orchestration compared' });
    const text = await table.innerText();
    assert.match(text, /Who knows whom[\s\S]*orchestrator knows 6/);
    assert.match(text, /Where the failure shows[\s\S]*shipment.failed from shipping[\s\S]*shipment.failed from shipping/);
    assert.match(text, /How it was compensated[\s\S]*inventory.released[\s\S]*payment.refunded[\s\S]*inventory.release[\s\S]*payment.refund/);
    assert.match(text, /Outcome\s[\s\S]*0 shipped, 5 cancelled[\s\S]*0 shipped, 5 cancelled/);
    assert.match(await page.locator('.compare-verdict').innerText(), /Both reach the same outcome/);
    await screenshot(page, 'views-side-by-side-end');
    assert.deepEqual(problems, []);
    await close();
  });
});
