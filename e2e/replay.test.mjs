// Opening a run far from its start: a share link may name any step up to the largest a
// scenario allows, and reaching it means replaying the run. The page must show the
// progress, stay responsive, and let the user cancel and keep the run they had.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';

import { REPO, counter, open, screenshot, servedApp, waitForCounter } from './helpers.mjs';

/** The largest `steps_max` (and so the largest step) a scenario may ask for: the run
 * budget over the bytes a step may hold (`sim::limits::STEPS_MAX_LIMIT`). */
const STEP_LARGEST = 1_048_576;
const STEP_LARGEST_TEXT = '1,048,576';

/** A share-link fragment for `payload`, written as the app writes one. */
function shareFragment(payload) {
  return `#/play?s=${deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url')}`;
}

/**
 * The pub/sub scenario with `orders` orders and room for `stepsMax` steps. With
 * `retried`, every consumer keeps failing and retries each order up to 100 times, so
 * a few thousand orders make a run that fills the largest step count.
 */
function pubsub(orders, stepsMax, { retried = false } = {}) {
  const scenario = JSON.parse(readFileSync(join(REPO, 'scenarios', 'pubsub.json'), 'utf8'));
  scenario.name = 'pubsub-long';
  scenario.steps_max = stepsMax;
  scenario.workload[0].repeat.count = orders;
  if (retried) {
    for (const sub of scenario.subscriptions) {
      sub.retry = { attempts_max: 100, backoff_initial_ms: 1, backoff_multiplier_percent: 100, backoff_max_ms: 1, jitter_per_mille: 0 };
    }
  }
  return scenario;
}

/** Faults that make every consumer of the pub/sub scenario fail every handling. */
const EVERY_HANDLING_FAILS = {
  scripted: ['email', 'analytics', 'warehouse'].map((service) => ({
    at: { step: 0 },
    fault: { fail_handlers: { service, per_mille: 1000 } },
  })),
};

/** A link to the longest run a link may name, at its last step. */
const LARGEST = () => ({
  v: 1,
  scenario: pubsub(4_000, STEP_LARGEST, { retried: true }),
  seed: 5,
  faults: EVERY_HANDLING_FAILS,
  step: STEP_LARGEST,
});

/**
 * Slows the page's CPU as a slow phone would be (DevTools' CPU throttling). The app
 * replays a million steps in about a second on this machine, too quick to watch its
 * progress or press Cancel; at a twentieth of the speed both can be seen.
 */
async function throttle(page, rate) {
  const session = await page.context().newCDPSession(page);
  await session.send('Emulation.setCPUThrottlingRate', { rate });
}

/** The page's run before a link arrives: the default scenario, three steps in. */
async function threeStepsIn(page) {
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await waitForCounter(page, 'step 3 of 3');
  return page.getByLabel('Scenario', { exact: true }).inputValue();
}

describe('replaying a far step', () => {
  const app = servedApp();

  test('a link at the largest step shows progress, keeps the page responsive, and Cancel keeps the run', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    const scenarioBefore = await threeStepsIn(page);
    const link = shareFragment(LARGEST());
    await throttle(page, 20);
    await page.evaluate((fragment) => {
      location.hash = fragment;
    }, link);

    const dialog = page.getByRole('dialog', { name: `Opening the run at step ${STEP_LARGEST_TEXT}` });
    await dialog.waitFor({ timeout: 15000 });
    // The progress moves: the page paints between slices, it is not frozen in one.
    const count = dialog.locator('.replay-count');
    const stepOf = async () => Number((await count.innerText()).match(/^step ([\d,]+) of/)[1].replaceAll(',', ''));
    const seen = [await stepOf()];
    for (let i = 0; i < 3; i++) {
      await page.waitForFunction(
        (last) => Number(document.querySelector('.replay-count')?.textContent.match(/^step ([\d,]+)/)?.[1].replaceAll(',', '')) > last,
        seen.at(-1),
        { timeout: 10000 },
      );
      seen.push(await stepOf());
    }
    assert.ok(seen.every((step, i) => i === 0 || step > seen[i - 1]), `progress moves: ${seen.join(', ')}`);
    assert.ok(seen.at(-1) < STEP_LARGEST);
    assert.equal(await dialog.locator('progress').getAttribute('max'), String(STEP_LARGEST));
    await screenshot(page, 'replay-progress');

    // The page answers while it replays: a frame is painted and a script runs.
    const frameMs = await page.evaluate(
      () => new Promise((done) => {
        const asked = performance.now();
        requestAnimationFrame(() => done(performance.now() - asked));
      }),
    );
    assert.ok(frameMs < 2000, `a frame within 2 s while replaying, took ${frameMs} ms`);

    // Cancel has the focus: Enter presses it.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await throttle(page, 1);
    assert.equal(await counter(page), 'step 3 of 3', 'the run from before the link is still on screen');
    assert.equal(await page.getByLabel('Scenario', { exact: true }).inputValue(), scenarioBefore);
    assert.match(
      await page.locator('.notice').innerText(),
      new RegExp(`Stopped opening the run at step [\\d,]+ of ${STEP_LARGEST_TEXT}: the run you had is unchanged`),
    );
    // And it goes on working.
    await page.keyboard.press('ArrowRight');
    await waitForCounter(page, 'step 4 of 4');
    assert.deepEqual(problems, []);
    await close();
  });

  test('Escape cancels too, and a far link that finishes replaces the run at its step', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await threeStepsIn(page);
    await throttle(page, 20);
    await page.evaluate((fragment) => {
      location.hash = fragment;
    }, shareFragment(LARGEST()));
    const far = page.getByRole('dialog', { name: /Opening the run at step/ });
    await far.waitFor({ timeout: 15000 });
    await page.keyboard.press('Escape');
    await far.waitFor({ state: 'detached' });
    await throttle(page, 1);
    assert.equal(await counter(page), 'step 3 of 3');

    // 30,000 steps: farther than the app replays inside one action.
    await page.evaluate((fragment) => {
      location.hash = fragment;
    }, shareFragment({ v: 1, scenario: pubsub(20_000, 200_000), seed: 5, step: 30_000 }));
    await waitForCounter(page, 'step 30000 of 30000');
    assert.equal(await page.getByRole('dialog').count(), 0);
    assert.match(await page.locator('.notice').innerText(), /Opened a shared run: pubsub-long, seed 5, 0 faults of yours, at step 30000/);
    assert.deepEqual(problems, []);
    await close();
  });
});
