//! End-to-end tests of the app, acting like a person at a 1280x800 screen: load, play,
//! step and rewind with the keyboard, inject faults from the menus, read the log, the
//! inspector and the invariants. Assertions are on what the page shows. Screenshots of
//! the main states go to e2e/output/app-*.png for people to look at.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { join } from 'node:path';
import { REPO, counter, open, pickScenario, screenshot, waitForCounter, servedApp } from './helpers.mjs';


async function press(page, key, times = 1) {
  for (let i = 0; i < times; i += 1) await page.keyboard.press(key);
}

/** Open the menu of the first token of a message queued in `sub` and choose `item`. */
async function injectOnQueued(page, sub, item) {
  const token = page.locator(`g.token[data-place="queued"]`).first();
  await token.waitFor();
  await token.click();
  const menu = page.getByRole('menu');
  await menu.waitFor();
  assert.match(await menu.innerText(), new RegExp(`in ${sub}`));
  await menu.getByRole('menuitem', { name: new RegExp(`^${item}`) }).click();
  await menu.waitFor({ state: 'detached' });
}

describe('the app', () => {
  const app = servedApp();

  test('plays, pauses, steps and rewinds with the keyboard', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await waitForCounter(page, 'step 0 of 0');
    // Playing computes new steps: the horizon grows with the cursor.
    const speed = page.getByLabel('Speed in steps per second');
    await speed.selectOption('8');
    await speed.evaluate((element) => element.blur());
    await page.keyboard.press(' ');
    await page.locator('.step-counter', { hasText: /^step ([3-9]|\d\d+) of/ }).waitFor();
    await page.keyboard.press(' ');
    const paused = await counter(page);
    await page.waitForTimeout(400);
    assert.equal(await counter(page), paused, 'Space pauses');
    await screenshot(page, 'app-playing');

    await press(page, 'Home');
    await waitForCounter(page, 'step 0 of \\d+');
    await press(page, 'ArrowRight', 3);
    await waitForCounter(page, 'step 3 of \\d+');
    await press(page, 'ArrowLeft');
    await waitForCounter(page, 'step 2 of \\d+');
    assert.match(await page.locator('.step-counter').innerText(), /rewound/, 'the counter says we look at the past');
    assert.equal(await page.locator('.log-body .log-row').count(), 2, 'the log shows the steps done so far');

    await press(page, 'End');
    await page.locator('.run-status', { hasText: 'finished' }).waitFor();
    const [, done, horizon] = (await counter(page)).match(/step (\d+) of (\d+)/);
    assert.equal(done, horizon, 'End runs to the end');
    assert.ok(await page.getByRole('button', { name: 'Play', exact: true }).isDisabled(), 'a finished run cannot play');

    // The scrubber jumps to any computed step.
    await page.getByLabel('Jump to step').fill('4');
    await waitForCounter(page, `step 4 of ${horizon}`);

    await press(page, 'r');
    await waitForCounter(page, 'step 0 of 0');
    assert.deepEqual(problems, []);
    await close();
  });

  test('a crashed service is drawn down and its messages pile up', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await page.locator('g.service[data-service="payment"]').click();
    const menu = page.getByRole('menu', { name: 'Service payment' });
    await menu.getByRole('menuitem', { name: /^Crash/ }).click();
    await waitForCounter(page, 'step 1 of 1');
    const payment = page.locator('g.service[data-service="payment"]');
    assert.match(await payment.getAttribute('class'), /\bdown\b/);
    assert.match(await payment.textContent(), /crashed/);
    // Orders keep coming every 80 ms; nobody takes them out of payment's queue.
    await press(page, 'End');
    // The run settles, and says what it left stranded.
    await page.locator('.run-status', { hasText: '5 message(s) wait for payment, which is down' }).waitFor();
    const depth = Number(await page.locator('[data-depth="payment-orders"]').textContent());
    assert.equal(depth, 5, 'all five orders wait in payment-orders');
    await screenshot(page, 'app-crashed');

    // The fault is in the script; restarting from the same menu drains the queue.
    await page.getByRole('tab', { name: /^Faults/ }).click();
    assert.match(await page.locator('.fault-table').innerText(), /step 0\s+crash\s+payment/);
    await payment.click();
    await page.getByRole('menu').getByRole('menuitem', { name: /^Restart/ }).click();
    await press(page, 'End');
    await page.locator('.run-status', { hasText: 'finished' }).waitFor();
    assert.equal(await page.locator('[data-depth="payment-orders"]').textContent(), '0');
    assert.deepEqual(problems, []);
    await close();
  });

  test('a duplicated message is skipped by the idempotent consumer', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await press(page, 'ArrowRight'); // order.placed reaches the bus: queued in payment-orders
    await waitForCounter(page, 'step 1 of 1');
    await injectOnQueued(page, 'payment-orders', 'Duplicate');
    for (let i = 0; i < 20 && (await page.locator('.log-row.verb-skip-dup').count()) === 0; i += 1) {
      await press(page, 'ArrowRight');
    }
    const row = await page.locator('.log-row.verb-skip-dup').first().innerText();
    assert.match(row, /payment-orders/);
    assert.match(row, /already processed/);
    assert.match(await page.locator('g.subscription[data-sub="payment-orders"]').textContent(), /1 duplicate\(s\) skipped/);
    await screenshot(page, 'app-duplicate');
    await page.getByRole('tab', { name: /^Invariants/ }).click();
    assert.equal(await page.locator('.invariant.broken').count(), 0, 'exactly-once effect holds');
    assert.deepEqual(problems, []);
    await close();
  });

  test('a poisoned message is retried with backoff, then reaches the DLQ', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await press(page, 'ArrowRight');
    await injectOnQueued(page, 'payment-orders', 'Mark as poison');
    await press(page, 'End');
    // Not "finished": the poisoned order waits in the DLQ, so the verdicts are pending.
    await page.locator('.run-status', { hasText: /^settled at \d+ ms with work parked: 1 in the DLQ of payment-orders/ }).waitFor();
    assert.equal(await page.locator('[data-dlq="payment-orders"]').textContent(), '1');
    // The log tells the story: failed attempts with a growing backoff, then the DLQ.
    await page.getByLabel('Filter by service').selectOption('payment');
    const log = await page.locator('.log-body').innerText();
    assert.match(log, /attempt 1: poison; retry in \d+ms[\s\S]*attempt 2: poison; retry in \d+ms/);
    const last = page.locator('.log-row.verb-fail', { hasText: 'dead-lettered (delivery_limit)' });
    assert.match(await last.innerText(), /order.placed[\s\S]*payment-orders[\s\S]*attempt 3/);
    await last.click();
    const inspector = page.getByRole('tabpanel');
    assert.match(await inspector.innerText(), /Delivery attempts \(\d+\)/);
    await screenshot(page, 'app-poison-dlq');
    // The DLQ tab lists the dead letter with its death history.
    await page.getByRole('tab', { name: /^DLQ/ }).click();
    assert.match(await inspector.locator('.dead-letters').innerText(), /delivery_limit[\s\S]*x-death/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('clicking a log row selects the message everywhere; the log filters by correlation id', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await press(page, 'End');
    await page.locator('.run-status', { hasText: 'finished' }).waitFor();
    const total = Number((await counter(page)).match(/of (\d+)/)[1]);

    await page.getByLabel('Filter by type').fill('shipment');
    await page.locator('.log-row.verb-publish').first().click();
    const panel = page.getByRole('tabpanel');
    const json = JSON.parse(await panel.getByLabel('The envelope as CloudEvents JSON').innerText());
    assert.equal(json.specversion, '1.0');
    assert.equal(json.type, 'io.eventscope.shipment.scheduled');
    assert.ok(json.correlationid && json.causationid, 'correlation and causation ids');
    assert.match(await panel.locator('.causal').innerText(), /order.placed[\s\S]*payment.completed[\s\S]*inventory.reserved/);
    assert.ok((await page.locator('.log-row.selected').count()) >= 1, 'its rows are highlighted');

    await page.getByLabel('Filter by type').fill('');
    await page.getByLabel('Filter by correlation id').fill(json.correlationid);
    const note = await page.locator('.log-count').innerText();
    const [, shown, of] = note.match(/(\d+) of (\d+) steps match/);
    assert.equal(Number(of), total);
    assert.ok(Number(shown) > 4 && Number(shown) < total, note);
    for (const type of await page.locator('.log-body .c-type').allInnerTexts()) {
      assert.match(type, /order.placed|payment|inventory|shipment/);
    }
    await screenshot(page, 'app-filtered');
    // A causal link selects the cause.
    await panel.locator('.ancestor .message-link').first().click();
    assert.match(await panel.locator('.panel-title').innerText(), /order.placed/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('injecting while rewound forks the run; removing the fault rebuilds it', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await press(page, 'ArrowRight', 20);
    await waitForCounter(page, 'step 20 of 20');
    await page.getByLabel('Jump to step').fill('18');
    await waitForCounter(page, 'step 18 of 20');
    await page.locator('g.service[data-service="shipping"]').click();
    await page.getByRole('menu').getByRole('menuitem', { name: /^Slow down/ }).click();
    const notice = page.locator('.notice.fork');
    await notice.waitFor();
    assert.match(await notice.innerText(), /Forked at step 18.*recomputed.*2 steps of the old future discarded/);
    await waitForCounter(page, 'step 19 of 19');
    await screenshot(page, 'app-forked');

    await press(page, 'ArrowRight', 3);
    await waitForCounter(page, 'step 22 of 22');
    await page.getByRole('tab', { name: /^Faults/ }).click();
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.locator('.notice.rebuilt', { hasText: 'back at step 22' }).waitFor();
    await waitForCounter(page, 'step 22 of 22');
    assert.match(await page.getByRole('tabpanel').innerText(), /No faults yet/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('a broken invariant turns red and links to the step that broke it', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'delivery-guarantees');
    await press(page, 'End');
    await page.locator('.run-status', { hasText: 'finished' }).waitFor();
    await page.getByRole('tab', { name: /^Invariants/ }).click();
    const broken = page.locator('.invariant.broken[data-invariant="no_event_lost"]');
    assert.match(await broken.innerText(), /Every event reaches every subscriber/);
    assert.ok((await page.locator('.invariant.ok').count()) >= 3, 'the others are green');
    await screenshot(page, 'app-invariants');
    const link = broken.getByRole('button', { name: /Broken at step \d+/ });
    const step = Number((await link.innerText()).match(/step (\d+)/)[1]);
    await link.click();
    await waitForCounter(page, `step ${step + 1} of \\d+`);
    // The step that broke it is the newest row of the log.
    assert.match(await page.locator('.log-row.current').innerText(), new RegExp(`^${step}\\b`));
    assert.deepEqual(problems, []);
    await close();
  });

  test('delivery settings are editable and restart the run', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'poison-message');
    await press(page, 'ArrowRight', 5);
    await page.getByRole('tab', { name: /^Delivery/ }).click();
    const panel = page.getByRole('tabpanel');
    assert.match(await panel.innerText(), /counts the first attempt/);
    const attempts = panel.getByLabel('Attempts max');
    await attempts.fill('2');
    await attempts.press('Enter');
    await page.locator('.notice.rebuilt', { hasText: 'restarted from step 0' }).waitFor();
    await waitForCounter(page, 'step 0 of 0');
    assert.match(await panel.innerText(), /2 = 1 try \+ 1 retry/);
    // A bad value is explained and changes nothing.
    await attempts.fill('lots');
    await attempts.press('Enter');
    assert.match(await panel.getByRole('alert').innerText(), /whole number from 1 to 100/);

    await panel.getByLabel('Delivery mode of billing-orders').selectOption('at_most_once');
    await page.locator('.notice.rebuilt').waitFor();
    assert.match(await panel.innerText(), /Acks before handling/);
    await panel.getByLabel('Dead-letter queue for billing-orders').uncheck();
    await page.getByRole('button', { name: 'End', exact: true }).click();
    await page.locator('.run-status', { hasText: /finished|step limit/ }).waitFor();
    assert.equal(await page.locator('[data-dlq="billing-orders"]').textContent(), 'off');
    await screenshot(page, 'app-delivery');
    assert.deepEqual(problems, []);
    await close();
  });

  test('the trace hash after End equals the native CLI for the same seed', async () => {
    // Build (or find up to date) the native CLI from the same sources as the app.
    execFileSync('cargo', ['build', '--quiet', '--bin', 'eventscope-cli'], { cwd: REPO, stdio: 'inherit' });
    const cli = join(REPO, 'target', 'debug', 'eventscope-cli');
    const output = execFileSync(cli, ['run', '--scenario', 'checkout', '--seed', '7'], { encoding: 'utf8' });
    const native = output.match(/trace hash ([0-9a-f]{16})/)[1];

    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    const seed = page.getByLabel('Seed', { exact: true });
    await seed.fill('7');
    await seed.press('Enter');
    await seed.evaluate((element) => element.blur());
    await press(page, 'End');
    await page.locator('.run-status', { hasText: 'finished' }).waitFor();
    assert.equal(await page.locator('.hash-value').innerText(), native);
    assert.deepEqual(problems, []);
    await close();
  });
});
