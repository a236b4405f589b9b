#!/usr/bin/env node
//! Browser measurements of the app (release build in dist/, headless Chromium).
//!
//! Usage: `make dist && node scripts/bench-browser.mjs` (prints a Markdown table).
//!
//! Long runs come from the app's own Workload setting (Delivery tab): the checkout's
//! order count is raised until the run has the wanted number of steps, exactly as a
//! person would. Every figure is wall-clock time measured inside the page with
//! performance.now(): from dispatching the key press (or the scrubber's input event)
//! until the step counter shows the new step, plus a forced layout
//! (getBoundingClientRect), so it covers the reducer, the simulation, Yew's render
//! and the browser's style and layout, but not painting. The views (sequence diagram,
//! each details tab, side by side) are measured the same way at the same history.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, open, REPO, serve } from '../e2e/helpers.mjs';

const DIST = process.env.DIST_DIR ?? join(REPO, 'dist');

/** Time `count` presses of `key`, each until the counter changes and layout is done. */
function timeKeys(page, key, count) {
  return page.evaluate(
    async ({ key, count }) => {
      const counter = document.querySelector('.step-counter');
      const changed = (before) =>
        new Promise((resolve) => {
          if (counter.textContent !== before) return resolve();
          setTimeout(resolve, 5000);
          const observer = new MutationObserver(() => {
            if (counter.textContent !== before) {
              observer.disconnect();
              resolve();
            }
          });
          observer.observe(counter, { subtree: true, childList: true, characterData: true });
        });
      const times = [];
      for (let i = 0; i < count; i += 1) {
        const before = counter.textContent;
        const start = performance.now();
        window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
        await changed(before);
        document.body.getBoundingClientRect();
        times.push(performance.now() - start);
        // Let the browser paint between two presses, as between two key repeats.
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      }
      return times;
    },
    { key, count },
  );
}

/** Time jumps of the scrubber to each target step. */
function timeScrubs(page, targets) {
  return page.evaluate(async (targets) => {
    const counter = document.querySelector('.step-counter');
    const scrubber = document.querySelector('input.scrubber');
    const times = [];
    for (const target of targets) {
      const before = counter.textContent;
      const start = performance.now();
      scrubber.value = String(target);
      scrubber.dispatchEvent(new Event('input', { bubbles: true }));
      if (counter.textContent === before) {
        // Bounded: a target equal to the current step changes nothing.
        await new Promise((resolve) => {
          setTimeout(resolve, 5000);
          const observer = new MutationObserver(() => {
            if (counter.textContent !== before) {
              observer.disconnect();
              resolve();
            }
          });
          observer.observe(counter, { subtree: true, childList: true, characterData: true });
        });
      }
      document.body.getBoundingClientRect();
      times.push({ target, ms: performance.now() - start, shown: counter.textContent.trim() });
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    }
    return times;
  }, targets);
}

/** Checkout with `orders` orders, run to its end; returns the horizon and the time End took. */
async function longRun(page, orders) {
  await page.getByLabel('Scenario', { exact: true }).selectOption('checkout');
  await page.getByRole('tab', { name: /^Delivery/ }).click();
  const field = page.getByLabel(/order.placed from storefront/);
  await field.fill(String(orders));
  await field.press('Enter');
  await page.locator('.step-counter', { hasText: /^step 0 of 0/ }).waitFor();
  await field.evaluate((element) => element.blur());
  const start = Date.now();
  await page.keyboard.press('End');
  await page.locator('.run-status', { hasText: /finished|step limit/ }).waitFor({ timeout: 300000 });
  const ms = Date.now() - start;
  const horizon = Number((await page.locator('.step-counter').innerText()).match(/of (\d+)/)[1]);
  return { horizon, ms };
}

const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: pick(0.5), p95: pick(0.95), max: sorted[sorted.length - 1] };
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;

/** Wall-clock ms from clicking an export item until its download starts. */
async function timeExport(page, format) {
  if (!(await page.locator('.export-menu').isVisible())) await page.getByRole('button', { name: /^Export/ }).click();
  const start = Date.now();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator(`.export-menu [data-format="${format}"]`).click(),
  ]);
  const ms = Date.now() - start;
  const { size } = await stat(await download.path());
  return { ms, bytes: size };
}

const server = await serve(DIST);
const browser = await launch();
const rows = [];
const version = browser.version();
try {
  {
    const { page, close } = await open(browser, server.url);
    const run = await longRun(page, 1100);
    rows.push([`End: compute a checkout run of ${run.horizon} steps (1,100 orders)`, `${run.ms} ms`, 'once, wall clock from Node']);
    // Step forward from step 10,000 (replayed from the recorded history) and back.
    await timeScrubs(page, [10000]);
    const forward = stats(await timeKeys(page, 'ArrowRight', 60));
    rows.push(['→ one step + re-render at a 10,000-step history', `median ${fmt(forward.median)}`, `p95 ${fmt(forward.p95)}, max ${fmt(forward.max)} (60 presses)`]);
    const back = stats(await timeKeys(page, 'ArrowLeft', 60));
    rows.push(['← one step back + re-render at a 10,000-step history', `median ${fmt(back.median)}`, `p95 ${fmt(back.p95)}, max ${fmt(back.max)} (60 presses)`]);
    await close();
  }
  {
    // The views: one step at a 10,000-step history with the sequence diagram on the
    // canvas and each details tab open in turn (only the open tab is rendered, so this
    // is "all panels open" one at a time), plus the side-by-side canvas.
    const { page, close } = await open(browser, server.url);
    await longRun(page, 1100);
    await page.getByRole('tab', { name: 'Sequence' }).click();
    for (const name of ['Metrics', 'Sagas', 'Store', 'Read models', 'DLQ', 'Anti-patterns', 'Invariants']) {
      await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
      await timeScrubs(page, [10000]);
      const t = stats(await timeKeys(page, 'ArrowRight', 40));
      rows.push([`→ one step + re-render at a 10,000-step history, sequence diagram + ${name} tab`, `median ${fmt(t.median)}`, `p95 ${fmt(t.p95)}, max ${fmt(t.max)} (40 presses)`]);
    }
    await page.getByRole('tab', { name: 'Side by side' }).click();
    await page.getByRole('tab', { name: /^Metrics/ }).click();
    await timeScrubs(page, [10000]);
    const t = stats(await timeKeys(page, 'ArrowRight', 40));
    rows.push(['→ one step + re-render at a 10,000-step history, side by side + Metrics tab', `median ${fmt(t.median)}`, `p95 ${fmt(t.p95)}, max ${fmt(t.max)} (40 presses)`]);
    await close();
  }
  {
    // Computing new steps at the frontier: fork a long run at step 10,000 with a
    // harmless fault (the future is discarded), then every → computes a new step.
    const { page, close } = await open(browser, server.url);
    await longRun(page, 2000);
    await timeScrubs(page, [10000]);
    await page.locator('g.service[data-service="accounting"]').click();
    await page.getByRole('menu').getByRole('menuitem', { name: /^Slow down/ }).click();
    await page.locator('.step-counter', { hasText: /^step 10001 of 10001/ }).waitFor();
    const frontier = stats(await timeKeys(page, 'ArrowRight', 60));
    rows.push(['→ one new step (computed) + re-render at a 10,000-step history', `median ${fmt(frontier.median)}`, `p95 ${fmt(frontier.p95)}, max ${fmt(frontier.max)} (60 presses)`]);
    await close();
  }
  {
    const { page, close } = await open(browser, server.url);
    const run = await longRun(page, 12000);
    rows.push([`End: compute a checkout run of ${run.horizon} steps (12,000 orders, stops at steps_max)`, `${run.ms} ms`, 'once, wall clock from Node']);
    const backward = await timeScrubs(page, [99999, 77777, 50000, 31415, 12345, 2048, 1]);
    const b = stats(backward.map((t) => t.ms));
    rows.push([`scrub backwards to 7 steps of the ${run.horizon}-step run (${backward.map((t) => t.target).join(', ')})`, `median ${fmt(b.median)}`, `max ${fmt(b.max)}`]);
    const forward = await timeScrubs(page, [2000, 60000, 100000]);
    rows.push(...forward.map((t) => [`scrub forwards to step ${t.target}`, fmt(t.ms), 'from the nearest snapshot at or below the target']));
    const step = stats(await timeKeys(page, 'ArrowLeft', 30));
    rows.push(['← one step back + re-render at a 100,000-step history', `median ${fmt(step.median)}`, `p95 ${fmt(step.p95)}, max ${fmt(step.max)} (30 presses)`]);
    // Exports run in the background worker: the first one starts it (its wasm is
    // fetched and compiled), and every export replays the run from its configuration.
    await page.keyboard.press('End');
    for (const [format, label] of [['Trace', 'first export, starts the worker'], ['Trace', 'again, worker running'], ['Perfetto', 'worker running']]) {
      const e = await timeExport(page, format);
      rows.push([`Export ${format} at step ${run.horizon} (${label})`, `${e.ms} ms`, `${(e.bytes / 1e6).toFixed(1)} MB file; click to download, wall clock from Node`]);
    }
    await close();
  }
} finally {
  await browser.close();
  await server.stop();
}

console.log(`Chromium ${version}, viewport 1280x800, release build (dist/)\n`);
console.log('| what | result | detail |');
console.log('|---|---|---|');
for (const [what, result, detail] of rows) console.log(`| ${what} | ${result} | ${detail} |`);
