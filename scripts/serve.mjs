#!/usr/bin/env node
//! A tiny static file server for the built app (dist/).
//!
//! `make serve` uses it to show the release build, and the end-to-end tests start it
//! on a free port, so what the tests check is exactly what a person is served. It only
//! reads files below its root, only answers GET and HEAD, and gives `.wasm` the
//! `application/wasm` type that streaming compilation needs.
//!
//! Usage: node scripts/serve.mjs [ROOT=dist] [PORT=8080]
//!   PORT 0 picks a free port. BASE=/eventscope/ serves ROOT under that sub-path, as a
//!   static host would after `PUBLIC_URL=/eventscope/ make dist`. HOST defaults to
//!   127.0.0.1. Prints one line "serving ROOT at URL" once it listens.

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const root = resolve(process.argv[2] ?? 'dist');
const port = Number(process.argv[3] ?? process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const base = `/${(process.env.BASE ?? '/').replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

try {
  if (!statSync(join(root, 'index.html')).isFile()) throw new Error('not a file');
} catch {
  console.error(`serve: ${root}/index.html not found; build first (make dist)`);
  process.exit(1);
}

/** The file a URL path names, or null when it is outside the root or the base. */
function fileFor(urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!path.startsWith(base)) return null;
  const relative = normalize(path.slice(base.length));
  const file = resolve(root, relative);
  if (file !== root && !file.startsWith(root + sep)) return null;
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) return fileFor(`${path.replace(/\/?$/, '/')}index.html`);
    return stats.isFile() ? { file, size: stats.size } : null;
  } catch {
    return null;
  }
}

// A worker takes its Content-Security-Policy from the headers of its own script, not
// from the page's meta tag, so the worker's scripts are sent with the page's policy:
// its own files only, WebAssembly allowed, Trusted Types enforced (the loader's
// `eventscope-worker` policy admits the glue it imports). A static host should send
// the same header for these two files.
const WORKER_SCRIPTS = /eventscope-worker(_loader)?\.js$/;
const WORKER_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; " +
  "require-trusted-types-for 'script'; trusted-types eventscope-worker";

const server = createServer((request, response) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const { pathname } = new URL(request.url, 'http://localhost');
  // The bare sub-path without its slash would break relative URLs; redirect it.
  if (`${pathname}/` === base) {
    response.writeHead(301, { Location: base }).end();
    return;
  }
  const found = fileFor(pathname);
  if (!found) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  response.writeHead(200, {
    'Content-Type': TYPES[extname(found.file)] ?? 'application/octet-stream',
    'Content-Length': found.size,
    // index.html names the content-hashed files, so it must be revalidated; the
    // hashed files themselves never change.
    'Cache-Control': found.file.endsWith('.html') ? 'no-cache' : 'max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
    ...(WORKER_SCRIPTS.test(found.file) ? { 'Content-Security-Policy': WORKER_CSP } : {}),
  });
  if (request.method === 'HEAD') {
    response.end();
  } else {
    createReadStream(found.file).pipe(response);
  }
});

server.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`serving ${root} at http://${host}:${actual}${base}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
