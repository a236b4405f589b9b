//! End-to-end tests of serving: the static server behind `make serve`, and a build made
//! for a sub-path (`PUBLIC_URL=/eventscope/ make dist`) working under that sub-path.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { launch, open, REPO, screenshot, serve } from './helpers.mjs';

const DIST = process.env.DIST_DIR ?? join(REPO, 'dist');
const SUBPATH_DIST = process.env.SUBPATH_DIST ?? join(REPO, 'target', 'dist-subpath');

describe('static serving', () => {
  let server;
  before(async () => {
    server = await serve(DIST);
  });
  after(async () => {
    await server?.stop();
  });

  test('serves index.html, the wasm with its MIME type, and nothing outside dist/', async () => {
    const index = await fetch(server.url);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    const html = await index.text();
    const wasm = html.match(/href="\/([^"]+\.wasm)"/)?.[1];
    assert.ok(wasm, 'index.html preloads the wasm');
    const module = await fetch(new URL(wasm, server.url));
    assert.equal(module.status, 200);
    assert.equal(module.headers.get('content-type'), 'application/wasm');

    assert.equal((await fetch(new URL('no-such-file.js', server.url))).status, 404);
    // An encoded slash survives URL normalisation and decodes to ../Cargo.toml.
    const escape = await fetch(new URL('..%2fCargo.toml', server.url));
    assert.equal(escape.status, 404, 'no file above the served directory');
  });
});

describe('sub-path build', () => {
  let server;
  let browser;
  before(async () => {
    assert.ok(
      existsSync(join(SUBPATH_DIST, 'index.html')),
      `no build in ${SUBPATH_DIST}: make test builds it with trunk --public-url /eventscope/`,
    );
    server = await serve(SUBPATH_DIST, { base: '/eventscope/' });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('works when served under /eventscope/', async () => {
    assert.match(server.url, /\/eventscope\/$/);
    const { page, problems, close } = await open(browser, `${server.url}#/play`);
    assert.ok(await page.getByRole('button', { name: 'Play', exact: true }).isVisible());
    await screenshot(page, 'subpath');
    // The background worker loads from beside the app under the sub-path too.
    await page.getByRole('button', { name: /^Export/ }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.export-menu [data-format="AsyncApi"]').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'pubsub.asyncapi.json');
    await page.locator('.export-menu .menu-status', { hasText: 'Saved pubsub.asyncapi.json' }).waitFor();
    assert.deepEqual(problems, []);
    await close();
  });
});
