// Starts the background worker (exports, import, share links): loads the wasm-bindgen
// glue Trunk writes for the worker, then its wasm, whose start function listens for
// jobs. The app creates this worker on first use (src/ui/worker.rs).
//
// A worker has its own Content-Security-Policy, from the headers its script is served
// with (scripts/serve.mjs sends one that enforces Trusted Types, as the page's does).
// Under it `importScripts` takes only a trusted URL, so the glue's address goes
// through a policy that admits that one file beside this one and nothing else.
const policy = self.trustedTypes?.createPolicy('eventscope-worker', {
  createScriptURL(input) {
    const url = new URL(input, self.location.href);
    return url.origin === self.location.origin && url.pathname.endsWith('/eventscope-worker.js') ? url.href : null;
  },
});
importScripts(policy ? policy.createScriptURL('./eventscope-worker.js') : './eventscope-worker.js');
wasm_bindgen({ module_or_path: './eventscope-worker_bg.wasm' });
