//! End-to-end tests of the layout at the screen sizes people use: three desktop sizes
//! (a small laptop, a common laptop, a full-HD projector) and a phone.
//!
//! At every size each of the details tabs is clicked and its panel must lie inside the
//! viewport, with the details column never scrolled or scrollable sideways: a tab
//! strip wider than its column once hid half the tabs' panels off to the right. On the
//! phone the regions stack, the page never scrolls sideways, the header and toolbar
//! controls do not overlap, and the canvas hint sits beside the diagram, not on it.
//! Screenshots go to e2e/output/layout-WxH*.png.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { join } from 'node:path';
import { OUTPUT, open, pickScenario, screenshot, servedApp } from './helpers.mjs';

const DESKTOP = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
];
const PHONE = { width: 390, height: 844 };
/** Sub-pixel rounding of boxes that touch. */
const SLACK_PX = 0.5;

const size = (viewport) => `${viewport.width}x${viewport.height}`;

/** Whether two boxes share more than a hairline of area. */
function overlap(a, b) {
  return (
    a.x + a.width > b.x + SLACK_PX &&
    b.x + b.width > a.x + SLACK_PX &&
    a.y + a.height > b.y + SLACK_PX &&
    b.y + b.height > a.y + SLACK_PX
  );
}

/** Asserts that a box lies inside the viewport; `what` names it in the message. */
function assertInside(box, viewport, what) {
  assert.ok(box, `${what} is rendered`);
  const { x, y, width, height } = box;
  assert.ok(
    x >= -SLACK_PX && y >= -SLACK_PX && x + width <= viewport.width + SLACK_PX && y + height <= viewport.height + SLACK_PX,
    `${what} at (${x}, ${y}) ${width}x${height} is outside the ${size(viewport)} viewport`,
  );
}

/** Horizontal scroll state of the details column and the open panel. */
function sideways(page) {
  return page.evaluate(() => {
    const aside = document.querySelector('aside.details');
    const panel = aside?.querySelector('[role="tabpanel"]');
    const of = (e) => e && { scrollWidth: e.scrollWidth, clientWidth: e.clientWidth, scrollLeft: e.scrollLeft };
    return { aside: of(aside), panel: of(panel) };
  });
}

/** Clicks every details tab in turn and checks its panel is fully reachable. */
async function checkTabs(page, viewport) {
  const tabs = page.locator('aside.details [role="tab"]');
  const count = await tabs.count();
  assert.equal(count, 10, 'ten details tabs');
  for (let i = 0; i < count; i += 1) {
    const tab = tabs.nth(i);
    const name = (await tab.innerText()).trim();
    await tab.click();
    assert.equal(await tab.getAttribute('aria-selected'), 'true', `${name} selected`);
    // Keyboard users reach tabs by focus: focusing one must not scroll anything sideways.
    await tab.focus();
    const panel = page.locator('aside.details [role="tabpanel"]');
    // Scrolling the page vertically to a panel is fine (the phone stacks the regions).
    await panel.scrollIntoViewIfNeeded();
    assertInside(await tab.boundingBox(), viewport, `${size(viewport)}: the ${name} tab`);
    assertInside(await panel.boundingBox(), viewport, `${size(viewport)}: the ${name} panel`);
    const { aside, panel: inner } = await sideways(page);
    assert.ok(
      aside.scrollWidth <= aside.clientWidth && aside.scrollLeft === 0,
      `${size(viewport)}: the details column scrolls sideways with ${name} open: ${JSON.stringify(aside)}`,
    );
    assert.ok(
      inner.scrollWidth <= inner.clientWidth,
      `${size(viewport)}: the ${name} panel is wider than its column: ${JSON.stringify(inner)}`,
    );
  }
}

/** The hint over an untouched run sits beside the drawing, never on it. */
async function checkHint(page, viewport) {
  const hint = await page.locator('.canvas-hint').boundingBox();
  const drawing = await page.locator('svg.topology').boundingBox();
  assert.ok(hint && drawing, 'the hint and the drawing are rendered');
  assert.ok(!overlap(hint, drawing), `${size(viewport)}: the hint ${JSON.stringify(hint)} covers the drawing ${JSON.stringify(drawing)}`);
}

describe('layout', () => {
  const app = servedApp();

  for (const viewport of DESKTOP) {
    test(`at ${size(viewport)} every tab and its panel are inside the screen`, async () => {
      const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`, { viewport });
      await checkHint(page, viewport);
      await screenshot(page, `layout-${size(viewport)}`);
      // A finished run, so the panels have content to be wide or tall with.
      await page.keyboard.press('End');
      await page.locator('.run-status', { hasText: /finished|step limit|settled/ }).waitFor({ timeout: 30000 });
      await checkTabs(page, viewport);
      const page_ = await page.evaluate(() => ({
        width: document.documentElement.scrollWidth,
        height: document.documentElement.scrollHeight,
      }));
      assert.ok(page_.width <= viewport.width, `${size(viewport)}: the page is ${page_.width}px wide`);
      await page.locator('aside.details [role="tab"]').nth(4).click();
      await screenshot(page, `layout-${size(viewport)}-sagas`);
      assert.deepEqual(problems, []);
      await close();
    });
  }

  test(`at ${size(PHONE)} the lesson index and a lesson fit the width too`, async () => {
    const viewport = PHONE;
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/`, { viewport });
    const width = () => page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok((await width()) <= viewport.width, `the index is ${await width()}px wide`);
    await page.screenshot({ path: join(OUTPUT, 'layout-390x844-index-full.png'), fullPage: true });
    const first = await page.locator('a[href^="#/lessons/"]').first().getAttribute('href');
    await page.goto(`${app.server.url}${first}`);
    await page.locator('.lesson-column').waitFor();
    for (let i = 0; i < 8; i += 1) await page.keyboard.press('ArrowRight');
    assert.ok((await width()) <= viewport.width, `the lesson is ${await width()}px wide`);
    for (const selector of ['section.canvas', '.lesson-column', 'section.log']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width + SLACK_PX, `${selector} fits the width: ${JSON.stringify(box)}`);
    }
    await page.screenshot({ path: join(OUTPUT, 'layout-390x844-lesson-full.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await close();
  });

  test('the log drops the prefix all the scenario\'s types share, and never cuts a type', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    const types = () =>
      page.locator('.log-body .c-type').evaluateAll((all) =>
        all.map((e) => ({ shown: e.textContent, full: e.title, cut: e.scrollWidth > e.clientWidth })),
      );
    // order-read-model: every type starts with io.eventscope.order., so only the last
    // word is left, and place, placed, ship and shipped stay apart.
    await pickScenario(page, 'order-read-model');
    for (let i = 0; i < 30; i += 1) await page.keyboard.press('ArrowRight');
    let rows = (await types()).filter((t) => t.full);
    assert.ok(rows.length > 5, `rows with a type: ${rows.length}`);
    for (const t of rows) {
      assert.ok(t.full.startsWith('io.eventscope.order.'), `full type in the tooltip: ${t.full}`);
      assert.equal(t.shown, t.full.slice('io.eventscope.order.'.length), `${t.full} is shown as its last word`);
      assert.ok(!t.cut, `${t.full} is cut`);
    }
    // checkout: the types share only io.eventscope., so the aggregate stays.
    await pickScenario(page, 'checkout');
    for (let i = 0; i < 60; i += 1) await page.keyboard.press('ArrowRight');
    rows = (await types()).filter((t) => t.full);
    assert.ok(rows.length > 5);
    for (const t of rows) {
      assert.equal(t.shown, t.full.slice('io.eventscope.'.length), `${t.full} keeps its aggregate`);
      assert.ok(!t.cut, `${t.full} is cut`);
    }
    await screenshot(page, 'layout-log-types');
    assert.deepEqual(problems, []);
    await close();
  });

  test(`at ${size(PHONE)} the regions stack and nothing overlaps or scrolls sideways`, async () => {
    const viewport = PHONE;
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`, { viewport });
    await checkHint(page, viewport);
    await page.screenshot({ path: join(OUTPUT, 'layout-390x844-full.png'), fullPage: true });
    await screenshot(page, `layout-${size(viewport)}`);

    const documentWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok((await documentWidth()) <= viewport.width, `the page is ${await documentWidth()}px wide`);

    // Stacked: the canvas, the details and the log each take the full width, one below
    // the other.
    const regions = [];
    for (const selector of ['section.canvas', 'aside.details', 'section.log']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box, `${selector} is rendered`);
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width + SLACK_PX, `${selector} fits the width: ${JSON.stringify(box)}`);
      regions.push([selector, box]);
    }
    for (let i = 1; i < regions.length; i += 1) {
      const [above, a] = regions[i - 1];
      const [below, b] = regions[i];
      assert.ok(b.y >= a.y + a.height - SLACK_PX, `${below} starts below ${above}: ${JSON.stringify({ a, b })}`);
    }

    // No two visible controls of the header, the file actions, the toolbar or the bar
    // under it share any area.
    const controls = await page
      .locator('.top-bar :is(button, select, input, a), .toolbar :is(button, select, input), .guide-bar :is(button, select, a)')
      .evaluateAll((all) =>
        all
          .filter((e) => e.offsetParent !== null)
          .map((e) => {
            const r = e.getBoundingClientRect();
            const name = e.getAttribute('aria-label') || e.textContent.trim() || e.id || e.tagName;
            return { name, x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height };
          })
          .filter((b) => b.width > 0 && b.height > 0),
      );
    assert.ok(controls.length >= 12, `found ${controls.length} controls`);
    for (let i = 0; i < controls.length; i += 1) {
      const a = controls[i];
      assert.ok(a.x >= -SLACK_PX && a.x + a.width <= viewport.width + SLACK_PX, `${a.name} fits the width: ${JSON.stringify(a)}`);
      for (let j = i + 1; j < controls.length; j += 1) {
        const b = controls[j];
        assert.ok(!overlap(a, b), `${a.name} overlaps ${b.name}: ${JSON.stringify({ a, b })}`);
      }
    }

    await page.keyboard.press('End');
    await page.locator('.run-status', { hasText: /finished|step limit|settled/ }).waitFor({ timeout: 30000 });
    await checkTabs(page, viewport);
    assert.ok((await documentWidth()) <= viewport.width, `after the run the page is ${await documentWidth()}px wide`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(OUTPUT, 'layout-390x844-run-full.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await close();
  });
});
