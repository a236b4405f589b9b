// Starts the background worker (exports, import, share links): loads the wasm-bindgen
// glue Trunk writes for the worker, then its wasm, whose start function listens for
// jobs. The app creates this worker on first use (src/ui/worker.rs).
importScripts('./eventscope-worker.js');
wasm_bindgen({ module_or_path: './eventscope-worker_bg.wasm' });
