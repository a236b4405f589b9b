// The page as a stranger's input meets it: Trusted Types enforced on the page and in
// the worker, and hostile text in every free-text field shown as text, never run.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';

import { OUTPUT, REPO, open, screenshot, servedApp, waitForCounter } from './helpers.mjs';

/** Markup, a closing script tag, quotes and a script URL: text that must stay text. */
const HOSTILE = `<img src=x onerror="window.__canary=1">'"</script><script>window.__canary=2</script>`;
const SCRIPT_URL = 'javascript:window.__canary=3';
/** Longer than any box it is shown in. */
const LONG = 'L'.repeat(4000);

/** The pub/sub scenario with hostile text in every free-text field it has. */
function hostileScenario() {
  const scenario = JSON.parse(readFileSync(join(REPO, 'scenarios', 'pubsub.json'), 'utf8'));
  const type = `io.example.${HOSTILE}`;
  scenario.name = 'hostile';
  scenario.title = `Hostile ${HOSTILE}`;
  scenario.description = `${HOSTILE} ${SCRIPT_URL} ${LONG}`;
  for (const topic of scenario.topics) topic.description = `${HOSTILE} ${SCRIPT_URL}`;
  for (const service of scenario.services) {
    service.description = `${HOSTILE} ${LONG}`;
    for (const handler of service.handlers ?? []) handler.on = type;
  }
  for (const item of scenario.workload) {
    item.type = type;
    item.subject = `${HOSTILE}-{n}`;
    item.data = { ...item.data, sku: HOSTILE, customer: SCRIPT_URL, note: LONG.slice(0, 1000) };
  }
  return scenario;
}

/** Nothing became markup or ran, and the hostile text is on the page as text. */
async function assertInert(page, where) {
  assert.equal(await page.locator('#app img').count(), 0, `${where}: no image element was made`);
  assert.equal(await page.locator('#app script').count(), 0, `${where}: no script element was made`);
  assert.equal(await page.locator('#app a[href^="javascript:"]').count(), 0, `${where}: no script link was made`);
  assert.equal(await page.evaluate(() => window.__canary), undefined, `${where}: no script ran`);
  // The log's columns stay in place: a type with spaces in it is one cell.
  const publish = page.locator('.log-row.verb-publish').first();
  assert.equal(await publish.locator('.c-where').innerText(), 'orders', `${where}: the place column`);
  assert.equal(await publish.locator('.c-type').getAttribute('title'), `io.example.${HOSTILE}`, `${where}: the full type`);
  await publish.click();
  const panel = page.getByRole('tabpanel');
  await panel.locator('.inspector').waitFor();
  const title = await panel.locator('.panel-title').innerText();
  assert.ok(title.includes('<img src=x onerror='), `${where}: the type as text, not markup: ${title}`);
  const json = JSON.parse(await panel.getByLabel('The envelope as CloudEvents JSON').innerText());
  assert.equal(json.subject, `${HOSTILE}-1`, `${where}: the subject as text`);
  assert.equal(json.data.sku, HOSTILE);
  assert.equal(json.data.customer, SCRIPT_URL);
  assert.equal(json.data.note, LONG.slice(0, 1000), `${where}: the longest data value a scenario may hold`);
  assert.ok((await page.locator('.region-note').first().innerText()).includes(HOSTILE), `${where}: the title as text`);
  assert.equal(await page.evaluate(() => window.__canary), undefined, `${where}: still no script ran`);
}

const TABS = ['Inspector', 'Invariants', 'Faults', 'Delivery', 'Sagas', 'Store', 'Read models', 'DLQ', 'Metrics', 'Anti-patterns'];

describe('trusted types', () => {
  const app = servedApp();

  test('the page refuses string markup and foreign worker URLs, and the app needs neither', async () => {
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    // Exercise what renders: steps, every tab, every canvas view, the worker.
    for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
    for (const name of TABS) await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
    for (const name of ['Sequence', 'Side by side', 'Topology']) {
      await page.getByRole('tab', { name, exact: true }).click();
    }
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByLabel('Share link').waitFor();
    await page.waitForFunction(() => /#(\/play\?)?s=/.test(document.querySelector('input[aria-label="Share link"]')?.value ?? ''));
    await screenshot(page, 'security-share-under-trusted-types');
    assert.deepEqual(problems, [], 'nothing the app does is refused by Trusted Types');

    // Script the harness runs in the page goes through the page's sinks like the app's.
    const markup = await page.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>x</b>';
        return 'allowed';
      } catch (error) {
        return error.constructor.name;
      }
    });
    assert.equal(markup, 'TypeError', 'innerHTML from a string is refused');
    const worker = await page.evaluate(() => {
      try {
        new Worker('https://example.invalid/evil.js');
        return 'allowed';
      } catch (error) {
        return error.constructor.name;
      }
    });
    assert.equal(worker, 'TypeError', 'a worker from another origin is refused by the policy');
    // Both refusals are reported, and nothing else went wrong.
    assert.ok(problems.every((p) => /Trusted(HTML|ScriptURL)|CSP violation: require-trusted-types-for/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /TrustedHTML/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /TrustedScriptURL/.test(p)), problems.join('\n'));
    await close();
  });

  test('hostile text in every free-text field stays text through the editor, a trace file and a share link', async () => {
    const scenario = hostileScenario();
    // The editor.
    const { page, problems, close } = await open(app.browser, `${app.server.url}#/play`);
    await page.getByRole('button', { name: 'Edit scenario' }).click();
    await page.getByLabel('Scenario JSON').fill(JSON.stringify(scenario, null, 2));
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.locator('.notice', { hasText: 'applied' }).waitFor();
    await waitForCounter(page, 'step 0 of 0');
    await page.getByRole('button', { name: 'Close the editor' }).click();
    for (let i = 0; i < 14; i++) await page.keyboard.press('ArrowRight');
    await waitForCounter(page, 'step 14 of 14');
    await assertInert(page, 'editor');
    await screenshot(page, 'security-hostile-editor');

    // A trace file of that run, imported into a fresh page.
    await page.getByRole('button', { name: /^Export/ }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.export-menu [data-format="Trace"]').click(),
    ]);
    mkdirSync(join(OUTPUT, 'downloads'), { recursive: true });
    const file = join(OUTPUT, 'downloads', 'hostile.eventscope.json');
    await download.saveAs(file);
    assert.deepEqual(problems, []);
    await close();
    const imported = await open(app.browser, `${app.server.url}#/play`);
    await imported.page
      .locator('input[type=file]')
      .setInputFiles({ name: 'hostile.eventscope.json', mimeType: 'application/json', buffer: readFileSync(file) });
    await imported.page.locator('.notice', { hasText: 'Imported hostile.eventscope.json' }).waitFor();
    await waitForCounter(imported.page, 'step 14 of 14');
    await assertInert(imported.page, 'trace file');
    assert.deepEqual(imported.problems, []);
    await imported.close();

    // A share link written by hand, as a stranger would.
    const payload = { v: 1, scenario, seed: 42, step: 14 };
    const fragment = `#/play?s=${deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url')}`;
    const shared = await open(app.browser, app.server.url + fragment);
    await waitForCounter(shared.page, 'step 14 of 14');
    await assertInert(shared.page, 'share link');
    await screenshot(shared.page, 'security-hostile-link');
    assert.deepEqual(shared.problems, [], 'no CSP or Trusted Types violation');
    await shared.close();
  });

  test('a hostile stream name (an aggregate id from a subject) shows as text in the event store', async () => {
    const scenario = JSON.parse(readFileSync(join(REPO, 'scenarios', 'bank-account.json'), 'utf8'));
    scenario.name = 'hostile-streams';
    for (const item of scenario.workload) item.subject = `acct-${HOSTILE}`;
    const payload = { v: 1, scenario, seed: 42, step: 30 };
    const fragment = `#/play?s=${deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url')}`;
    const { page, problems, close } = await open(app.browser, app.server.url + fragment);
    await waitForCounter(page, 'step 30 of 30');
    await page.getByRole('tab', { name: /^Store/ }).click();
    const streams = await page.locator('.stream-list').first().innerText();
    assert.ok(streams.includes(`acct-${HOSTILE}`), `the stream's name as text: ${streams}`);
    assert.equal(await page.locator('#app img').count(), 0, 'no image element was made');
    assert.equal(await page.locator('#app script').count(), 0, 'no script element was made');
    assert.equal(await page.evaluate(() => window.__canary), undefined, 'no script ran');
    await screenshot(page, 'security-hostile-stream');
    assert.deepEqual(problems, [], 'no CSP or Trusted Types violation');
    await close();
  });

  test('the worker scripts are served with a policy that enforces Trusted Types', async () => {
    for (const file of ['eventscope-worker_loader.js', 'eventscope-worker.js']) {
      const response = await fetch(new URL(file, app.server.url));
      assert.equal(response.status, 200, file);
      const policy = response.headers.get('content-security-policy') ?? '';
      assert.match(policy, /require-trusted-types-for 'script'/, file);
      assert.match(policy, /trusted-types eventscope-worker/, file);
      assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/, file);
    }
    const page = await fetch(app.server.url);
    assert.equal(page.headers.get('content-security-policy'), null, 'the page carries its policy in its meta tag');
  });
});

