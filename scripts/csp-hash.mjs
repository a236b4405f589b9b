#!/usr/bin/env node
//! Trunk post-build hook: allow the page's inline scripts by hash in its
//! Content-Security-Policy.
//!
//! Trunk starts the app with an inline `<script type="module">` (and, under
//! `trunk serve`, an inline live-reload script). A strict policy blocks inline scripts
//! unless each one is listed by hash, and the hash changes with every build because
//! the script names the content-hashed file names. So after each build this hook reads
//! the staged index.html, hashes every inline script and appends the hashes to the
//! `script-src` directive of the CSP meta tag. A nonce would not do: in a static file
//! it would be the same for every visitor, which defeats its purpose.
//!
//! `trunk serve` rewrites two placeholders of its live-reload script per request,
//! which would change the script after it was hashed. This hook resolves them first,
//! to the values `trunk serve` uses for a direct connection (the page's own host and
//! the public URL), so the hash stays valid.
//!
//! Usage: run by Trunk with TRUNK_STAGING_DIR set, or `node scripts/csp-hash.mjs FILE`.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const file = process.argv[2] ?? join(process.env.TRUNK_STAGING_DIR ?? 'dist', 'index.html');
const publicUrl = process.env.TRUNK_PUBLIC_URL || '/';

function fail(message) {
  console.error(`csp-hash: ${message} (${file})`);
  process.exit(1);
}

let html = readFileSync(file, 'utf8');

html = html
  .replaceAll("'{{__TRUNK_ADDRESS__}}'", 'window.location.host')
  .replaceAll('{{__TRUNK_WS_BASE__}}', publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);

// Inline scripts are <script> elements without a src attribute. Trunk writes them
// itself, so a regular expression over its well-formed output is enough here.
const inline = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;
const hashes = [...html.matchAll(inline)].map(
  ([, body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`,
);
if (hashes.length === 0) fail('no inline script found; did Trunk change how it starts the app?');

const meta = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")/i;
const found = html.match(meta);
if (!found) fail('no Content-Security-Policy meta tag');

const directives = found[2].split(';').map((d) => d.trim()).filter(Boolean);
const index = directives.findIndex((d) => d.startsWith('script-src'));
if (index < 0) fail('the Content-Security-Policy has no script-src directive');
// Drop hashes from an earlier run of this hook, so running it twice is harmless.
const kept = directives[index].split(/\s+/).filter((source) => !source.startsWith("'sha256-"));
directives[index] = [...kept, ...new Set(hashes)].join(' ');

html = html.replace(meta, `$1${directives.join('; ')}$3`);
writeFileSync(file, html);
console.log(`csp-hash: allowed ${hashes.length} inline script(s) by hash in ${file}`);
