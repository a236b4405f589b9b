//! End-to-end tests of export, import, share and the scenario editor, acting like a
//! person at a 1280x800 screen. Downloads are read back and parsed; the canonical trace
//! is replayed by the native CLI. Perfetto's site is out of reach here, so its address
//! is answered by a local stub page (e2e/fixtures/perfetto-stub.html) that speaks the
//! same postMessage protocol and records what it received. Screenshots of each panel go
//! to e2e/output/transfer-*.png.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { OUTPUT, REPO, counter, open, pickScenario, screenshot, waitForCounter, servedApp } from './helpers.mjs';

const TARGET = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target');
const CLI = join(TARGET, 'debug', 'eventscope-cli');
const DOWNLOADS = join(OUTPUT, 'downloads');
const STUB = join(REPO, 'e2e', 'fixtures', 'perfetto-stub.html');

async function setSeed(page, seed) {
  const field = page.getByLabel('Seed', { exact: true });
  await field.fill(String(seed));
  await field.press('Enter');
  await field.evaluate((element) => element.blur());
}

async function press(page, key, times = 1) {
  for (let i = 0; i < times; i += 1) await page.keyboard.press(key);
}

/** Inject a fault on the first queued message from its menu. */
async function injectOnQueued(page, item) {
  const token = page.locator('g.token[data-place="queued"]').first();
  await token.waitFor();
  await token.click();
  const menu = page.getByRole('menu');
  await menu.getByRole('menuitem', { name: new RegExp(`^${item}`) }).click();
  await menu.waitFor({ state: 'detached' });
}

/** Click an export item and return { name, text } of the file it saved. */
async function exportFile(page, format) {
  const menu = page.locator('.export-menu');
  if (!(await menu.isVisible())) await page.getByRole('button', { name: /^Export/ }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    menu.locator(`[data-format="${format}"]`).click(),
  ]);
  const name = download.suggestedFilename();
  mkdirSync(DOWNLOADS, { recursive: true });
  const path = join(DOWNLOADS, name);
  await download.saveAs(path);
  return { name, path, text: readFileSync(path, 'utf8') };
}

async function closeExportMenu(page) {
  await page.getByRole('button', { name: 'Close the export menu' }).click();
}

/** Import a file by the file picker: { name, buffer }. */
async function importFile(page, name, buffer) {
  await page.locator('input[type=file]').setInputFiles({ name, mimeType: 'application/json', buffer });
}

/** checkout, seed 7, a duplicated message, 40 steps in. */
async function checkoutWithFault(page) {
  await pickScenario(page, 'checkout');
  await setSeed(page, 7);
  await press(page, 'ArrowRight'); // order.placed is queued in payment-orders
  await waitForCounter(page, 'step 1 of 1');
  await injectOnQueued(page, 'Duplicate');
  // The injection is a step of its own in the trace.
  const [, now] = (await counter(page)).match(/^step (\d+)/);
  await press(page, 'ArrowRight', 40 - Number(now));
  await waitForCounter(page, 'step 40 of 40');
}

describe('export, import and share', () => {
  before(() => {
    execFileSync('cargo', ['build', '--quiet', '--bin', 'eventscope-cli'], { cwd: REPO, stdio: 'inherit' });
  });
  const app = servedApp();

  test('every format downloads and parses; the trace replays in the CLI', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await checkoutWithFault(page);
    // Select a message so the flow diagram has a correlation id.
    await page.locator('.log-row.verb-publish').first().click();
    await page.getByRole('button', { name: /^Export/ }).click();
    await screenshot(page, 'transfer-export-menu');

    const trace = await exportFile(page, 'Trace');
    assert.equal(trace.name, 'checkout-seed7.eventscope.json');
    const doc = JSON.parse(trace.text);
    assert.equal(doc.format, 'eventscope-trace');
    assert.equal(doc.step, 40);
    assert.equal(doc.faults.scripted.length, 1);
    const replay = spawnSync(CLI, ['replay', trace.path], { encoding: 'utf8' });
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, new RegExp(`replayed 40 steps, trace hash ${doc.trace_hash}: identical`));

    const batch = await exportFile(page, 'CloudEventsBatch');
    assert.equal(batch.name, 'checkout-seed7.cloudevents.json');
    const events = JSON.parse(batch.text);
    assert.ok(events.length > 0 && events.every((e) => e.specversion === '1.0' && e.id && e.type));

    const lines = await exportFile(page, 'CloudEventsLines');
    assert.equal(lines.name, 'checkout-seed7.cloudevents.jsonl');
    assert.deepEqual(lines.text.trim().split('\n').map((line) => JSON.parse(line)), events);

    const mermaid = await exportFile(page, 'MermaidRun');
    assert.equal(mermaid.name, 'checkout-seed7.mmd');
    assert.match(mermaid.text, /^sequenceDiagram\n/);
    const flow = await exportFile(page, 'MermaidCorrelation');
    assert.match(flow.name, /^checkout-seed7-.+\.mmd$/);
    assert.match(flow.text, /^sequenceDiagram\n/);
    assert.ok(flow.text.length <= mermaid.text.length, 'one flow is part of the run');

    const perfetto = await exportFile(page, 'Perfetto');
    assert.equal(perfetto.name, 'checkout-seed7.perfetto.json');
    const trace_events = JSON.parse(perfetto.text).traceEvents;
    assert.ok(trace_events.some((e) => e.ph === 'X') && trace_events.some((e) => e.ph === 's'));

    const asyncapi = await exportFile(page, 'AsyncApi');
    assert.equal(asyncapi.name, 'checkout.asyncapi.json');
    assert.equal(JSON.parse(asyncapi.text).asyncapi, '3.0.0');

    assert.match(await page.locator('.export-menu .menu-status').innerText(), /Saved checkout\.asyncapi\.json/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('Open in Perfetto hands the trace over by postMessage', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    // The test has no network: Perfetto's address answers with the local stub.
    await page.context().route('https://ui.perfetto.dev/**', (route) =>
      route.fulfill({ path: STUB, contentType: 'text/html' }),
    );
    await pickScenario(page, 'checkout');
    await press(page, 'ArrowRight', 20);
    await page.getByRole('button', { name: /^Export/ }).click();
    const [popup] = await Promise.all([
      page.context().waitForEvent('page'),
      page.locator('.perfetto-open').click(),
    ]);
    const received = popup.locator('#received');
    await received.filter({ hasText: 'perfetto' }).waitFor({ timeout: 10000 }).catch(() => {});
    await popup.waitForFunction(() => document.getElementById('received').textContent.length > 0, null, {
      timeout: 15000,
    });
    const message = JSON.parse(await received.textContent());
    assert.equal(message.origin, new URL(app.server.url).origin, 'posted from the app');
    assert.equal(message.isArrayBuffer, true);
    assert.match(message.title, /checkout seed 42 \(step 20\)/);
    assert.ok(JSON.parse(message.text).traceEvents.length > 0);
    await page.locator('.export-menu .menu-status', { hasText: 'Sent the trace to Perfetto' }).waitFor();
    await screenshot(page, 'transfer-perfetto-sent');
    await popup.close();
    assert.deepEqual(problems, []);
    await close();
  });

  test('a worker that cannot load is reported, and the next export tries again', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await press(page, 'ArrowRight', 3);
    // The worker's files are missing, as on a host that was only half updated.
    await page.route('**/eventscope-worker_loader.js', (route) => route.fulfill({ status: 404, body: 'gone' }));
    await page.getByRole('button', { name: /^Export/ }).click();
    await page.locator('.export-menu [data-format="Trace"]').click();
    const status = page.locator('.export-menu .menu-status.failed', { hasText: 'background worker' });
    await status.waitFor();
    assert.match(await status.innerText(), /could not be written: the background worker stopped/);
    await screenshot(page, 'transfer-worker-missing');
    await waitForCounter(page, 'step 3 of 3');
    // Back again: the next export starts a fresh worker and succeeds.
    await page.unroute('**/eventscope-worker_loader.js');
    const trace = await exportFile(page, 'Trace');
    assert.equal(JSON.parse(trace.text).step, 3);
    assert.ok(problems.every((p) => p.includes('eventscope-worker_loader.js')), problems.join('\n'));
    await close();
  });

  test('a broken file shows what is wrong and where; the run stays', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await checkoutWithFault(page);
    const good = (await exportFile(page, 'Trace')).text;
    await closeExportMenu(page);
    const panel = page.locator('.import-problem');
    const cases = [
      ['not-json.eventscope.json', '{"format": "eventscope-trace", ', /the file/, /not a JSON document/],
      ['wrong-type.eventscope.json', good.replace('"seed": 7', '"seed": "seven"'), /^seed$/, /invalid type/],
      [
        'wrong-topic.eventscope.json',
        good.replace(/("subscriptions": \[[\s\S]*?"topic": ")/, '$1nowhere-'),
        /^scenario\.subscriptions\[0\]\.topic$/,
        /no topic named/,
      ],
      [
        'newer.eventscope.json',
        good.replace('"format_version": 1', '"format_version": 2'),
        /the file/,
        /made by a newer Eventscope: format version 2, this one reads up to 1/,
      ],
      ['huge.eventscope.json', Buffer.alloc(21 << 20, 0x20), /the file/, /the limit is 21\.0 MB \(20 MiB\)/],
    ];
    for (const [name, content, path, message] of cases) {
      await importFile(page, name, Buffer.isBuffer(content) ? content : Buffer.from(content));
      await panel.waitFor();
      assert.match(await panel.locator('.menu-intro').innerText(), new RegExp(`${name.replace('.', '\\.')} was not imported`));
      const first = panel.locator('.problem-list li').first();
      assert.match((await first.locator('.problem-path').innerText()).trim(), path, name);
      assert.match(await first.locator('.problem-message').innerText(), message, name);
      if (name === 'wrong-topic.eventscope.json') await screenshot(page, 'transfer-import-error');
      assert.equal(await counter(page), 'step 40 of 40', `${name}: the run stays`);
      await panel.getByRole('button', { name: 'Dismiss' }).click();
      await panel.waitFor({ state: 'detached' });
    }
    assert.deepEqual(problems, []);
    await close();
  });

  test('a good file, picked or dropped, lands on its step with the same trace hash', async () => {
    const original = await open(app.browser, `${app.server.url}#/play`);
    await checkoutWithFault(original.page);
    const exported = await exportFile(original.page, 'Trace');
    const hash = JSON.parse(exported.text).trace_hash;
    await original.close();

    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await importFile(page, exported.name, Buffer.from(exported.text));
    await waitForCounter(page, 'step 40 of 40');
    const notice = page.locator('.notice');
    assert.match(await notice.innerText(), new RegExp(`Imported ${exported.name}: the run is restored at step 40 \\(trace hash ${hash}, identical`));
    assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '7');
    await screenshot(page, 'transfer-imported');
    const again = JSON.parse((await exportFile(page, 'Trace')).text);
    assert.equal(again.trace_hash, hash);
    assert.equal(again.step, 40);
    await closeExportMenu(page);

    // Dropped onto the page.
    await pickScenario(page, 'pubsub');
    await page.evaluate((text) => {
      const data = new DataTransfer();
      data.items.add(new File([text], 'dropped.eventscope.json', { type: 'application/json' }));
      document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, exported.text);
    await waitForCounter(page, 'step 40 of 40');
    assert.match(await notice.innerText(), /Imported dropped\.eventscope\.json/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('a share link opens the same run at the same step in a fresh page', async () => {
    const original = await open(app.browser, `${app.server.url}#/play`);
    await checkoutWithFault(original.page);
    const hash = JSON.parse((await exportFile(original.page, 'Trace')).text).trace_hash;
    await closeExportMenu(original.page);
    await original.page.getByRole('button', { name: 'Share' }).click();
    const link = await original.page.getByLabel('Share link').inputValue();
    assert.match(link, /#(\/play\?)?s=[A-Za-z0-9_-]+$/);
    assert.equal(await original.page.evaluate(() => location.href), link, 'the address bar shows the link');
    await original.page.getByRole('button', { name: 'Copy' }).click();
    await original.page.locator('.share-panel .menu-status').waitFor();
    await screenshot(original.page, 'transfer-share');
    await original.close();

    // The bare form and the routed form, each in a fresh page.
    const routed = link.replace('#s=', '#/play?s=');
    for (const url of [link, routed]) {
      const { page, problems, close } = await open(app.browser, url);
      await waitForCounter(page, 'step 40 of 40');
      assert.match(await page.locator('.notice').innerText(), /Opened a shared run: checkout, seed 7, 1 fault of yours, at step 40/);
      const doc = JSON.parse((await exportFile(page, 'Trace')).text);
      assert.equal(doc.trace_hash, hash);
      assert.equal(doc.faults.scripted.length, 1);
      if (url === link) await screenshot(page, 'transfer-share-opened');
      assert.deepEqual(problems, []);
      await close();
    }
  });

  test('a bad or oversized link says so and starts the default run', async () => {
    for (const [fragment, message] of [
      ['#s=bm90IGEgbGluaw', /This share link could not be opened: the share link is damaged/],
      [`#s=${'A'.repeat(20000)}`, /the limit is 16384/],
    ]) {
      const { page, problems, close } = await open(app.browser, app.server.url + fragment);
      await waitForCounter(page, 'step 0 of 0');
      // The worker decodes the link while the default run is on screen.
      await page.locator('.notice', { hasText: message }).waitFor();
      assert.match(await page.locator('.notice').innerText(), /Showing the default run instead/);
      if (fragment.length > 100) await screenshot(page, 'transfer-bad-link');
      assert.deepEqual(problems, []);
      await close();
    }
  });

  test('the editor shows an error at its path and line, then runs the fixed scenario', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await pickScenario(page, 'checkout');
    await press(page, 'ArrowRight', 5);
    await page.getByRole('button', { name: 'Edit scenario' }).click();
    const editor = page.getByLabel('Scenario JSON');
    const text = await editor.inputValue();
    assert.equal(JSON.parse(text).name, 'checkout');

    const broken = text.replace(/("subscriptions": \[\s*\{[^}]*?"topic": ")/, '$1nowhere-');
    await editor.fill(broken);
    await editor.press('Control+Enter');
    const error = page.locator('.editor-errors li').first();
    await error.waitFor();
    assert.equal(await error.locator('.problem-path').innerText(), 'subscriptions[0].topic');
    const line = Number((await error.locator('.problem-line').innerText()).replace('line ', ''));
    assert.match(broken.split('\n')[line - 1], /nowhere-/);
    assert.equal((await page.locator('.gutter-line.error').innerText()).trim(), String(line));
    assert.equal(await counter(page), 'step 5 of 5', 'the run stays while the text is wrong');
    await screenshot(page, 'transfer-editor-error');

    // Fix it as a copy of the built-in, with one more order in the workload.
    await editor.fill(text);
    await page.getByRole('button', { name: 'Make a copy' }).click();
    const copy = JSON.parse(await editor.inputValue());
    assert.equal(copy.name, 'checkout-copy');
    assert.match(copy.title, /^Copy of /);
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await waitForCounter(page, 'step 0 of 0');
    assert.match(await page.locator('.notice').innerText(), /Scenario “checkout-copy” applied/);
    assert.match(await page.getByLabel('Scenario', { exact: true }).inputValue(), /^$/);
    assert.match(await page.locator('.scenario-picker').innerText(), /checkout-copy \(your own\)/);
    await screenshot(page, 'transfer-editor-applied');
    await page.getByRole('button', { name: 'Close the editor' }).click();

    // The edited scenario travels in the trace file and in the link.
    await press(page, 'ArrowRight', 10);
    const exported = await exportFile(page, 'Trace');
    assert.equal(exported.name, 'checkout-copy-seed42.eventscope.json');
    assert.equal(JSON.parse(exported.text).scenario.name, 'checkout-copy');
    await closeExportMenu(page);
    await page.getByRole('button', { name: 'Share' }).click();
    const link = await page.getByLabel('Share link').inputValue();
    const opened = await open(app.browser, link);
    await waitForCounter(opened.page, 'step 10 of 10');
    assert.match(await opened.page.locator('.scenario-picker').innerText(), /checkout-copy \(your own\)/);
    await opened.close();
    assert.deepEqual(problems, []);
    await close();
  });

  test('a link too long to share says so and offers the trace file', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await page.getByRole('button', { name: 'Edit scenario' }).click();
    const editor = page.getByLabel('Scenario JSON');
    const scenario = JSON.parse(await editor.inputValue());
    // Text that does not compress: random letters, as long as descriptions may be.
    const noise = () => {
      let text = '';
      for (let i = 0; i < 19000; i += 1) text += String.fromCharCode(97 + Math.floor(Math.random() * 26));
      return text;
    };
    scenario.description = noise();
    scenario.services[0].description = noise();
    await editor.fill(JSON.stringify(scenario, null, 2));
    await editor.press('Control+Enter');
    await page.locator('.notice', { hasText: 'applied' }).waitFor();
    await page.getByRole('button', { name: 'Close the editor' }).click();
    await page.getByRole('button', { name: 'Share' }).click();
    const refusal = page.locator('.share-too-long');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /the limit is 16384: export a trace file \(\.eventscope\.json\) and share that instead/);
    await screenshot(page, 'transfer-share-too-long');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the trace file' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /\.eventscope\.json$/);
    assert.deepEqual(problems, []);
    await close();
  });
});
