//! End-to-end tests of the lessons, walked as a learner would: open the lesson's own
//! address, read the introduction, play until the run stops for the prediction, answer
//! it, continue to the end, press the "try this" buttons, and check that the meter and
//! the live checklist change the way the lesson says. Also: the index, progress that
//! survives a reload, deep links, free play keeping the run, and bad addresses or
//! stored values that must not break anything. Screenshots go to e2e/output/lesson-*.png.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { open, screenshot, servedApp } from './helpers.mjs';


/** The step counter's numbers: [step, horizon]. */
async function counter(page) {
  const text = await page.locator('.step-counter').innerText();
  const [, step, horizon] = text.match(/step (\d+) of (\d+)/);
  return [Number(step), Number(horizon)];
}

/** Meter readings by label: { label: { actual, ok } }. */
async function meter(page) {
  const rows = page.locator('.meter-table tr.reading');
  const out = {};
  for (let i = 0; i < (await rows.count()); i += 1) {
    const row = rows.nth(i);
    const cls = await row.getAttribute('class');
    out[await row.getAttribute('data-label')] = {
      actual: Number(await row.getAttribute('data-actual')),
      ok: /\bok\b/.test(cls) ? true : /\bbad\b/.test(cls) ? false : null,
    };
  }
  return out;
}

/** The verdict of a checklist item in the lesson's full list: pass, fail or na. */
async function verdict(page, item) {
  return page.locator(`.lesson-column .check-list [data-item="${item}"]`).first().getAttribute('data-verdict');
}

async function runToEnd(page) {
  await page.keyboard.press('End');
  await page.locator('.run-status', { hasText: /finished|stopped|settled/ }).waitFor({ timeout: 30000 });
}

async function pressTry(page, label) {
  await page.locator('.try-button', { hasText: label }).click();
}

/**
 * Opens a lesson by its address and walks it up to the end of the first run:
 * intro, play until the question, answer, continue, end. Returns the page.
 */
async function walk(browser, url, slug, { answer, tryFirst, play = 'play' }) {
  const session = await open(browser, `${url}#/lessons/${slug}`);
  const { page } = session;
  await page.locator('.lesson-column').waitFor();
  assert.match(await page.locator('.lesson-intro').innerText(), /\w+(\W+\w+){10}/, 'the introduction is shown first');
  assert.match(await page.locator('.narration-empty').innerText(), /Press Play/);
  if (tryFirst) await pressTry(page, tryFirst);
  if (play === 'play') {
    await page.getByLabel('Speed in steps per second').selectOption('60');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
  } else {
    await page.keyboard.press('End');
  }
  const question = page.getByRole('dialog', { name: /./ }).filter({ hasText: 'Predict what happens next' });
  await question.waitFor({ timeout: 30000 });
  // Stopped just before the reveal: not at the end, and moving forward stays put.
  const [stopped] = await counter(page);
  await page.keyboard.press('ArrowRight');
  assert.equal((await counter(page))[0], stopped, 'the run waits for the answer');
  assert.ok(await page.locator('.narration, .narration-empty').count());
  await question.locator('.choice').nth(answer).click();
  await question.locator('.prediction-result').waitFor();
  await question.getByRole('button', { name: 'Continue the run' }).click();
  await question.waitFor({ state: 'detached' });
  await runToEnd(page);
  await page.locator('.remember').waitFor();
  assert.ok((await page.locator('.told').count()) > 0, 'narration was shown along the run');
  return session;
}

describe('lessons', () => {
  const app = servedApp();

  test('the index lists twelve lessons and free play, and is the landing page', async () => {
    const { page, problems, close } = await open(app.browser, app.server.url);
    assert.equal(await page.locator('.lesson-card').count(), 12);
    assert.ok(await page.getByRole('link', { name: 'Free play' }).isVisible());
    assert.match(await page.locator('.index-progress').innerText(), /0 of 12 lessons completed/);
    await screenshot(page, 'lesson-index');
    await page.getByRole('link', { name: 'Free play' }).click();
    await page.locator('.play-bar').waitFor();
    assert.match(page.url(), /#\/play$/);
    assert.equal(await page.locator('.play-bar .check-chip').count(), 7, 'free play shows the live checklist');
    await page.goBack();
    await page.locator('.lessons-index').waitFor();
    assert.deepEqual(problems, []);
    await close();
  });

  test('1 envelope-pubsub: one copy per subscriber; a crashed subscriber falls behind', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'envelope-pubsub', { answer: 1 });
    let m = await meter(page);
    assert.deepEqual(Object.values(m).map((r) => r.ok), [true, true, true]);
    assert.equal(await verdict(page, 'versioned'), 'pass');
    await page.keyboard.press('Home');
    await pressTry(page, 'Crash the warehouse');
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['warehouse-orders'].ok, false, 'the crashed warehouse handled fewer orders');
    assert.equal(m['email-orders'].ok, true, 'the others carried on');
    assert.match(await page.locator('.narration').innerText(), /loose coupling/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('2 delivery-guarantees: only the idempotent ledger books 20; without idempotency it double-books', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'delivery-guarantees', { answer: 2 });
    let m = await meter(page);
    assert.deepEqual([m['ledger-amo'].actual, m['ledger-eoe'].actual], [19, 20]);
    assert.ok(m['ledger-alo'].actual > 20);
    assert.equal(m['ledger-eoe'].ok, true);
    await screenshot(page, 'lesson-end');
    await pressTry(page, 'Turn off idempotency');
    assert.equal(await page.locator('.try-button', { hasText: 'Turn off idempotency' }).getAttribute('aria-pressed'), 'true');
    await runToEnd(page);
    m = await meter(page);
    assert.ok(m['ledger-eoe'].actual > 20, `the third ledger double-books (${m['ledger-eoe'].actual})`);
    assert.equal(await verdict(page, 'idempotent'), 'fail');
    assert.match(
      await page.locator('.lesson-column .check-list [data-item="idempotent"]').first().innerText(),
      /applied twice/,
    );
    assert.deepEqual(problems, []);
    await close();
  });

  test('3 poison-messages: one dead letter; without a DLQ the checklist turns red', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'poison-messages', { answer: 1 });
    let m = await meter(page);
    assert.equal(m['messages in the DLQ'].actual, 1);
    assert.equal(m['orders invoiced'].actual, 9);
    assert.equal(await verdict(page, 'dlq'), 'pass');
    await pressTry(page, 'Redrive the dead letter');
    await runToEnd(page);
    assert.match(await page.locator('.narration').innerText(), /Redriven/);
    await pressTry(page, 'Remove the DLQ');
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['messages in the DLQ'].ok, false);
    assert.equal(await verdict(page, 'dlq'), 'fail');
    assert.deepEqual(problems, []);
    await close();
  });

  test('4 choreography: the question comes after the try; compensations refund every unshipped order', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'choreography', {
      answer: 1,
      tryFirst: "Take away shipping's trucks",
    });
    const m = await meter(page);
    assert.equal(m['orders shipped'].actual, 0, 'no trucks: paid orders do not ship');
    assert.equal(m['paid orders shipped or refunded'].ok, true, 'but every one is refunded: a correct compensation is a pass');
    assert.ok(m['payments refunded'].actual > 0);
    assert.equal(m['money in the system'].ok, true);
    assert.match(await page.locator('.narration').innerText(), /compensation chain/);
    assert.equal(await verdict(page, 'compensations'), 'pass');
    assert.deepEqual(problems, []);
    await close();
  });

  test('5 orchestration: every saga settles; a failing payment leaves sagas unsettled', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'orchestration', { answer: 1, play: 'end' });
    let m = await meter(page);
    assert.equal(m['sagas completed or compensated'].ok, true);
    assert.equal(await verdict(page, 'compensations'), 'pass');
    // At the end nothing is left to fail: the try is disabled and says why.
    const failTry = page.locator('.try-item', { has: page.getByRole('button', { name: 'Make payment fail' }) });
    assert.equal(await failTry.getByRole('button').isDisabled(), true);
    assert.match(await failTry.locator('.try-note').innerText(), /Rewind first/);
    await page.keyboard.press('Home');
    await pressTry(page, 'Make payment fail');
    await runToEnd(page);
    m = await meter(page);
    assert.ok(Object.values(m).some((r) => r.ok === false), 'a payment that always fails breaks a promise');
    assert.deepEqual(problems, []);
    await close();
  });

  test('6 choreography-vs-orchestration: with no trucks both designs refund', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'choreography-vs-orchestration', { answer: 1 });
    let m = await meter(page);
    assert.equal(m['paid orders shipped or refunded'].ok, true);
    assert.equal(m['payments refunded'].actual, 0);
    await page.keyboard.press('Home');
    await pressTry(page, "Take away shipping's trucks");
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['orders shipped'].actual, 0);
    assert.equal(m['paid orders shipped or refunded'].ok, true);
    // The other design, same seed and faults: the orchestrator compensates too.
    await page.getByRole('button', { name: /^Switch to: / }).click();
    assert.equal(await page.getByLabel('Scenario', { exact: true }).inputValue(), 'checkout-orchestration');
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['orders shipped'].actual, 0);
    assert.equal(m['paid orders shipped or refunded'].ok, true);
    assert.match(page.url(), /#\/lessons\/choreography-vs-orchestration$/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('7 event-sourcing: conflicts are caught, not lost; slowing down makes more of them', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'event-sourcing', { answer: 0, play: 'end' });
    assert.match(await page.locator('.prediction-summary').innerText(), /not quite/, 'a wrong answer is said kindly');
    let m = await meter(page);
    assert.equal(m['deposits recorded'].ok, true);
    const conflicts = m['conflicts caught and retried'].actual;
    assert.equal(m['conflicts caught and retried'].ok, null, 'info readings make no promise');
    assert.equal(await page.locator('tr.reading.info .expected').first().innerText(), '—');
    await page.keyboard.press('Home');
    await pressTry(page, 'Slow the accounts service down');
    await runToEnd(page);
    m = await meter(page);
    assert.notEqual(m['conflicts caught and retried'].actual, conflicts);
    assert.equal(m['deposits recorded'].ok, true, 'no update is lost');
    assert.deepEqual(problems, []);
    await close();
  });

  test('8 cqrs: the read model catches up, and a rebuild replays it', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'cqrs', { answer: 1 });
    assert.equal((await meter(page))['orders placed (read model)'].ok, true);
    await pressTry(page, 'Rebuild orders-by-status');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.match(await page.locator('.narration').innerText(), /Rebuild/);
    await runToEnd(page);
    assert.equal((await meter(page))['orders placed (read model)'].ok, true, 'caught up again');
    assert.deepEqual(problems, []);
    await close();
  });

  test('9 schema-versioning: without versioning fewer events are readable than stored', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'schema-versioning', { answer: 1 });
    let m = await meter(page);
    assert.equal(m['events read by totals-by-currency'].ok, true);
    assert.equal(await verdict(page, 'schema'), 'pass');
    await pressTry(page, 'Forget schema versioning');
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['events read by totals-by-currency'].ok, false, 'readable events < head');
    assert.equal(await verdict(page, 'schema'), 'fail');
    assert.match(await page.locator('.narration').innerText(), /stops/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('10 correlation-ids: dropping them breaks tracing', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'correlation-ids', { answer: 1 });
    assert.equal(Object.values(await meter(page))[0].ok, true);
    assert.equal(await verdict(page, 'correlation'), 'pass');
    await pressTry(page, 'Drop correlation ids');
    await runToEnd(page);
    assert.equal(Object.values(await meter(page))[0].ok, false);
    assert.equal(await verdict(page, 'correlation'), 'fail');
    assert.deepEqual(problems, []);
    await close();
  });

  test('11 outbox: a dual write loses an event', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'outbox', { answer: 1 });
    let m = await meter(page);
    assert.equal(m['orders shipped / saved'].ok, true);
    await pressTry(page, 'Use a dual write instead');
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['orders shipped / saved'].ok, false, 'shipments < saved');
    assert.match(await page.locator('.narration').innerText(), /Dual write/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('12 monitoring: a crashed consumer shows as lag', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'monitoring', { answer: 1 });
    let m = await meter(page);
    assert.equal(m['highest consumer lag (messages)'].ok, true);
    assert.match(await page.locator('tr.reading .expected').first().innerText(), /^≤ 2$/);
    await page.keyboard.press('Home');
    await pressTry(page, 'Crash inventory for 400 ms');
    await runToEnd(page);
    m = await meter(page);
    assert.equal(m['highest consumer lag (messages)'].ok, false, 'the lag climbs past the limit');
    assert.match(await page.locator('.narration').innerText(), /backlog/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('progress survives a reload and shows on the index; corrupt storage is ignored', async () => {
    const { page, problems, close } = await walk(app.browser, app.server.url, 'outbox', { answer: 1, play: 'end' });
    await page.goto(`${app.server.url}#/`);
    await page.reload();
    await page.locator('.lessons-index').waitFor();
    assert.match(await page.locator('[data-lesson="outbox"]').innerText(), /Completed/);
    assert.match(await page.locator('.index-progress').innerText(), /1 of 12/);
    assert.match(await page.locator('.index-actions').innerText(), /Continue with lesson 1/);
    await page.evaluate(() => localStorage.setItem('eventscope.progress', '{"v":1,"completed":[42,"nope"'));
    await page.reload();
    await page.locator('.lessons-index').waitFor();
    assert.match(await page.locator('.index-progress').innerText(), /0 of 12/);
    await page.evaluate(() => localStorage.setItem('eventscope.progress', '{"v":1,"completed":["cqrs","x"],"answers":{"cqrs":99}}'));
    await page.reload();
    await page.locator('.lessons-index').waitFor();
    assert.match(await page.locator('.index-progress').innerText(), /1 of 12/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('a deep link opens the right lesson; next and previous; bad addresses show the index', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/lessons/cqrs`);
    await page.locator('.lesson-bar', { hasText: 'Lesson 8 of 12' }).waitFor();
    assert.equal(await page.getByLabel('Scenario', { exact: true }).inputValue(), 'order-read-model');
    await page.getByRole('link', { name: 'Next ›' }).click();
    await page.locator('.lesson-bar', { hasText: 'Lesson 9 of 12' }).waitFor();
    assert.match(page.url(), /#\/lessons\/schema-versioning$/);
    await page.getByRole('link', { name: '‹ Previous' }).click();
    await page.locator('.lesson-bar', { hasText: 'Lesson 8 of 12' }).waitFor();
    await page.goto(`${app.server.url}#/lessons/no-such-lesson`);
    await page.locator('.index-notice').waitFor();
    assert.equal(await page.locator('.lesson-card').count(), 12);
    await page.goto(`${app.server.url}#/%%%/?&&=`);
    await page.locator('.lessons-index').waitFor();
    assert.deepEqual(problems, []);
    await close();
  });

  test('leaving a lesson for free play keeps the run: scenario, seed, faults, anti-patterns, step', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/lessons/poison-messages`);
    await page.locator('.lesson-column').waitFor();
    await pressTry(page, 'Remove the DLQ');
    for (let i = 0; i < 7; i += 1) await page.keyboard.press('ArrowRight');
    const before = await counter(page);
    await screenshot(page, 'lesson-midway');
    await page.getByRole('link', { name: 'Open in free play' }).click();
    await page.locator('.play-bar').waitFor();
    assert.match(page.url(), /#\/play$/);
    assert.deepEqual(await counter(page), before, 'same step');
    assert.equal(await page.getByLabel('Scenario', { exact: true }).inputValue(), 'poison-message');
    assert.equal(await page.getByLabel('Seed').inputValue(), '1');
    assert.equal(await page.locator('.play-bar [data-item="dlq"]').getAttribute('data-verdict'), 'fail', 'anti-pattern kept');
    await page.getByRole('button', { name: /^Why/ }).click();
    assert.match(await page.locator('.checklist-popover').innerText(), /has no dead-letter queue/);
    await screenshot(page, 'lesson-free-play');
    // Picking another scenario from a lesson is free play too.
    await page.goto(`${app.server.url}#/lessons/outbox`);
    await page.locator('.lesson-column').waitFor();
    await page.getByLabel('Scenario', { exact: true }).selectOption('checkout');
    await page.locator('.play-bar').waitFor();
    assert.match(page.url(), /#\/play$/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('the prediction dialog, keyboard only', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/lessons/delivery-guarantees`);
    await page.locator('.lesson-column').waitFor();
    await page.keyboard.press('End');
    const question = page.locator('.prediction');
    await question.waitFor({ timeout: 30000 });
    await screenshot(page, 'lesson-prediction');
    // Focus moved to the first choice; Tab reaches the third; Space answers.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'AAt-most-once');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press(' ');
    await question.locator('.prediction-result.right').waitFor();
    await screenshot(page, 'lesson-prediction-answered');
    // Focus is on Continue: Enter resumes.
    await page.keyboard.press('Enter');
    await question.waitFor({ state: 'detached' });
    await page.keyboard.press('End');
    await page.locator('.remember').waitFor({ timeout: 30000 });
    assert.deepEqual(problems, []);
    await close();
  });
});
